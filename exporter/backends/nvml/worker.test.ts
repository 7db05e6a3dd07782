import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { SourceError } from '../../types.js';
import { NvmlBackend, type NvmlBackendOptions } from './index.js';
import { workerEntry } from '../../../src/worker-entry.js';
import { settlesAtOnce, withTimerDue } from '../../../src/testing/event-order.js';

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
  it('times out the collection while the event loop keeps running, refuses the next at once, and closes without waiting for the call', async () => {
    const timeoutMs = 300;
    // Far longer than the timeout and the close grace (2 s) together.
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:6000' }, { timeoutMs });
    expect(backend.stuck).toBe(false);

    // A timer due half-way through the timeout, set first, fires before the collection gives up:
    // the call runs off the event loop, and the collection did not give up early.
    const { result: error, fired } = await withTimerDue(timeoutMs / 2, async () => {
      const collecting = backend.collect();
      expect(await settlesAtOnce(collecting)).toBe(false);
      return rejection(collecting);
    });
    expect(fired).toBe(true);
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/did not answer within 300 ms/);
    expect(backend.stuck).toBe(true);

    const refused = backend.collect();
    expect(await settlesAtOnce(refused)).toBe(true);
    const second = await rejection(refused);
    expect(second.reason).toBe('timeout');
    expect(second.message).toBe('previous NVML read still running');

    // close waits for a stop that never comes (a timer due half-way through the grace fires
    // first), then terminates the worker while the library call is still running.
    const { fired: waitedForStop } = await withTimerDue(1_000, () => backend.close());
    expect(waitedForStop).toBe(true);
    expect(backend.stuck).toBe(true);
    expect((await rejection(backend.collect())).reason).toBe('unavailable');
  });

  it('answers a slow call that ends within the timeout', async () => {
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:150' }, { timeoutMs: 3_000 });
    const started = performance.now();
    const { gpus } = await backend.collect();
    // A lower bound only (the library sleeps 150 ms before answering), which load cannot break:
    // it shows the call was slow, so the answer did wait for it.
    expect(performance.now() - started).toBeGreaterThanOrEqual(149);
    expect(gpus[0]?.powerUsageWatts).toBe(699.5);
  });

  it('serves collections again once the stuck call returns', async () => {
    const backend = await open({ FAKE_NVML_HANG: 'nvmlDeviceGetPowerUsage:600' }, { timeoutMs: 200 });
    expect((await rejection(backend.collect())).reason).toBe('timeout');
    // Changed on the main thread after the worker started: the library reads the process's
    // environment, which the worker shares, at its next nvmlDeviceGetCount_v2.
    process.env.FAKE_NVML_HANG = '';
    // Waits for the stuck call to return (~0.4 s more); the bound only keeps a broken worker from hanging the test.
    for (let attempt = 0; attempt < 400 && backend.stuck; attempt++) await sleep(25);
    expect(backend.stuck).toBe(false);
    const { gpus } = await backend.collect();
    expect(gpus[0]?.powerUsageWatts).toBe(699.5);
  });

  it('fails opening with "timeout" when enumeration hangs', async () => {
    const openTimeoutMs = 1_500;
    // Enumeration ends after twice the open timeout: had opening waited for it, it would succeed.
    setFakeNvmlEnv({ FAKE_NVML_HANG: 'nvmlDeviceGetUUID:3000' });
    const { result: error, fired } = await withTimerDue(openTimeoutMs / 2, () =>
      rejection(NvmlBackend.open({ libraryPath: fakeLibrary, openTimeoutMs }).then((backend) => opened.push(backend))),
    );
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/NVML did not finish opening within 1500 ms/);
    expect(fired).toBe(true);
  });
});
