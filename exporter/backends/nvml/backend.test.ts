import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { recordedH100 } from '../../../test/fake-nvml/recorded-h100.js';
import { SourceError, type XidCounts } from '../../types.js';
import { NvmlBackend, measureReadCost, type NvmlBackendOptions } from './index.js';
import { withTimerDue } from '../../../src/testing/event-order.js';

let dir: string;
let fakeLibrary: string;
const opened: NvmlBackend[] = [];
const recordedUuid = recordedH100().reading.uuid;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-backend-'));
  fakeLibrary = buildFakeNvml(dir);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.close()));
  clearFakeNvmlEnv();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens the backend on the fake configured by `env`; closed after each test. */
async function open(env: Record<string, string | number>, options: NvmlBackendOptions = {}): Promise<NvmlBackend> {
  setFakeNvmlEnv(env);
  const backend = await NvmlBackend.open({ libraryPath: fakeLibrary, xidWaitTimeoutMs: 100, ...options });
  opened.push(backend);
  return backend;
}

async function openError(options: NvmlBackendOptions): Promise<SourceError> {
  const error: unknown = await NvmlBackend.open(options).then(
    (backend) => {
      opened.push(backend);
      return undefined;
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('opening', () => {
  it('fails with SourceError("library") when the library does not exist', async () => {
    const error = await openError({ libraryPath: join(dir, 'no-such-libnvidia-ml.so.1') });
    expect(error.reason).toBe('library');
    expect(error.message).toContain('no-such-libnvidia-ml.so.1');
  });

  it('fails with SourceError("library") for a library that is not NVML', async () => {
    const error = await openError({ libraryPath: 'libc.so.6' });
    expect(error.reason).toBe('library');
    expect(error.message).toMatch(/does not export nvmlInit_v2/);
  });

  it('fails with SourceError("library") when nvmlInit fails', async () => {
    setFakeNvmlEnv({ FAKE_NVML_INIT_RC: 9 });
    const error = await openError({ libraryPath: fakeLibrary });
    expect(error.reason).toBe('library');
    expect(error.message).toMatch(/nvmlInit_v2 failed .*Driver Not Loaded \(9\)/);
  });
});

describe('enumeration', () => {
  it('reads 8 GPUs in index order with distinct identities', async () => {
    const backend = await open({ FAKE_NVML_GPUS: 8 }, { watchXid: false });
    const { gpus } = await backend.collect();
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((gpu) => gpu.uuid)).size).toBe(8);
    expect(new Set(gpus.map((gpu) => gpu.busId)).size).toBe(8);
    expect(gpus[0]?.uuid).toBe(recordedUuid);
    expect(gpus.every((gpu) => gpu.name === 'NVIDIA H100 80GB HBM3')).toBe(true);
  });

  it('re-enumerates when the GPU count changes', async () => {
    const backend = await open({ FAKE_NVML_GPUS: 2 }, { watchXid: false });
    expect((await backend.collect()).gpus).toHaveLength(2);
    process.env.FAKE_NVML_GPUS = '3';
    const grown = await backend.collect();
    expect(grown.gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2]);
    process.env.FAKE_NVML_GPUS = '1';
    expect((await backend.collect()).gpus.map((gpu) => gpu.uuid)).toEqual([recordedUuid]);
  });

  it('leaves a lost GPU out, reports it as "unavailable", and keeps the others', async () => {
    const errors: Array<[string, string]> = [];
    const backend = await open({ FAKE_NVML_GPUS: 3, FAKE_NVML_LOST_GPU: 1 }, { watchXid: false, onError: (reason, message) => errors.push([reason, message]) });
    const { gpus } = await backend.collect();
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 2]);
    expect(errors).toEqual([['unavailable', expect.stringMatching(/GPU 1 is lost/)]]);
  });

  it('rejects the collection when every GPU is lost', async () => {
    const backend = await open({ FAKE_NVML_GPUS: 1, FAKE_NVML_LOST_GPU: 0 }, { watchXid: false });
    await expect(backend.collect()).rejects.toMatchObject({ name: 'SourceError', reason: 'unavailable' });
  });
});

