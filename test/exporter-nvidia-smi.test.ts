/**
 * The nvidia-smi backend through the real CLI, against a stand-in nvidia-smi that answers from the
 * recorded H100 output (test/fake-nvidia-smi): the streamed --query-gpu fields and the slower -q -x
 * fields are merged into one GPU, and promtool accepts the result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { pipeTo, ROOT } from './cli.js';

const FAKE = join(ROOT, 'test/fake-nvidia-smi/nvidia-smi.mjs');
let exporter: ChildProcess | undefined;
afterEach(() => {
  exporter?.kill('SIGKILL');
});

describe('exporter --backend nvidia-smi', () => {
  it('merges the streamed query with -q -x and exports the recorded busy GPU', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-smi-'));
    const config = join(dir, 'gpuwatch.yaml');
    await writeFile(join(dir, 'layout.yaml'), 'machine-sku:\n  g: {computing-device: {type: nvidia.com/gpu, count: 1}}\nmachine-list:\n  - {hostname: w0, hostip: 10.0.0.1, machine-type: g}\n');
    // An empty /proc: the recorded pids are nobody on this machine, so their job is always "unknown"
    // (a live process that happens to have the same pid would otherwise change the answer).
    await mkdir(join(dir, 'proc'));
    await writeFile(
      config,
      `clusters: [{name: c, layout: layout.yaml}]\nexporter:\n  backend: nvidia-smi\n  nvidiaSmi: ${FAKE}\n  listen: 127.0.0.1:0\n  node: w0\n  interval: 500ms\n  slowInterval: 2s\n  hostMetrics: false\n  procRoot: ${join(dir, 'proc')}\n`,
    );
    exporter = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'exporter', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    exporter.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    let body = '';
    const l = 'node="w0",gpu="0",uuid="GPU-965f6752-50c3-d610-d7ce-6a93e5f52882"';
    for (let i = 0; i < 100 && !body.includes(`gpuwatch_gpu_utilization_ratio{${l}} 0.99`); i++) {
      await sleep(100);
      const url = /"url":"([^"]+)"/.exec(log)?.[1];
      if (url) body = await (await fetch(`${url}/metrics`)).text();
    }
    // From the streamed --query-gpu line (the -q -x recording says 100 %):
    expect(body).toContain(`gpuwatch_gpu_utilization_ratio{${l}} 0.99\n`);
    expect(body).toContain(`gpuwatch_gpu_power_usage_watts{${l}} 691.1\n`);
    expect(body).toContain(`gpuwatch_gpu_memory_used_bytes{${l}} ${12457 * 1048576}\n`);
    // Only -q -x lists processes; pid 408 of the recording is not a process of this machine:
    expect(body).toContain(`gpuwatch_gpu_process_memory_used_bytes{${l},pid="408",job="unknown",container=""} ${12448 * 1048576}\n`);
    expect(body).toContain(`gpuwatch_gpu_external_processes{${l}} 0\n`);
    expect(body).toContain('gpuwatch_node_gpus{node="w0"} 1\n');
    expect(body).toContain('gpuwatch_exporter_build_info{node="w0",version="0.1.0",backend="nvidia-smi"} 1');
    expect(body).not.toContain('gpuwatch_exporter_collection_errors_total');
    const check = await pipeTo('promtool', ['check', 'metrics'], body);
    expect(check.stdout + check.stderr).toBe('');
  });
});
