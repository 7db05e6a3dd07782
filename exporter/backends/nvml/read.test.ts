import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { recordedH100, type RecordedH100 } from '../../../test/fake-nvml/recorded-h100.js';
import { CLOCK_EVENT_REASONS, SourceError, type GpuSnapshot } from '../../types.js';
import { NvmlLibrary } from './bindings.js';
import { NvmlReturn, NvmlValueType } from './constants.js';
import { decodeFieldValue } from './decode.js';
import { NvmlBackend } from './index.js';
import { clockEventReasonsFromMask, readGpu } from './read.js';

let dir: string;
let fakeLibrary: string;
let oldDriverLibrary: string;
let recorded: RecordedH100;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-read-'));
  fakeLibrary = buildFakeNvml(dir, { fileName: 'libnvidia-ml-current.so' });
  oldDriverLibrary = buildFakeNvml(dir, { fileName: 'libnvidia-ml-old.so', oldDriver: true });
  recorded = recordedH100();
});

afterEach(() => clearFakeNvmlEnv());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the backend on a fake configured by `env`, collects once, and closes. */
async function collectOnce(
  libraryPath: string,
  env: Record<string, string | number> = {},
): Promise<{ snapshot: GpuSnapshot; errors: Array<[string, string]> }> {
  setFakeNvmlEnv(env);
  const errors: Array<[string, string]> = [];
  const backend = await NvmlBackend.open({
    libraryPath,
    watchXid: false,
    onError: (reason, message) => errors.push([reason, message]),
  });
  try {
    return { snapshot: await backend.collect(), errors };
  } finally {
    await backend.close();
  }
}

describe('readGpu on the recorded H100', () => {
  it('the fixture and NVML agree on which GPU was recorded', () => {
    expect(recorded.reading.uuid).toBe(recorded.nvmlUuid);
  });

  it('reads every field as recorded, in base units', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary);
    expect(errors).toEqual([]);
    expect(snapshot.gpus).toEqual([recorded.reading]);
    expect(snapshot.xid).toBeUndefined();
  });

  it('spot-checks the unit conversions against hand-worked values', async () => {
    const [gpu] = (await collectOnce(fakeLibrary)).snapshot.gpus;
    expect(gpu?.powerUsageWatts).toBe(699.5);
    expect(gpu?.energyJoules).toBeCloseTo(2465.456, 6);
    expect(gpu?.memoryTotalBytes).toBe(81559 * 1024 * 1024);
    expect(gpu?.smClockHertz).toBe(1.35e9);
    expect(gpu?.utilizationRatio).toBe(1);
    expect(gpu?.clockEventReasons?.sw_power_cap).toBe(true);
    expect(gpu?.clockEventReasons?.gpu_idle).toBe(false);
  });

  it('leaves retired pages absent on the H100 (NOT_SUPPORTED), not zero', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary);
    expect(snapshot.gpus[0]).not.toHaveProperty('retiredPages');
    expect(errors).toEqual([]);
  });

  it('counts retired pages where the GPU supports them', async () => {
    const { snapshot } = await collectOnce(fakeLibrary, { FAKE_NVML_RETIRED_PAGES: '3,1,1' });
    expect(snapshot.gpus[0]?.retiredPages).toEqual({ singleBit: 3, doubleBit: 1, pending: true });
  });

  it('reports uncorrected ECC errors', async () => {
    const { snapshot } = await collectOnce(fakeLibrary, { FAKE_NVML_ECC_UNCORRECTED: 2 });
    expect(snapshot.gpus[0]?.ecc).toEqual({
      correctedVolatile: 0,
      correctedAggregate: 0,
      uncorrectedVolatile: 2,
      uncorrectedAggregate: 2,
    });
  });
});

