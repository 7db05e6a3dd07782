/**
 * The nvidia-smi backend through the real CLI, against a stand-in nvidia-smi that answers from the
 * recorded H100 output (test/fake-nvidia-smi): the streamed --query-gpu fields, the slower -q -x
 * fields and the NVLink counters of `nvidia-smi nvlink` are merged into one GPU, and promtool
 * accepts the result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { pipeTo, ROOT, runCli } from './cli.js';

const FAKE = join(ROOT, 'test/fake-nvidia-smi/nvidia-smi.mjs');
const KIB = 1024;
const l = 'node="w0",gpu="0",uuid="GPU-965f6752-50c3-d610-d7ce-6a93e5f52882"';
let exporter: ChildProcess | undefined;
afterEach(() => {
  exporter?.kill('SIGKILL');
});

/** A config for node w0 (one GPU) reading the fake nvidia-smi; returns its path. */
async function writeConfig(slowInterval: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-smi-'));
  const config = join(dir, 'gpuwatch.yaml');
  await writeFile(
    join(dir, 'layout.yaml'),
    'machine-sku:\n  g: {computing-device: {type: nvidia.com/gpu, count: 1}}\nmachine-list:\n  - {hostname: w0, hostip: 10.0.0.1, machine-type: g}\n',
  );
  // An empty /proc: the recorded pids are nobody on this machine, so their job is always "unknown"
  // (a live process that happens to have the same pid would otherwise change the answer).
  await mkdir(join(dir, 'proc'));
  await writeFile(
    config,
    `clusters: [{name: c, layout: layout.yaml}]\nexporter:\n  backend: nvidia-smi\n  nvidiaSmi: ${FAKE}\n  listen: 127.0.0.1:0\n  node: w0\n  interval: 500ms\n  slowInterval: ${slowInterval}\n  hostMetrics: false\n  procRoot: ${join(dir, 'proc')}\n`,
  );
  return config;
}

/** Starts the exporter and scrapes it until `ready` accepts the body (bounded); returns body and log. */
async function scrapeUntil(config: string, env: NodeJS.ProcessEnv, ready: (body: string) => boolean) {
  exporter = spawn(process.execPath, ['--import', 'tsx', 'cli/gpuwatch.ts', 'exporter', '--config', config], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const out = { body: '', log: '' };
  exporter.stderr?.on('data', (c: Buffer) => (out.log += c.toString()));
  for (let i = 0; i < 150 && !ready(out.body); i++) {
    await sleep(100);
    const url = /"url":"([^"]+)"/.exec(out.log)?.[1];
    if (url) out.body = await (await fetch(`${url}/metrics`)).text();
  }
  return out;
}

const nvlinkLines = (body: string) => body.split('\n').filter((line) => line.startsWith('gpuwatch_gpu_nvlink_'));

describe('exporter --backend nvidia-smi', () => {
  it('merges the streamed query with -q -x and the NVLink counters, and exports the recorded busy GPU', async () => {
    const config = await writeConfig('2s');
    const { body } = await scrapeUntil(config, {}, (b) => b.includes(`gpuwatch_gpu_utilization_ratio{${l}} 0.99`));
    // From the streamed --query-gpu line (the -q -x recording says 100 %):
    expect(body).toContain(`gpuwatch_gpu_utilization_ratio{${l}} 0.99\n`);
    expect(body).toContain(`gpuwatch_gpu_power_usage_watts{${l}} 691.1\n`);
    expect(body).toContain(`gpuwatch_gpu_memory_used_bytes{${l}} ${12457 * 1048576}\n`);
    // Only -q -x lists processes; pid 408 of the recording is not a process of this machine:
    expect(body).toContain(`gpuwatch_gpu_process_memory_used_bytes{${l},pid="408",job="unknown",container=""} ${12448 * 1048576}\n`);
    expect(body).toContain(`gpuwatch_gpu_external_processes{${l}} 0\n`);
    // Only `nvidia-smi nvlink` has these: 18 links, three error types each, and the data counters.
    expect(body).toContain(`gpuwatch_gpu_nvlink_errors_total{${l},link="0",type="replay"} 0\n`);
    expect(body).toContain(`gpuwatch_gpu_nvlink_transmit_bytes_total{${l},link="17"} ${(5863784 + 317 * 17) * KIB}\n`);
    expect(body).toContain(`gpuwatch_gpu_nvlink_receive_bytes_total{${l},link="17"} ${(5862999 + 211 * 17) * KIB}\n`);
    expect(nvlinkLines(body).filter((line) => line.startsWith('gpuwatch_gpu_nvlink_errors_total{'))).toHaveLength(18 * 3);
    expect(body).not.toContain('type="crc_data"');
    expect(body).toContain('gpuwatch_node_gpus{node="w0"} 1\n');
    expect(body).toContain('gpuwatch_exporter_build_info{node="w0",version="0.1.0",backend="nvidia-smi"} 1');
    expect(body).not.toContain('gpuwatch_exporter_collection_errors_total');
    const check = await pipeTo('promtool', ['check', 'metrics'], body);
    expect(check.stdout + check.stderr).toBe('');
  });

  it('--once prints the NVLink counters, and promtool accepts the output', async () => {
    const { code, stdout, stderr } = await runCli(['exporter', '--config', await writeConfig('2s'), '--once']);
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(nvlinkLines(stdout)).toContain(`gpuwatch_gpu_nvlink_errors_total{${l},link="5",type="crc_flit"} 0`);
    expect(nvlinkLines(stdout).length).toBe(18 * 5);
    const check = await pipeTo('promtool', ['check', 'metrics'], stdout);
    expect(check.stdout + check.stderr).toBe('');
  });

  it('a failing nvlink command keeps the GPU readings; every failure is counted, one is logged', async () => {
    const config = await writeConfig('300ms');
    const failures = (b: string) =>
      Number(/^gpuwatch_exporter_collection_errors_total\{node="w0",source="nvidia-smi",reason="exit"\} (\d+)$/m.exec(b)?.[1] ?? 0);
    const { body, log } = await scrapeUntil(
      config,
      { FAKE_NVIDIA_SMI_NVLINK: 'fail' },
      (b) => failures(b) >= 3 && b.includes(`gpuwatch_gpu_utilization_ratio{${l}} 0.99`),
    );
    expect(failures(body)).toBeGreaterThanOrEqual(3);
    expect(log.match(/cannot read the NVLink counters/g)).toHaveLength(1);
    expect(body).toContain(`gpuwatch_gpu_power_usage_watts{${l}} 691.1\n`);
    expect(body).toContain('gpuwatch_exporter_source_up{node="w0",source="gpu"} 1\n');
    expect(nvlinkLines(body)).toEqual([]);
  });
});
