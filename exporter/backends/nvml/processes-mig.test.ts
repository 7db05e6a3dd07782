import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import type { GpuSnapshot } from '../../types.js';
import { NvmlLibrary } from './bindings.js';
import { NvmlBackend } from './index.js';

const MIB = 1024 * 1024;
const RECORDED_PROCESS = { pid: 633, name: 'python3', usedMemoryBytes: 20204 * MIB };

let dir: string;
let current: string;
let r470: string;
let beforeR450: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-processes-'));
  current = buildFakeNvml(dir, { fileName: 'libnvidia-ml-current.so' });
  r470 = buildFakeNvml(dir, { fileName: 'libnvidia-ml-r470.so', oldDriver: true });
  beforeR450 = buildFakeNvml(dir, { fileName: 'libnvidia-ml-r440.so', processV1Only: true });
});
afterEach(() => clearFakeNvmlEnv());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collectOnce(libraryPath: string, env: Record<string, string | number> = {}) {
  setFakeNvmlEnv(env);
  const errors: Array<[string, string]> = [];
  const backend = await NvmlBackend.open({ libraryPath, watchXid: false, onError: (r, m) => errors.push([r, m]) });
  try {
    const snapshot: GpuSnapshot = await backend.collect();
    return { gpu: snapshot.gpus[0]!, errors };
  } finally {
    await backend.close();
  }
}

describe('process lists on old drivers', () => {
  it('the fakes lack the calls their drivers lack', () => {
    const has = (path: string, name: Parameters<NvmlLibrary['has']>[0]) => NvmlLibrary.load(path).has(name);
    expect(has(r470, 'nvmlDeviceGetComputeRunningProcesses_v3')).toBe(false);
    expect(has(r470, 'nvmlDeviceGetComputeRunningProcesses_v2')).toBe(true);
    expect(has(beforeR450, 'nvmlDeviceGetComputeRunningProcesses_v2')).toBe(false);
    expect(has(beforeR450, 'nvmlDeviceGetComputeRunningProcesses')).toBe(true);
  });

  it('reads processes through the _v2 calls on an R470 driver', async () => {
    const { gpu, errors } = await collectOnce(r470);
    expect(errors).toEqual([]);
    expect(gpu.processes).toEqual([RECORDED_PROCESS]);
  });

  it('reads processes through the unversioned calls (16-byte entries) before R450', async () => {
    const { gpu, errors } = await collectOnce(beforeR450, { FAKE_NVML_GRAPHICS_PROCESS: '900:512' });
    expect(errors).toEqual([]);
    expect(gpu.processes).toEqual([RECORDED_PROCESS, { pid: 900, usedMemoryBytes: 512 * MIB }]);
  });
});

describe('graphics and MPS processes', () => {
  it('are listed with the compute processes, as nvidia-smi lists them', async () => {
    const { gpu } = await collectOnce(current, { FAKE_NVML_GRAPHICS_PROCESS: '900:512' });
    expect(gpu.processes).toEqual([RECORDED_PROCESS, { pid: 900, usedMemoryBytes: 512 * MIB }]);
  });

  it('leave the list as it is when a driver has no graphics or MPS calls for this GPU', async () => {
    const { gpu, errors } = await collectOnce(current, {
      FAKE_NVML_NOT_SUPPORTED: 'nvmlDeviceGetGraphicsRunningProcesses_v3,nvmlDeviceGetMPSComputeRunningProcesses_v3',
    });
    expect(errors).toEqual([]);
    expect(gpu.processes).toEqual([RECORDED_PROCESS]);
  });
});

describe('MIG', () => {
  it('reports MIG mode off on the recorded H100', async () => {
    const { gpu } = await collectOnce(current);
    expect(gpu.migMode).toBe(false);
    expect(gpu).not.toHaveProperty('migDevices');
  });

  it('reads each MIG device, and the instance a process runs in; utilization stays absent', async () => {
    const { gpu, errors } = await collectOnce(current, { FAKE_NVML_MIG: '1:0:40000:20204,2:0:20000:0' });
    expect(errors).toEqual([]);
    expect(gpu.migMode).toBe(true);
    expect(gpu).not.toHaveProperty('utilizationRatio');
    expect(gpu.migDevices).toEqual([
      {
        index: 0,
        gpuInstanceId: 1,
        computeInstanceId: 0,
        uuid: 'MIG-0c8e6a4b-5c3d-5f1e-9a2b-000000000000',
        memoryTotalBytes: 40000 * MIB,
        memoryUsedBytes: 20204 * MIB,
      },
      { index: 1, gpuInstanceId: 2, computeInstanceId: 0, uuid: 'MIG-0c8e6a4b-5c3d-5f1e-9a2b-000000000001', memoryTotalBytes: 20000 * MIB, memoryUsedBytes: 0 },
    ]);
    expect(gpu.processes).toEqual([{ ...RECORDED_PROCESS, gpuInstanceId: 1, computeInstanceId: 0 }]);
  });
});
