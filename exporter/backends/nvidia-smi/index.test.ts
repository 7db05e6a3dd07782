import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SourceError, type GpuSnapshot } from '../../types.js';
import { NvidiaSmiBackend, type NvidiaSmiBackendOptions } from './index.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, FIXTURES));
const ALL_FIELDS = readFileSync(fixturePath('query-gpu-fields.txt'), 'utf8')
  .split('\n')
  .filter((field) => field !== '');
const MIB = 1_048_576;

const workDir = mkdtempSync(join(tmpdir(), 'gpuwatch-smi-backend-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let scriptCount = 0;

/**
 * A fake nvidia-smi: `-q -x` runs `xml`, `--help-query-gpu` prints the recorded help, `nvlink …`
 * runs `nvlink` (by default it lists no NVLink, as on a machine without any), anything else (the
 * streaming query) runs `stream`.
 * Every `-q` call is logged to the returned file.
 */
function fakeSmi(xml: string, stream: string, nvlink = 'exit 0'): { binary: string; xmlCalls: () => number } {
  const binary = join(workDir, `nvidia-smi-${++scriptCount}`);
  const log = `${binary}.xml-calls`;
  writeFileSync(
    binary,
    `#!/bin/sh\nif [ "$1" = "-q" ]; then\n  echo call >> '${log}'\n  ${xml}\nelif [ "$1" = "--help-query-gpu" ]; then\n  ${catFixture('help-query-gpu.txt')}\nelif [ "$1" = "nvlink" ]; then\n  ${nvlink}\nelse\n  ${stream}\nfi\n`,
    { mode: 0o755 },
  );
  return {
    binary,
    xmlCalls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0),
  };
}

const catFixture = (name: string) => `exec cat '${fixturePath(name)}'`;
/** Repeat the busy all-fields line every 50 ms, like `-lms 50` would. */
const streamBusyLine = `while true; do cat '${fixturePath('query-gpu-busy-nounits.csv')}'; echo; sleep 0.05; done`;

const backends: NvidiaSmiBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
});

function backend(binary: string, options: NvidiaSmiBackendOptions = {}) {
  const errors: string[] = [];
  const created = new NvidiaSmiBackend({
    binary,
    streamIntervalMs: 50,
    xmlIntervalMs: 60_000,
    timeoutMs: 2_000,
    queryFields: ALL_FIELDS,
    onError: (reason, message, repeat) => errors.push(`${repeat ? '(repeat) ' : ''}${reason}: ${message}`),
    ...options,
  });
  backends.push(created);
  return { backend: created, errors };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Collect repeatedly until `check` accepts the snapshot; failed collects are retried. The bound
 * (15 s and more of polling) only keeps a snapshot that never comes from hanging the test.
 */
async function collectUntil(source: NvidiaSmiBackend, check: (snapshot: GpuSnapshot) => boolean) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const snapshot = await source.collect().catch(() => undefined);
    if (snapshot !== undefined && check(snapshot)) return snapshot;
    await pause(30);
  }
  throw new Error('the expected snapshot never came');
}

describe('NvidiaSmiBackend', () => {
  it('merges streamed CSV readings with the -q -x reading of the same GPU', async () => {
    const smi = fakeSmi(catFixture('q-busy-2.xml'), streamBusyLine);
    const { backend: source, errors } = backend(smi.binary);
    expect(source.name).toBe('nvidia-smi');
    const snapshot = await collectUntil(source, (s) => s.gpus[0]?.powerUsageWatts === 691.1);
    expect(snapshot.gpus).toHaveLength(1);
    expect(snapshot.gpus[0]).toMatchObject({
      index: 0,
      uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882',
      // Streamed values win over the XML's (which says 100 % and 692.83 W).
      utilizationRatio: 0.99,
      powerUsageWatts: 691.1,
      memoryUsedBytes: 12457 * MIB,
      // Only the XML has these.
      pcieReplays: 0,
      processes: [{ pid: 408, name: 'python3', usedMemoryBytes: 12448 * MIB }],
      // Both have these; nested groups are merged.
      ecc: { correctedVolatile: 0, correctedAggregate: 0, uncorrectedVolatile: 0, uncorrectedAggregate: 0 },
      clockEventReasons: expect.objectContaining({ sw_power_cap: true, display_clocks_setting: false }),
    });
    expect(errors).toEqual([]);
  });

  it('runs -q -x at most once per xmlIntervalMs', async () => {
    const smi = fakeSmi(catFixture('q-busy-2.xml'), streamBusyLine);
    const { backend: source } = backend(smi.binary, { xmlIntervalMs: 60_000 });
    await collectUntil(source, (s) => s.gpus[0]?.utilizationRatio === 0.99);
    for (let scrape = 0; scrape < 5; scrape++) await source.collect();
    expect(smi.xmlCalls()).toBe(1);
  });

  it('falls back to the -q -x reading while nothing is streamed', async () => {
    const smi = fakeSmi(catFixture('q-busy.xml'), 'exec sleep 1000');
    const { backend: source } = backend(smi.binary);
    const snapshot = await source.collect();
    expect(snapshot.gpus).toEqual([
      expect.objectContaining({
        uuid: 'GPU-46c48243-40b2-7121-5852-ddeebd67760c',
        utilizationRatio: 1,
        powerUsageWatts: 699.5,
        processes: [{ pid: 633, name: 'python3', usedMemoryBytes: 20204 * MIB }],
      }),
    ]);
  });

  it('never waits longer than timeoutMs when nvidia-smi hangs', async () => {
    const smi = fakeSmi('exec sleep 1000', 'exec sleep 1000');
    const { backend: source, errors } = backend(smi.binary, { timeoutMs: 300 });
    // Both children sleep 1000 s: a collection that waited for them would time the test out.
    const error = await source.collect().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).reason).toBe('timeout');
    expect((error as SourceError).message).toMatch(/within 300 ms/);
    // The killed `-q -x` is reported as well, once it is gone (the bound only keeps the test from hanging).
    for (let wait = 0; wait < 500 && !errors.some((line) => line.startsWith('timeout:')); wait++) await pause(20);
    expect(errors).toContainEqual(expect.stringMatching(/^timeout: .* did not finish within 300 ms/));
  });

  it('reports a broken -q -x and still serves the streamed readings', async () => {
    const smi = fakeSmi("echo '<nvidia_smi_log><gpu>'", streamBusyLine);
    const { backend: source, errors } = backend(smi.binary);
    const snapshot = await collectUntil(source, (s) => s.gpus.length === 1);
    expect(snapshot.gpus[0]).toMatchObject({ uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882', powerUsageWatts: 691.1 });
    expect(snapshot.gpus[0]).not.toHaveProperty('processes');
    expect(errors.some((line) => /^parse: nvidia-smi XML is malformed or truncated/.test(line))).toBe(true);
  });

  it('close() stops the children and later collects are refused', async () => {
    const pidFile = join(workDir, 'stream.pid');
    const smi = fakeSmi(catFixture('q-idle.xml'), `echo $$ > '${pidFile}'\n  exec sleep 1000`);
    const { backend: source } = backend(smi.binary);
    await source.collect();
    // The stream starts after the one --help-query-gpu run: allow for a loaded machine.
    for (let wait = 0; wait < 250 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()); wait++) await pause(20);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await source.close();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(source.collect()).rejects.toMatchObject({ reason: 'unavailable' });
  });
});
