/**
 * The exporter against an nvidia-smi that never answers: /metrics keeps answering fast, the
 * timeout is counted, and no hung child is left behind.
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

async function startExporter(config: string): Promise<string> {
  exporter = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'exporter', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  exporter.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  for (let i = 0; i < 150; i++) {
    const url = /"url":"([^"]+)"/.exec(log)?.[1];
    if (url) return url;
    await sleep(100);
  }
  throw new Error(`exporter did not start: ${log}`);
}

describe('exporter with a hanging nvidia-smi', () => {
  it('answers /metrics within 50 ms, counts timeouts and kills the hung children', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-hang-'));
    const fake = join(dir, 'nvidia-smi');
    // Answers the presence check (-L), then hangs on every real read.
    await writeFile(fake, `#!/bin/sh\nif [ "$1" = "-L" ]; then echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-x)"; exit 0; fi\nsleep 1000\n`);
    await chmod(fake, 0o755);
    const layout = join(dir, 'layout.yaml');
    await writeFile(layout, 'machine-sku:\n  g: {computing-device: {type: nvidia.com/gpu, count: 8}}\nmachine-list:\n  - {hostname: w0, hostip: 10.0.0.1, machine-type: g}\n');
    const config = join(dir, 'gpuwatch.yaml');
    await writeFile(
      config,
      `clusters: [{name: c, layout: layout.yaml}]\nexporter:\n  backend: nvidia-smi\n  nvidiaSmi: ${fake}\n  listen: 127.0.0.1:0\n  node: w0\n  interval: 1s\n  slowInterval: 1s\n  timeout: 300ms\n  hostMetrics: false\n`,
    );
    const url = await startExporter(config);
    await (await fetch(`${url}/metrics`)).text(); // warm the client
    let body = '';
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const started = performance.now();
      body = await (await fetch(`${url}/metrics`)).text();
      expect(performance.now() - started).toBeLessThan(50);
      await sleep(100);
    }
    expect(body).toMatch(/gpuwatch_exporter_collection_errors_total\{node="w0",source="gpu",reason="timeout"\} [1-9]/);
    expect(body).toContain('gpuwatch_exporter_source_up{node="w0",source="gpu"} 0');
    expect(body).toContain('gpuwatch_node_expected_gpus{node="w0"} 8');
    expect(body).not.toContain('gpuwatch_node_gpus{');
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    // At most the reads in flight right now may exist; every earlier one was killed.
    expect(processesMentioning(dir).length).toBeLessThanOrEqual(2);
    exporter?.kill('SIGTERM');
    await sleep(1000);
    expect(processesMentioning(dir)).toEqual([]);
  });
});
