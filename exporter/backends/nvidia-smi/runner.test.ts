import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { withTimerDue } from '../../../src/testing/event-order.js';
import { SourceError } from '../../types.js';
import { runOnce, StreamingQuery } from './runner.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const fixturePath = (name: string) => fileURLToPath(new URL(name, FIXTURES));
/** stream.csv's columns as inferred in csv.test.ts (the README does not name them). */
const STREAM_FIXTURE_FIELDS = ['index', 'uuid', 'utilization.gpu', 'utilization.memory', 'memory.used', 'temperature.gpu', 'power.draw', 'unidentified'];

const workDir = mkdtempSync(join(tmpdir(), 'gpuwatch-smi-runner-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
let scriptCount = 0;

/** Write an executable shell script standing in for nvidia-smi; returns its path. */
function fakeSmi(body: string): string {
  const path = join(workDir, `nvidia-smi-${++scriptCount}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

/** A process that no longer exists, or has exited and only awaits reaping, is gone. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

/** The real setTimeout, kept for polling while a test fakes the runner's timers. */
const realSetTimeout = globalThis.setTimeout;

/**
 * Poll `check` every 20 ms until it holds. The limit is no speed bound: it only turns a condition
 * that never comes into a message before the test's own timeout.
 */
async function eventually(check: () => boolean, limitMs = 20_000): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > limitMs) throw new Error(`condition not met within ${limitMs} ms of polling`);
    await new Promise((resolve) => realSetTimeout(resolve, 20));
  }
}

const readPid = (path: string) => Number(readFileSync(path, 'utf8').trim());

async function rejection(promise: Promise<unknown>): Promise<SourceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

describe('runOnce', () => {
  it('returns the complete stdout and passes arguments without a shell', async () => {
    const argsFile = join(workDir, 'args-once');
    const smi = fakeSmi(`printf '%s\\n' "$@" > '${argsFile}'\ncat '${fixturePath('q-busy.xml')}'`);
    const output = await runOnce(smi, ['-q', '-x', '$(touch nope); *'], { timeoutMs: 5_000 });
    expect(output).toBe(readFileSync(fixturePath('q-busy.xml'), 'utf8'));
    expect(readFileSync(argsFile, 'utf8')).toBe('-q\n-x\n$(touch nope); *\n');
    expect(existsSync('nope')).toBe(false);
  });

  it('kills a child that never finishes, and its children, and rejects with timeout', async () => {
    const shellPid = join(workDir, 'hang-shell.pid');
    const sleepPid = join(workDir, 'hang-sleep.pid');
    const smi = fakeSmi(`echo $$ > '${shellPid}'\nsleep 1000 &\necho $! > '${sleepPid}'\nwait`);
    // The child sleeps 1000 s: had runOnce waited for it, the test would time out. A timer due
    // half-way through the limit, set first, fires before the rejection: it did not give up early.
    const { result: error, fired } = await withTimerDue(200, () => rejection(runOnce(smi, ['-q', '-x'], { timeoutMs: 400 })));
    expect(error.reason).toBe('timeout');
    expect(error.message).toMatch(/did not finish within 400 ms/);
    expect(fired).toBe(true);
    expect(isGone(readPid(shellPid))).toBe(true);
    await eventually(() => isGone(readPid(sleepPid)));
  });

  it('reports a non-zero exit with what the tool said', async () => {
    const smi = fakeSmi('echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."\nexit 9');
    const error = await rejection(runOnce(smi, [], { timeoutMs: 5_000 }));
    expect(error.reason).toBe('exit');
    expect(error.message).toMatch(/exited with code 9: NVIDIA-SMI has failed/);
    const stderrSmi = fakeSmi('echo partial\necho "Unable to determine the device handle" >&2\nexit 15');
    expect((await rejection(runOnce(stderrSmi, [], { timeoutMs: 5_000 }))).message).toMatch(/code 15: Unable to determine the device handle/);
  });

  it('reports a missing binary as a spawn failure', async () => {
    const error = await rejection(runOnce(join(workDir, 'no-such-nvidia-smi'), ['-q'], { timeoutMs: 5_000 }));
    expect(error.reason).toBe('spawn');
    expect(error.message).toMatch(/not found/);
  });

  it('stops on abort and on runaway output', async () => {
    const controller = new AbortController();
    const pending = runOnce(fakeSmi('exec sleep 1000'), [], { timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(pending)).reason).toBe('unavailable');
    const flood = fakeSmi('exec yes gpu');
    const error = await rejection(runOnce(flood, [], { timeoutMs: 10_000, maxOutputBytes: 100_000 }));
    expect(error.reason).toBe('io');
  });
});

describe('StreamingQuery', () => {
  const queries: StreamingQuery[] = [];
  afterEach(async () => {
    await Promise.all(queries.splice(0).map((query) => query.stop()));
  });
  function streaming(binary: string, overrides: Partial<ConstructorParameters<typeof StreamingQuery>[0]> = {}) {
    const errors: { reason: string; message: string }[] = [];
    const query = new StreamingQuery({
      binary,
      fields: STREAM_FIXTURE_FIELDS,
      intervalMs: 100,
      initialBackoffMs: 50,
      onError: (reason, message) => errors.push({ reason, message }),
      ...overrides,
    });
    queries.push(query);
    query.start();
    return { query, errors };
  }

  it('keeps the latest line per GPU and restarts the child when it exits', async () => {
    const argsFile = join(workDir, 'args-stream');
    const smi = fakeSmi(
      // Written aside, then renamed: a restarting child never shows a half-written file.
      `printf '%s\\n' "$@" > '${argsFile}.$$'\nmv '${argsFile}.$$' '${argsFile}'\n` +
        `head -n 4 '${fixturePath('stream.csv')}' | while IFS= read -r line; do echo "$line"; sleep 0.05; done`,
    );
    const started = Date.now();
    const { query, errors } = streaming(smi);
    await eventually(() => query.restarts >= 2);
    expect(readFileSync(argsFile, 'utf8').split('\n')).toEqual([
      `--query-gpu=${STREAM_FIXTURE_FIELDS.join(',')}`,
      '--format=csv,noheader,nounits',
      '-lms',
      '100',
      '',
    ]);
    const latest = query.latest();
    expect(latest?.gpus).toEqual([
      expect.objectContaining({
        index: 0,
        uuid: 'GPU-f6a4b594-4260-b95b-6164-2bbedf0b43a9',
        temperatureCelsius: 42,
        powerUsageWatts: 72.85,
      }),
    ]);
    // Stamped with the clock when the line arrived: after the start, not in the future.
    expect(latest?.at).toBeGreaterThanOrEqual(started);
    expect(latest?.at).toBeLessThanOrEqual(Date.now());
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((error) => error.reason === 'exit' && /exited with code 0/.test(error.message))).toBe(true);
    expect(query.errors).toBe(errors.length);
  });

  /**
   * With the runner's timers on a fake clock (the children stay real processes), checks that
   * each restart comes exactly `delays[i]` ms after the i-th child ended.
   */
  async function expectRestartDelays(query: StreamingQuery, errors: readonly unknown[], delays: readonly number[]): Promise<void> {
    for (const [ended, delay] of delays.entries()) {
      await eventually(() => errors.length > ended); // child `ended` has exited: its restart is scheduled
      expect(query.restarts).toBe(ended);
      vi.advanceTimersByTime(delay - 1);
      expect(query.restarts).toBe(ended);
      vi.advanceTimersByTime(1);
      expect(query.restarts).toBe(ended + 1);
    }
  }

  it('backs off exponentially between restarts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { query, errors } = streaming(fakeSmi('exit 3'), { initialBackoffMs: 40, maxBackoffMs: 160 });
      // Growing, then capped.
      await expectRestartDelays(query, errors, [40, 80, 160, 160, 160]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('resets the back-off after a child has been healthy long enough', async () => {
    const line = readFileSync(fixturePath('stream.csv'), 'utf8').split('\n')[0];
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // Each child streams for at least 200 ms of real time, longer than healthyAfterMs, then exits.
      const smi = fakeSmi(`for i in 1 2 3 4 5; do echo '${line}'; sleep 0.05; done`);
      const { query, errors } = streaming(smi, { initialBackoffMs: 40, maxBackoffMs: 5_000, healthyAfterMs: 100 });
      // Without the reset the delays would be 40, 80, 160, 320.
      await expectRestartDelays(query, errors, [40, 40, 40, 40]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('kills and restarts a child that goes silent', async () => {
    const pidFile = join(workDir, 'silent.pid');
    const line = readFileSync(fixturePath('stream.csv'), 'utf8').split('\n')[0];
    const smi = fakeSmi(`echo $$ >> '${pidFile}'\necho '${line}'\nexec sleep 1000`);
    const { query, errors } = streaming(smi, { stallTimeoutMs: 300 });
    await eventually(() => query.restarts >= 1);
    const [firstPid] = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    await eventually(() => isGone(firstPid!));
    expect(errors[0]).toMatchObject({ reason: 'timeout' });
    expect(errors[0]?.message).toMatch(/silent for 300 ms/);
    // The reading is dropped once it is older than the stall timeout.
    expect(query.latest(Date.now() + 10_000)).toBeUndefined();
  });

  it('reports garbage lines without crashing and keeps going', async () => {
    const line = readFileSync(fixturePath('stream.csv'), 'utf8').split('\n')[1];
    const smi = fakeSmi(
      `echo 'Failed to initialize NVML: Unknown Error'\necho '<<<garbage>>>, , ,'\nprintf '\\000\\001\\n'\n` + `echo '${line}'\nexec sleep 1000`,
    );
    const { query, errors } = streaming(smi);
    await eventually(() => query.latest() !== undefined);
    expect(errors.length).toBe(3);
    expect(errors.every((error) => error.reason === 'parse')).toBe(true);
    expect(query.latest()?.gpus[0]?.uuid).toBe('GPU-f6a4b594-4260-b95b-6164-2bbedf0b43a9');
  });

  it('reports a missing binary and keeps retrying', async () => {
    const { query, errors } = streaming(join(workDir, 'missing-nvidia-smi'));
    await eventually(() => query.restarts >= 2);
    expect(errors[0]).toMatchObject({ reason: 'spawn' });
    expect(query.latest()).toBeUndefined();
  });

  it('stop() kills the child', async () => {
    const pidFile = join(workDir, 'stop.pid');
    const { query } = streaming(fakeSmi(`echo $$ > '${pidFile}'\nexec sleep 1000`));
    await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = readPid(pidFile);
    expect(isGone(pid)).toBe(false);
    await query.stop();
    expect(isGone(pid)).toBe(true);
    expect(query.pid).toBeUndefined();
  });
});
