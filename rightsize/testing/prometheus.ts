/**
 * A real Prometheus over backfilled history: `promtool tsdb create-blocks-from openmetrics` into a
 * TSDB folder, then Debian's `prometheus` on that folder at a free 127.0.0.1 port (no scraping).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopChild } from '../../stack/external.js';
import { freePort } from '../../test/ports.js';
import { runToEnd } from '../../src/testing/run-to-end.js';

export interface BackfilledPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** `dir/<openMetrics>` → blocks in `dir/data`. */
export async function backfill(dir: string, openMetrics: string): Promise<void> {
  await runToEnd('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', openMetrics, 'data'], dir);
}

/** Prometheus on `dir/data`; resolves once /-/ready answers (at most 60 s). */
export async function startPrometheus(dir: string): Promise<BackfilledPrometheus> {
  await writeFile(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      '--config.file=prometheus.yml',
      '--storage.tsdb.path=data',
      '--storage.tsdb.retention.time=10y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stopChild(child);
  throw new Error(`prometheus not ready at ${url} after 60 s: ${stderr}`);
}
