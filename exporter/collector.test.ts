import { pino } from 'pino';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/http/listen.js';
import { Collector } from './collector.js';
import { exporterHandler } from './server.js';
import { SourceError, type GpuBackend, type GpuReading, type GpuSnapshot } from './types.js';

const log = pino({ level: 'silent' });

const gpu = (index: number, extra: Partial<GpuReading> = {}): GpuReading => ({
  index,
  uuid: `GPU-0000000${index}`,
  utilizationRatio: 0.5,
  ...extra,
});

/** A GPU source whose next answer the test decides: a snapshot, an error, or no answer at all. */
class ScriptedSource implements GpuBackend {
  readonly name = 'replay' as const;
  next: () => Promise<GpuSnapshot> = async () => ({ gpus: [gpu(0), gpu(1)] });
  collect(): Promise<GpuSnapshot> {
    return this.next();
  }
  async close(): Promise<void> {}
}

const never = () => new Promise<GpuSnapshot>(() => undefined);

function collector(source: GpuBackend, now?: () => number) {
  return new Collector({ node: 'n1', version: '1.0.0', backend: source, intervalMs: 1000, timeoutMs: 100, log, ...(now ? { now } : {}) });
}

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('Collector', () => {
  it('renders GPU series with node, gpu and uuid labels', async () => {
    const c = collector(new ScriptedSource());
    await c.collectOnce();
    expect(c.exposition).toContain('gpuwatch_gpu_utilization_ratio{node="n1",gpu="0",uuid="GPU-00000000"} 0.5');
    expect(c.exposition).toContain('gpuwatch_node_gpus{node="n1"} 2');
    expect(c.exposition).toContain('gpuwatch_exporter_source_up{node="n1",source="gpu"} 1');
  });

  it('shows a GPU that disappears as a fall in gpuwatch_node_gpus', async () => {
    const source = new ScriptedSource();
    const c = collector(source);
    await c.collectOnce();
    source.next = async () => ({ gpus: [gpu(0)] });
    await c.collectOnce();
    expect(c.exposition).toContain('gpuwatch_node_gpus{node="n1"} 1');
    expect(c.exposition).not.toContain('uuid="GPU-00000001"');
  });

  it('drops GPU series and counts the reason when the source fails, then recovers', async () => {
    const source = new ScriptedSource();
    const c = collector(source);
    source.next = async () => {
      throw new SourceError('parse', 'garbage');
    };
    await c.collectOnce();
    expect(c.exposition).not.toContain('gpuwatch_gpu_utilization_ratio');
    expect(c.exposition).toContain('gpuwatch_exporter_source_up{node="n1",source="gpu"} 0');
    expect(c.exposition).toContain('gpuwatch_exporter_collection_errors_total{node="n1",source="gpu",reason="parse"} 1');
    source.next = async () => ({ gpus: [gpu(0)] });
    await c.collectOnce();
    expect(c.exposition).toContain('gpuwatch_exporter_source_up{node="n1",source="gpu"} 1');
    expect(c.exposition).toContain('reason="parse"} 1');
  });

  it('abandons a hanging source after the timeout and does not pile up reads of it', async () => {
    const source = new ScriptedSource();
    let calls = 0;
    source.next = () => {
      calls++;
      return never();
    };
    const c = collector(source);
    await c.collectOnce();
    await c.collectOnce();
    expect(calls).toBe(1);
    expect(c.exposition).toContain('reason="timeout"} 1');
    expect(c.exposition).toContain('source="gpu"} 0');
  });

  it('is healthy only while the GPU source succeeded within three intervals', async () => {
    let now = 1_000_000;
    const source = new ScriptedSource();
    const c = collector(source, () => now);
    expect(c.healthy()).toBe(false);
    await c.collectOnce();
    expect(c.healthy()).toBe(true);
    source.next = async () => {
      throw new SourceError('exit', 'gone');
    };
    now += 2500;
    await c.collectOnce();
    expect(c.healthy()).toBe(true);
    now += 600;
    expect(c.healthy()).toBe(false);
  });
});

describe('exporter HTTP', () => {
  it('answers /metrics from the last collection while the GPU source is still hung, and /healthz turns 503', async () => {
    let now = Date.now();
    const source = new ScriptedSource();
    // A time limit far beyond the test: the collection below stays in flight until the latch opens.
    const c = new Collector({ node: 'n1', version: '1.0.0', backend: source, intervalMs: 1000, timeoutMs: 600_000, log, now: () => now });
    await c.collectOnce();
    const before = c.exposition;
    server = await listen(exporterHandler(c), '127.0.0.1:0');
    let openLatch: () => void = () => undefined;
    let sourceAnswered = false;
    source.next = () =>
      new Promise<GpuSnapshot>((resolve) => {
        openLatch = () => resolve({ gpus: [gpu(0)] });
      }).finally(() => (sourceAnswered = true));
    let collectionDone = false;
    const hung = c.collectOnce().then(() => (collectionDone = true));
    for (let i = 0; i < 20; i++) {
      const body = await (await fetch(`${server.url}/metrics`)).text();
      expect(sourceAnswered).toBe(false);
      expect(collectionDone).toBe(false);
      expect(body).toBe(before);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    now += 3001;
    expect((await fetch(`${server.url}/healthz`)).status).toBe(503);
    openLatch();
    await hung;
    expect(c.exposition).toContain('gpuwatch_node_gpus{node="n1"} 1');
  });

  it('parses listen addresses and refuses bad ones', async () => {
    await expect(listen(express(), 'nonsense')).rejects.toThrow(/invalid listen address "nonsense"/);
  });
});

describe('exporter HTTP encoding', () => {
  it('serves the same exposition gzip-encoded when the scraper asks for it', async () => {
    const c = collector(new ScriptedSource());
    await c.collectOnce();
    server = await listen(exporterHandler(c), '127.0.0.1:0');
    const { request } = await import('node:http');
    const { gunzipSync } = await import('node:zlib');
    const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      request(`${server?.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toBe(c.exposition);
  });
});
