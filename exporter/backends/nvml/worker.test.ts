import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { SourceError } from '../../types.js';
import { NvmlBackend, type NvmlBackendOptions } from './index.js';
import { workerEntry } from '../../../src/worker-entry.js';

let dir: string;
let fakeLibrary: string;
const opened: NvmlBackend[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-worker-'));
  fakeLibrary = buildFakeNvml(dir);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((backend) => backend.close()));
  clearFakeNvmlEnv();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(env: Record<string, string | number>, options: NvmlBackendOptions = {}): Promise<NvmlBackend> {
  setFakeNvmlEnv(env);
  const backend = await NvmlBackend.open({ libraryPath: fakeLibrary, watchXid: false, ...options });
  opened.push(backend);
  return backend;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Measures how regularly a 10 ms interval fires while `work` runs: a blocked loop shows as a gap. */
async function whileTicking<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number; longestGapMs: number }> {
  let last = performance.now();
  let longestGapMs = 0;
  let ticks = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    longestGapMs = Math.max(longestGapMs, performance.now() - last);
    return { result, ticks, longestGapMs };
  } finally {
    clearInterval(ticker);
  }
}

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  const error: unknown = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

describe('worker entry', () => {
  it('runs the TypeScript source through the tsx bootstrap, and the compiled file as it is', () => {
    const source = workerEntry('file:///app/exporter/backends/nvml/worker-client.ts', 'worker');
    expect(source.href).toBe('file:///app/exporter/backends/nvml/worker-tsx.mjs');
    const built = workerEntry('file:///app/dist/exporter/backends/nvml/worker-client.js', 'worker');
    expect(built.href).toBe('file:///app/dist/exporter/backends/nvml/worker.js');
  });
});

describe('an NVML call that hangs', () => {
  it('times out the collection while the event loop keeps running, refuses the next at once, and closes in ~2 s', async () => {
    const timeoutMs = 300;
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:4000' }, { timeoutMs });
    expect(backend.stuck).toBe(false);

    const started = performance.now();
    const { result: error, ticks, longestGapMs } = await whileTicking(() => rejection(backend.collect()));
    const took = performance.now() - started;
    expect(error.reason).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(took).toBeLessThan(timeoutMs + 700);
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(longestGapMs).toBeLessThan(150);
    expect(backend.stuck).toBe(true);

    const secondStarted = performance.now();
    const second = await rejection(backend.collect());
    expect(performance.now() - secondStarted).toBeLessThan(50);
    expect(second.reason).toBe('timeout');
    expect(second.message).toBe('previous NVML read still running');

    const closeStarted = performance.now();
    await backend.close();
    const closeTook = performance.now() - closeStarted;
    expect(closeTook).toBeGreaterThanOrEqual(1_900); // it waited for a stop that never came …
    expect(closeTook).toBeLessThan(2_600); // … and then terminated the worker
    expect((await rejection(backend.collect())).reason).toBe('unavailable');
  });

  it('answers a slow call that ends within the timeout', async () => {
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:150' }, { timeoutMs: 3_000 });
    const started = performance.now();
    const { gpus } = await backend.collect();
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(gpus[0]?.powerUsageWatts).toBe(699.5);
  });

  it('serves collections again once the stuck call returns', async () => {
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:600' }, { timeoutMs: 200 });
    expect((await rejection(backend.collect())).reason).toBe('timeout');
    // Changed on the main thread after the worker started: the library reads the process's
    // environment, which the worker shares, at its next nvmlDeviceGetCount_v2.
    process.env.FAKE_NVML_HANG = '';
    for (let attempt = 0; attempt < 40 && backend.stuck; attempt++) await sleep(25);
    expect(backend.stuck).toBe(false);
    const { gpus } = await backend.collect();
    expect(gpus[0]?.powerUsageWatts).toBe(699.5);
  });

  it('fails opening with "timeout" when enumeration hangs', async () => {
    const openTimeoutMs = 1_500;
    setFakeNvmlEnv({ FAKE_NVML_HANG: 'nvmlDeviceGetUUID:3000' });
    const started = performance.now();
    const error = await rejection(NvmlBackend.open({ libraryPath: fakeLibrary, openTimeoutMs }).then((backend) => opened.push(backend)));
    const took = performance.now() - started;
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/NVML did not finish opening within 1500 ms/);
    expect(took).toBeGreaterThanOrEqual(openTimeoutMs - 5);
    expect(took).toBeLessThan(openTimeoutMs + 500);
  });
});
