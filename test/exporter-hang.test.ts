/**
 * The exporter against an nvidia-smi that never answers: /metrics keeps answering, the timeouts are
 * counted, and no hung child is left behind. Every check is on behaviour (an answer, a counter, a
 * process gone), never on how many milliseconds something took.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

let exporter: ChildProcess | undefined;
afterEach(() => {
  exporter?.kill('SIGKILL');
  exporter = undefined;
});

/** Processes whose command line mentions `text` (our fake's unique temp path). */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Asks `probe` up to `tries` times, 100 ms apart, until it returns a value. */
async function poll<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`gave up waiting for ${what} after ${tries} tries`);
}

/** A directory with an nvidia-smi that answers the presence check (-L), then hangs on every read. */
async function hangingNvidiaSmi(timeout: string): Promise<{ dir: string; config: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-hang-'));
  const fake = join(dir, 'nvidia-smi');
  await writeFile(fake, `#!/bin/sh\nif [ "$1" = "-L" ]; then echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)"; exit 0; fi\nsleep 1000\n`);
  await chmod(fake, 0o755);
  await writeFile(
    join(dir, 'layout.yaml'),
    'machine-sku:\n  g: {computing-device: {type: nvidia.com/gpu, count: 8}}\nmachine-list:\n  - {hostname: w0, hostip: 10.0.0.1, machine-type: g}\n',
  );
  const config = join(dir, 'gpuwatch.yaml');
  await writeFile(
    config,
    `clusters: [{name: c, layout: layout.yaml}]\nexporter:\n  backend: nvidia-smi\n  nvidiaSmi: ${fake}\n  listen: 127.0.0.1:0\n  node: w0\n  interval: 1s\n  slowInterval: 1s\n  timeout: ${timeout}\n  hostMetrics: false\n`,
  );
  return { dir, config };
}

async function startExporter(config: string): Promise<string> {
  exporter = spawn(process.execPath, ['--import', 'tsx', 'cli/gpuwatch.ts', 'exporter', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  exporter.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  try {
    return await poll('the exporter to start', () => /"url":"([^"]+)"/.exec(log)?.[1], 150);
  } catch (error) {
    throw new Error(`${(error as Error).message}; its log: ${log}`);
  }
}

const timeouts = (body: string) => Number(/gpuwatch_exporter_collection_errors_total\{node="w0",source="gpu",reason="timeout"\} (\d+)/.exec(body)?.[1] ?? 0);

describe('exporter with a hanging nvidia-smi', () => {
  // That a scrape never waits for a hung source is proven with a latch in exporter/collector.test.ts;
  // here the real process answers every scrape over several timed-out collections (a scrape that
  // waited would hang the test), and the hung children are killed.
  it('answers every scrape while nvidia-smi hangs, counts each timeout, and kills the hung children', async () => {
    const { dir, config } = await hangingNvidiaSmi('300ms');
    const url = await startExporter(config);
    const body = await poll('three timeouts counted', async () => {
      const res = await fetch(`${url}/metrics`);
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(text).toContain('gpuwatch_exporter_build_info{node="w0"');
      return timeouts(text) >= 3 ? text : undefined;
    });
    expect(body).toContain('gpuwatch_exporter_source_up{node="w0",source="gpu"} 0');
    expect(body).toContain('gpuwatch_node_expected_gpus{node="w0"} 8');
    expect(body).not.toContain('gpuwatch_node_gpus{');
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    // Every earlier read was killed: at most the reads in flight (two) remain. A killed child may
    // take a moment to go on a loaded machine; had none been killed, one more would stay per timeout.
    await poll('only the reads in flight left', () => (processesMentioning(dir).length <= 2 ? true : undefined), 50);
    exporter?.kill('SIGTERM');
    await poll('every nvidia-smi child gone after SIGTERM', () => (processesMentioning(dir).length === 0 ? true : undefined), 50);
  });
});