describe('absent and failing fields', () => {
  it('leaves NOT_SUPPORTED fields absent without reporting an error', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary, {
      FAKE_NVML_NOT_SUPPORTED: 'nvmlDeviceGetPowerUsage,nvmlDeviceGetTotalEccErrors,NVML_FI_DEV_MEMORY_TEMP',
    });
    const gpu = snapshot.gpus[0];
    expect(gpu).not.toHaveProperty('powerUsageWatts');
    expect(gpu).not.toHaveProperty('ecc');
    expect(gpu).not.toHaveProperty('memoryTemperatureCelsius');
    expect(gpu?.powerLimitWatts).toBe(recorded.reading.powerLimitWatts);
    expect(gpu?.temperatureCelsius).toBe(recorded.reading.temperatureCelsius);
    expect(errors).toEqual([]);
  });

  it('treats NO_PERMISSION as absent too', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary, {
      FAKE_NVML_FAIL: `nvmlDeviceGetRemappedRows:${NvmlReturn.NO_PERMISSION}`,
    });
    expect(snapshot.gpus[0]).not.toHaveProperty('remappedRows');
    expect(errors).toEqual([]);
  });

  it('reports other failures with reason "library" and keeps the rest of the GPU', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary, { FAKE_NVML_FAIL: 'nvmlDeviceGetClockInfo:20' });
    const gpu = snapshot.gpus[0];
    expect(gpu).not.toHaveProperty('smClockHertz');
    expect(gpu).not.toHaveProperty('memoryClockHertz');
    expect(gpu?.name).toBe(recorded.reading.name);
    expect(errors).toHaveLength(2);
    expect(errors[0]?.[0]).toBe('library');
    expect(errors[0]?.[1]).toMatch(/GPU 0: nvmlDeviceGetClockInfo failed: Insufficient Memory \(20\)/);
  });

  it.each([
    [NvmlReturn.RESET_REQUIRED, 'reset_required'],
    [NvmlReturn.NOT_READY, 'not_ready'],
    [NvmlReturn.UNKNOWN, 'unknown_error'],
  ])('reports a GPU answering %i in state %s, identity only, without an error per field', async (rc, state) => {
    const { snapshot, errors } = await collectOnce(fakeLibrary, { FAKE_NVML_GPUS: 2, FAKE_NVML_GPU_RC: `1:${rc}` });
    expect(errors).toEqual([]);
    expect(snapshot.gpus).toHaveLength(2);
    expect(snapshot.gpus[0]).not.toHaveProperty('state');
    expect(snapshot.gpus[0]?.utilizationRatio).toBe(recorded.reading.utilizationRatio);
    const { uuid, name, busId, driverVersion } = snapshot.gpus[1]!;
    expect(snapshot.gpus[1]).toEqual({ index: 1, uuid, name, busId, driverVersion, state });
    expect(name).toBe(recorded.reading.name);
  });

  it('throws SourceError("unavailable") when the GPU is lost', async () => {
    setFakeNvmlEnv({ FAKE_NVML_LOST_GPU: 0 });
    const nvml = NvmlLibrary.load(fakeLibrary);
    expect(nvml.init()).toBe(NvmlReturn.SUCCESS);
    try {
      const handle = nvml.handleByIndex(0).value;
      expect(handle).toBeTypeOf('bigint');
      const read = () => readGpu(nvml, handle ?? 0n, 0);
      expect(read).toThrow(SourceError);
      expect(read).toThrow(/GPU 0 is lost/);
      try {
        read();
      } catch (error) {
        expect((error as SourceError).reason).toBe('unavailable');
      }
    } finally {
      nvml.shutdown();
    }
  });
});

describe('fallbacks to deprecated calls', () => {
  it('the old-driver build really lacks the newer symbols', () => {
    const old = NvmlLibrary.load(oldDriverLibrary);
    const current = NvmlLibrary.load(fakeLibrary);
    const newer = ['nvmlDeviceGetTemperatureV', 'nvmlDeviceGetMemoryInfo_v2', 'nvmlDeviceGetCurrentClocksEventReasons'] as const;
    for (const name of newer) {
      expect(old.has(name)).toBe(false);
      expect(current.has(name)).toBe(true);
    }
  });

  it('reads temperature, memory and clock event reasons through the older calls when symbols are missing', async () => {
    const { snapshot, errors } = await collectOnce(oldDriverLibrary);
    expect(errors).toEqual([]);
    // The v1 memory call has no reserved figure.
    const { memoryReservedBytes: _reserved, ...withoutReserved } = recorded.reading;
    expect(snapshot.gpus[0]).toEqual({ ...withoutReserved, memoryUsedBytes: recorded.memoryUsedBytesV1 });
  });

  it('falls back when a newer call answers FUNCTION_NOT_FOUND', async () => {
    const { snapshot, errors } = await collectOnce(fakeLibrary, {
      FAKE_NVML_FAIL: 'nvmlDeviceGetTemperatureV:13,nvmlDeviceGetMemoryInfo_v2:13',
    });
    expect(errors).toEqual([]);
    expect(snapshot.gpus[0]?.temperatureCelsius).toBe(recorded.reading.temperatureCelsius);
    expect(snapshot.gpus[0]?.memoryUsedBytes).toBe(recorded.memoryUsedBytesV1);
  });
});

describe('pure decoders', () => {
  it('maps every clock event reason bit', () => {
    expect(Object.values(clockEventReasonsFromMask(0x1ff)).every(Boolean)).toBe(true);
    expect(Object.values(clockEventReasonsFromMask(0)).some(Boolean)).toBe(false);
    const mixed = clockEventReasonsFromMask(0x44);
    const active = CLOCK_EVENT_REASONS.filter((reason) => mixed[reason]);
    expect(active).toEqual(['sw_power_cap', 'hw_thermal_slowdown']);
  });

  it('decodes field values by their type tag', () => {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, 41.5, true);
    expect(decodeFieldValue(NvmlValueType.DOUBLE, bytes)).toBe(41.5);
    view.setBigUint64(0, 0n, true);
    view.setInt32(0, -7, true);
    expect(decodeFieldValue(NvmlValueType.SIGNED_INT, bytes)).toBe(-7);
    expect(decodeFieldValue(NvmlValueType.UNSIGNED_INT, bytes)).toBe(0xfffffff9);
    expect(decodeFieldValue(42, bytes)).toBeUndefined();
  });
});
