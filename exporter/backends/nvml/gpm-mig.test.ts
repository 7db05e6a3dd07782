/**
 * Per-MIG-instance utilization through NVML GPM, read from the fake libnvidia-ml and exported by
 * the real collector (so the impossible-value check applies, as on a node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { pipeTo } from '../../../test/cli.js';
import { Collector } from '../../collector.js';
import { NvmlBackend } from './index.js';

const UUID = 'GPU-46c48243-40b2-7121-5852-ddeebd67760c';
const L = `node="w0",gpu="0",uuid="${UUID}"`;
const TWO_INSTANCES = '1:0:40000:20204,2:0:20000:0';

let dir: string;
let current: string;
let r470: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-gpm-'));
  current = buildFakeNvml(dir, { fileName: 'libnvidia-ml-current.so' });
  r470 = buildFakeNvml(dir, { fileName: 'libnvidia-ml-r470.so', oldDriver: true });
});
afterEach(() => clearFakeNvmlEnv());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the backend on `env`, collects `times` times and returns every snapshot and field error. */
async function collect(libraryPath: string, env: Record<string, string>, times: number) {
  setFakeNvmlEnv(env);
  const errors: string[] = [];
  const backend = await NvmlBackend.open({ libraryPath, watchXid: false, onError: (_reason, message) => errors.push(message) });
  try {
    const snapshots = [];
    for (let i = 0; i < times; i++) snapshots.push(await backend.collect());
    return { gpus: snapshots.map((s) => s.gpus[0]!), errors };
  } finally {
    await backend.close();
  }
}

/** The exposition after `times` collections through the exporter's collector. */
async function exposition(env: Record<string, string>, times: number): Promise<string> {
  setFakeNvmlEnv(env);
  const backend = await NvmlBackend.open({ libraryPath: current, watchXid: false });
  const collector = new Collector({ node: 'w0', version: '1', backend, intervalMs: 1000, timeoutMs: 5000, log: pino({ level: 'silent' }) });
  try {
    for (let i = 0; i < times; i++) await collector.collectOnce();
    return collector.exposition;
  } finally {
    await backend.close();
  }
}

describe('MIG instance utilization through GPM', () => {
  it('is read per GPU instance between two collections, as ratios', async () => {
    const { gpus, errors } = await collect(current, { FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_MIG_UTIL: '1:3:2,2:95:60' }, 3);
    expect(errors).toEqual([]);
    expect(gpus[0]).not.toHaveProperty('migInstanceUtilization'); // no earlier sample yet
    const expected = [
      { gpuInstanceId: 1, utilizationRatio: 0.03, smUtilizationRatio: 0.02 },
      { gpuInstanceId: 2, utilizationRatio: 0.95, smUtilizationRatio: 0.6 },
    ];
    expect(gpus[1]?.migInstanceUtilization).toEqual(expected);
    expect(gpus[2]?.migInstanceUtilization).toEqual(expected);
    expect(gpus[1]).not.toHaveProperty('utilizationRatio');
  });

  it('one series per GPU instance, not per compute instance, and promtool accepts the exposition', async () => {
    const text = await exposition({ FAKE_NVML_MIG: `${TWO_INSTANCES},2:1:20000:0`, FAKE_NVML_MIG_UTIL: '1:3:2,2:95:60' }, 2);
    expect(text).toContain(`gpuwatch_gpu_mig_utilization_ratio{${L},gpu_instance_id="1"} 0.03\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_utilization_ratio{${L},gpu_instance_id="2"} 0.95\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_sm_utilization_ratio{${L},gpu_instance_id="2"} 0.6\n`);
    expect(text.match(/^gpuwatch_gpu_mig_utilization_ratio\{/gm)).toHaveLength(2);
    const check = await pipeTo('promtool', ['check', 'metrics'], text);
    expect(check.stdout + check.stderr).toBe('');
  });

  it('drops and counts a value outside 0..1, keeping the other metric of the instance', async () => {
    const text = await exposition({ FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_MIG_UTIL: '1:150:40,2:10:5' }, 2);
    expect(text).not.toContain(`gpuwatch_gpu_mig_utilization_ratio{${L},gpu_instance_id="1"}`);
    expect(text).toContain(`gpuwatch_gpu_mig_sm_utilization_ratio{${L},gpu_instance_id="1"} 0.4\n`);
    expect(text).toContain(`gpuwatch_gpu_mig_utilization_ratio{${L},gpu_instance_id="2"} 0.1\n`);
    expect(text).toContain('gpuwatch_exporter_invalid_values_total{node="w0",metric="gpuwatch_gpu_mig_utilization_ratio"} 1\n');
  });

  it('is absent, never 0, on a GPU without GPM support; the rest of MIG is read as before', async () => {
    const { gpus, errors } = await collect(current, { FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_MIG_UTIL: '1:3:2', FAKE_NVML_GPM: '0' }, 2);
    expect(errors).toEqual([]);
    for (const gpu of gpus) expect(gpu).not.toHaveProperty('migInstanceUtilization');
    expect(gpus[1]?.migDevices).toHaveLength(2);
  });

  it('is absent on a driver without the GPM calls (R470)', async () => {
    const { gpus, errors } = await collect(r470, { FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_MIG_UTIL: '1:3:2' }, 2);
    expect(errors).toEqual([]);
    for (const gpu of gpus) expect(gpu).not.toHaveProperty('migInstanceUtilization');
    expect(gpus[1]?.migMode).toBe(true);
  });

  it('is absent on a GPU not in MIG mode', async () => {
    const { gpus, errors } = await collect(current, {}, 2);
    expect(errors).toEqual([]);
    expect(gpus[1]).not.toHaveProperty('migInstanceUtilization');
    expect(gpus[1]?.utilizationRatio).toBe(1);
  });

  it('keeps one sample per instance, frees those of a destroyed instance, and starts a new one afresh', async () => {
    // At most 3 live samples: the two kept ones and the one being taken. A leak fails the allocation.
    setFakeNvmlEnv({ FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_MIG_UTIL: '1:3:2,2:95:60,3:40:30', FAKE_NVML_GPM_MAX_SAMPLES: 3 });
    const errors: string[] = [];
    const backend = await NvmlBackend.open({ libraryPath: current, watchXid: false, onError: (_reason, message) => errors.push(message) });
    const instances = async () => (await backend.collect()).gpus[0]?.migInstanceUtilization?.map((u) => [u.gpuInstanceId, u.utilizationRatio]);
    try {
      for (let i = 0; i < 4; i++) await backend.collect();
      expect(await instances()).toEqual([
        [1, 0.03],
        [2, 0.95],
      ]);
      process.env.FAKE_NVML_MIG = '1:0:40000:20204,3:0:20000:0'; // instance 2 destroyed, 3 created
      expect(await instances()).toEqual([[1, 0.03]]);
      expect(await instances()).toEqual([
        [1, 0.03],
        [3, 0.4],
      ]);
      expect(await instances()).toEqual([
        [1, 0.03],
        [3, 0.4],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it('reports a failing metrics call as a field error and leaves the values absent', async () => {
    const { gpus, errors } = await collect(current, { FAKE_NVML_MIG: TWO_INSTANCES, FAKE_NVML_FAIL: 'nvmlGpmMetricsGet:20' }, 2);
    expect(gpus[1]).not.toHaveProperty('migInstanceUtilization');
    expect(errors).toEqual([expect.stringContaining('nvmlGpmMetricsGet failed'), expect.stringContaining('nvmlGpmMetricsGet failed')]);
  });
});
