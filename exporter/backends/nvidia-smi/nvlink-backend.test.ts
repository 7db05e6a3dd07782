/**
 * The NVLink counters through the nvidia-smi backend, against the fake nvidia-smi
 * (test/fake-nvidia-smi), which answers `nvlink -s/-e/-gt d` from the constructed 8-GPU H100 node
 * whose GPU 0 is the recorded GPU, and fails or hangs when FAKE_NVIDIA_SMI_NVLINK says so.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { GpuReading, GpuSnapshot } from '../../types.js';
import { NvidiaSmiBackend, type NvidiaSmiBackendOptions } from './index.js';

const FAKE = fileURLToPath(new URL('../../../test/fake-nvidia-smi/nvidia-smi.mjs', import.meta.url));
const KIB = 1024;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const backends: NvidiaSmiBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
  delete process.env.FAKE_NVIDIA_SMI_NVLINK;
});

function backend(options: NvidiaSmiBackendOptions = {}) {
  const errors: string[] = [];
  const created = new NvidiaSmiBackend({
    binary: FAKE,
    streamIntervalMs: 100,
    timeoutMs: 3_000,
    queryFields: ['index', 'uuid', 'power.draw', 'utilization.gpu'],
    onError: (reason, message, repeat) => errors.push(`${repeat ? '(repeat) ' : ''}${reason}: ${message}`),
    ...options,
  });
  backends.push(created);
  return { backend: created, errors };
}

/** Collect repeatedly (bounded) until `check` accepts the snapshot. */
async function collectUntil(source: NvidiaSmiBackend, check: (snapshot: GpuSnapshot) => boolean) {
  for (let attempt = 0; attempt < 150; attempt++) {
    const snapshot = await source.collect().catch(() => undefined);
    if (snapshot !== undefined && check(snapshot)) return snapshot;
    await pause(40);
  }
  throw new Error('the expected snapshot never came');
}

/** What the streamed query and -q -x give GPU 0 of the recording, NVLink or not. */
function expectGpuReadingsIntact(gpu: GpuReading | undefined) {
  expect(gpu).toMatchObject({ uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882', powerUsageWatts: 691.1, pcieReplays: 0 });
  expect(gpu?.processes).toEqual([expect.objectContaining({ pid: 408 })]);
}

const nvlinkFailures = (errors: string[]) => errors.filter((line) => line.includes('cannot read the NVLink counters'));

describe('NVLink counters through the nvidia-smi backend', () => {
  it('adds the active links of nvlink -s with the counts of -e and -gt d to the GPU', async () => {
    const { backend: source, errors } = backend();
    const snapshot = await collectUntil(source, (s) => s.gpus[0]?.powerUsageWatts === 691.1 && s.gpus[0].nvlinks !== undefined);
    const gpu = snapshot.gpus[0];
    expectGpuReadingsIntact(gpu);
    expect(gpu?.nvlinks).toHaveLength(18);
    expect(gpu?.nvlinks?.[0]).toEqual({ link: 0, errors: { replay: 0, recovery: 0, crc_flit: 0 }, transmitBytes: 5863784 * KIB, receiveBytes: 5862999 * KIB });
    expect(errors).toEqual([]);
  });

  it('a failing nvlink command leaves the GPU readings intact; each failure counted, logged once', async () => {
    process.env.FAKE_NVIDIA_SMI_NVLINK = 'fail';
    const { backend: source, errors } = backend({ xmlIntervalMs: 150 });
    const snapshot = await collectUntil(source, (s) => s.gpus[0]?.powerUsageWatts === 691.1 && nvlinkFailures(errors).length >= 3);
    expectGpuReadingsIntact(snapshot.gpus[0]);
    expect(snapshot.gpus[0]).not.toHaveProperty('nvlinks');
    const [first, ...later] = nvlinkFailures(errors);
    expect(first).toMatch(/^exit: cannot read the NVLink counters: .* exited with code 1: Unable to determine the device handle/);
    for (const line of later) expect(line).toMatch(/^\(repeat\) exit: /);
  });

  it('kills a hanging nvlink command at the time limit and serves the GPU readings meanwhile', async () => {
    process.env.FAKE_NVIDIA_SMI_NVLINK = 'hang';
    const { backend: source, errors } = backend({ timeoutMs: 1_500 });
    const first = await source.collect();
    // The first collection waits for the NVLink read at most half the time limit: it is back
    // before the time limit kills the command (which reports the timeout), without NVLinks.
    expect(nvlinkFailures(errors)).toEqual([]);
    expect(first.gpus[0]).toMatchObject({ uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882', pcieReplays: 0 });
    expect(first.gpus[0]).not.toHaveProperty('nvlinks');
    expectGpuReadingsIntact((await collectUntil(source, (s) => s.gpus[0]?.powerUsageWatts === 691.1)).gpus[0]);
    for (let wait = 0; wait < 500 && nvlinkFailures(errors).length === 0; wait++) await pause(20);
    expect(nvlinkFailures(errors)).toEqual([expect.stringMatching(/^timeout: cannot read the NVLink counters: .* did not finish within 1500 ms/)]);
    expect(runningNvLinkCommands()).toEqual([]);
  });
});

/** Processes of the fake nvidia-smi answering an `nvlink` command, read from /proc. */
function runningNvLinkCommands(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((arg) => arg === FAKE) && args.includes('nvlink')) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
