import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeTo, runCli } from './cli.js';

const FIXTURES = 'test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580';

describe('gpuwatch exporter --once', () => {
  it('prints an exposition of the example cluster that promtool accepts', async () => {
    const { code, stdout, stderr } = await runCli(['exporter', '--config', 'examples/gpuwatch.yaml', '--once']);
    expect(stderr).not.toMatch(/"level":(50|60)/);
    expect(code).toBe(0);
    expect(stdout).toContain('gpuwatch_node_gpus{node="pai-worker-2"} 4');
    expect(stdout).toContain('gpuwatch_node_expected_gpus{node="pai-worker-2"} 4');
    expect(stdout).toMatch(
      /gpuwatch_job_gpu_allocated\{node="pai-worker-2",gpu="0",uuid="GPU-[0-9a-f-]+",job="alice~bert-large",user="alice",vc="nlp",priority="prod",pod="",namespace=""\} 1/,
    );
    expect(stdout).toMatch(/gpuwatch_job_start_time_seconds\{node="pai-worker-2",job="bob~resnet50",user="bob",vc="default",priority="oppo"\} \d+/);
    const check = await pipeTo('promtool', ['check', 'metrics'], stdout);
    expect(check.stderr + check.stdout).toBe('');
    expect(check.code).toBe(0);
  });

  it('exports every recorded field of the busy H100 in base units, and N/A as absent', async () => {
    const { code, stdout } = await runCli(['exporter', '--replay', `${FIXTURES}/q-busy.xml`, '--node', 'n1', '--once']);
    expect(code).toBe(0);
    const l = 'node="n1",gpu="0",uuid="GPU-46c48243-40b2-7121-5852-ddeebd67760c"';
    expect(stdout).toContain(`gpuwatch_gpu_utilization_ratio{${l}} 1\n`);
    expect(stdout).toContain(`gpuwatch_gpu_memory_total_bytes{${l}} ${81559 * 1048576}\n`);
    expect(stdout).toContain(`gpuwatch_gpu_temperature_celsius{${l}} 55\n`);
    expect(stdout).toContain(`gpuwatch_gpu_memory_temperature_celsius{${l}} 46\n`);
    expect(stdout).toContain(`gpuwatch_gpu_power_usage_watts{${l}} 699.5\n`);
    expect(stdout).toContain(`gpuwatch_gpu_sm_clock_hertz{${l}} 1350000000\n`);
    expect(stdout).toContain(`gpuwatch_gpu_clock_event_active{${l},reason="sw_power_cap"} 1\n`);
    expect(stdout).toContain(`gpuwatch_gpu_ecc_errors_total{${l},type="uncorrected",scope="aggregate"} 0\n`);
    expect(stdout).toContain(`gpuwatch_gpu_remapped_rows_total{${l},cause="correctable"} 0\n`);
    expect(stdout).toContain(`gpuwatch_gpu_process_memory_used_bytes{${l},pid="633",job="external",container=""} ${20204 * 1048576}\n`);
    expect(stdout).toContain(`gpuwatch_gpu_external_processes{${l}} 1\n`);
    // H100 reports retired pages as N/A: no series at all, never 0.
    expect(stdout).not.toContain('gpuwatch_gpu_retired_pages_total{');
  });

  it('exits 2 with file, line and field on a bad config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-cli-'));
    const file = join(dir, 'gpuwatch.yaml');
    await writeFile(file, 'clusters:\n  - name: c1\n    layout: layout.yaml\n');
    const { code, stderr } = await runCli(['exporter', '--config', file, '--once']);
    expect(code).toBe(2);
    expect(stderr).toContain(`${join(dir, 'layout.yaml')}: file not found`);
  });

  it('exits 2 on a bad flag and names it', async () => {
    const { code, stderr } = await runCli(['exporter', '--backend', 'cuda', '--once']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/argument 'cuda' is invalid/);
  });

  it('says clearly that no GPU source exists on a machine without one', async () => {
    const { code, stderr } = await runCli(['exporter', '--once'], { env: { PATH: '/nonexistent' } });
    expect(code).toBe(1);
    expect(stderr).toMatch(/no GPU source found .*use --backend replay --replay FILE/);
  });
});
