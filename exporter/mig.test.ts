/**
 * A GPU in MIG mode from nvidia-smi's XML (a constructed document, see
 * test/fixtures/nvidia-smi/constructed-mig/README.md) through attribution to the exposition.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pipeTo } from '../test/cli.js';
import { buildAttribution } from './attribution/join.js';
import type { ProcessFacts } from './attribution/identity.js';
import { parseSmiXml } from './backends/nvidia-smi/xml.js';
import { renderExposition } from './exposition.js';

const MIB = 1_048_576;
const xml = readFileSync(new URL('../test/fixtures/nvidia-smi/constructed-mig/q-mig.xml', import.meta.url), 'utf8');
const UUID = 'GPU-46c48243-40b2-7121-5852-ddeebd67760c';
const L = `node="w0",gpu="0",uuid="${UUID}"`;

describe('a GPU in MIG mode', () => {
  const gpus = parseSmiXml(xml);

  it('is read with its MIG devices and the instance of each process; utilization is absent', () => {
    const [gpu] = gpus;
    expect(gpu?.migMode).toBe(true);
    expect(gpu).not.toHaveProperty('utilizationRatio');
    expect(gpu).not.toHaveProperty('memoryUtilizationRatio');
    expect(gpu?.migDevices).toEqual([
      { index: 0, gpuInstanceId: 1, computeInstanceId: 0, memoryTotalBytes: 40192 * MIB, memoryUsedBytes: 20230 * MIB },
      { index: 1, gpuInstanceId: 2, computeInstanceId: 0, memoryTotalBytes: 20096 * MIB, memoryUsedBytes: 13 * MIB },
    ]);
    expect(gpu?.processes).toEqual([{ pid: 633, name: 'python3', usedMemoryBytes: 20204 * MIB, gpuInstanceId: 1, computeInstanceId: 0 }]);
  });

  it('exports per-instance series and the instance on the process and job series', async () => {
    const facts = new Map<number, ProcessFacts>([
      [633, { cgroup: { containerId: 'c0ffee', runtime: 'docker' }, openPai: { job: 'alice~train', user: 'alice', vc: 'default' } }],
    ]);
    const attribution = buildAttribution(gpus, facts, []);
    const text = await renderExposition({ node: 'w0', version: '1', backend: 'nvidia-smi', sources: new Map(), gpus: { gpus }, attribution });
    expect(text).toContain(`gpuwatch_gpu_mig_mode{${L}} 1\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_info{${L},gpu_instance_id="1",compute_instance_id="0",mig_index="0",mig_uuid=""} 1\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_memory_used_bytes{${L},gpu_instance_id="2",compute_instance_id="0"} ${13 * MIB}\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_memory_total_bytes{${L},gpu_instance_id="1",compute_instance_id="0"} ${40192 * MIB}\n`);
    expect(text).toMatch(
      new RegExp(
        `gpuwatch_gpu_process_memory_used_bytes\\{${L},pid="633",job="alice~train",container="[^"]*",gpu_instance_id="1",compute_instance_id="0"\\} ${20204 * MIB}\\n`,
      ),
    );
    expect(text).toMatch(/gpuwatch_job_gpu_allocated\{[^}]*job="alice~train"[^}]*gpu_instance_id="1",compute_instance_id="0"\} 1\n/);
    expect(text).not.toMatch(/^gpuwatch_gpu_utilization_ratio\{/m);
    const check = await pipeTo('promtool', ['check', 'metrics'], text);
    expect(check.stdout + check.stderr).toBe('');
  });

  it('leaves the MIG labels off the process series of a GPU not in MIG mode', async () => {
    const plain = parseSmiXml(readFileSync(new URL('../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/q-busy.xml', import.meta.url), 'utf8'));
    const attribution = buildAttribution(plain, new Map(), []);
    const text = await renderExposition({ node: 'w0', version: '1', backend: 'nvidia-smi', sources: new Map(), gpus: { gpus: plain }, attribution });
    expect(text).toContain(`gpuwatch_gpu_mig_mode{${L}} 0\n`);
    expect(text).toContain(`gpuwatch_gpu_process_memory_used_bytes{${L},pid="633",job="unknown",container=""}`);
    expect(text).not.toContain('gpu_instance_id');
  });
});