describe('XID events', () => {
  it('counts XID events per GPU', async () => {
    const backend = await open({ FAKE_NVML_GPUS: 2, FAKE_NVML_XID: 79, FAKE_NVML_XID_GPU: 1, FAKE_NVML_XID_INTERVAL_MS: 250 }, { xidWaitTimeoutMs: 1000 });
    const uuid = (await backend.collect()).gpus[1]?.uuid ?? '';
    let xid: XidCounts | undefined;
    // Waits for three events (~0.75 s); the bound only keeps a broken watch from hanging the test.
    for (let attempt = 0; attempt < 200; attempt++) {
      xid = (await backend.collect()).xid;
      if ((xid?.get(uuid)?.get(79) ?? 0) >= 3) break;
      await sleep(50);
    }
    expect(xid?.get(uuid)).toBeInstanceOf(Map);
    expect(xid?.get(uuid)?.get(79)).toBeGreaterThanOrEqual(3);
    expect([...(xid?.keys() ?? [])]).toEqual([uuid]);
  });

  it('answers collections while an event wait is blocked in the library', async () => {
    // No events come, so each wait lasts its whole timeout. A wait that held the worker would
    // hold these collections past their timeout, which is half the wait's.
    const backend = await open({}, { xidWaitTimeoutMs: 2_000, timeoutMs: 1_000 });
    for (let i = 0; i < 3; i++) expect((await backend.collect()).gpus).toHaveLength(1);
  });

  it('hands out snapshots that later events do not change', async () => {
    const backend = await open({ FAKE_NVML_XID: 48, FAKE_NVML_XID_INTERVAL_MS: 20 });
    const first = (await backend.collect()).xid;
    const before = first?.get(recordedUuid)?.get(48) ?? 0;
    let after = before;
    for (let attempt = 0; attempt < 400 && after <= before; attempt++) {
      await sleep(25);
      after = (await backend.collect()).xid?.get(recordedUuid)?.get(48) ?? 0;
    }
    expect(after).toBeGreaterThan(before);
    expect(first?.get(recordedUuid)?.get(48) ?? 0).toBe(before);
  });

  it('reports zero counts (an empty map) when events are watched but none came', async () => {
    const backend = await open({});
    const { xid } = await backend.collect();
    expect(xid).toBeInstanceOf(Map); // copied from the worker thread as a Map, not a plain object
    expect(xid).toEqual(new Map());
  });

  it('reports no XID counts at all where the GPU cannot deliver events', async () => {
    const errors: string[] = [];
    const backend = await open({ FAKE_NVML_NOT_SUPPORTED: 'nvmlDeviceRegisterEvents' }, { onError: (_reason, message) => errors.push(message) });
    const snapshot = await backend.collect();
    expect(snapshot).not.toHaveProperty('xid');
    expect(snapshot.gpus).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});

describe('closing', () => {
  it('ends the event wait, so the worker stops on its own, and refuses to collect afterwards', async () => {
    const backend = await open({}, { xidWaitTimeoutMs: 400 });
    await sleep(50); // a wait is now blocked inside the library
    // Closing terminates a worker still running after its grace (2 s); a timer due then, set
    // first, fires before that happens: close must have ended before it.
    const { fired } = await withTimerDue(2_000, () => backend.close());
    expect(fired).toBe(false);
    await expect(backend.collect()).rejects.toMatchObject({ reason: 'unavailable' });
    await backend.close(); // a second close is harmless
  });
});

describe('measureReadCost', () => {
  it('returns the median microseconds of one full GPU read', async () => {
    const backend = await open({ FAKE_NVML_GPUS: 2 }, { watchXid: false });
    const started = process.hrtime.bigint();
    const micros = await measureReadCost(backend, 7);
    const wholeCallMicros = Number(process.hrtime.bigint() - started) / 1000;
    expect(Number.isFinite(micros)).toBe(true);
    expect(micros).toBeGreaterThan(0);
    // In microseconds: one read of one GPU cannot take longer than the whole call of 7 rounds.
    expect(micros).toBeLessThanOrEqual(wholeCallMicros);
    await expect(measureReadCost(backend, 0)).rejects.toThrow(RangeError);
  });
});
