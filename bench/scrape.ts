/**
 * /metrics under load: the built exporter (node dist/cli/gpuwatch.js) replaying 8 GPUs and 100 GPU
 * processes, on loopback, with keep-alive connections and `Accept-Encoding: gzip` as Prometheus
 * sends it. Two loads:
 * - paced: 50 scrapers, each scraping every 100 ms (ten times a 1 s scrape interval) for 10 s —
 *   the latency a scraper sees (p50/p99);
 * - saturated: 50 scrapers back to back, 100 scrapes each — the exporter's capacity (scrapes/s)
 *   and the latency when every connection always has a request queued.
 * Then the exporter's resident memory (VmRSS).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIO = fileURLToPath(new URL('./fixtures/node-8gpu-100proc.yaml', import.meta.url));

export interface LoadResult {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perSecond: number;
}

export interface ScrapeResult {
  clients: number;
  bodyBytes: number;
  gzipBytes: number;
  paced: LoadResult;
  saturated: LoadResult;
  rssIdleMb: number;
  rssMb: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function scrape(url: string, agent: Agent, gzip: boolean): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { agent, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - started, bytes }));
    })
      .on('error', reject)
      .end();
  });
}

async function load(url: string, clients: number, perClient: number, paceMs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  await Promise.all(Array.from({ length: clients }, () => scrape(url, agent, true))); // open the connections
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      if (paceMs > 0) await sleep((c * paceMs) / clients); // spread the scrapers over the interval
      for (let i = 0; i < perClient; i++) {
        const tick = performance.now();
        latencies.push((await scrape(url, agent, true)).ms);
        if (paceMs > 0) await sleep(Math.max(0, paceMs - (performance.now() - tick)));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? NaN,
    perSecond: latencies.length / seconds,
  };
}

async function rssMb(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

export async function benchScrape(clients = 50): Promise<ScrapeResult> {
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=1', 'dist/cli/gpuwatch.js', 'exporter', '--replay', SCENARIO, '--listen', '127.0.0.1:0', '--node', 'bench-node'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GPUWATCH_LOG_LEVEL: 'info' },
    },
  );
  try {
    const url = `${await listeningUrl(child.stderr)}/metrics`;
    await sleep(1000);
    const rssIdleMb = await rssMb(child.pid);
    const agent = new Agent();
    const bodyBytes = (await scrape(url, agent, false)).bytes;
    const gzipBytes = (await scrape(url, agent, true)).bytes;
    agent.destroy();
    const paced = await load(url, clients, 100, 100);
    const saturated = await load(url, clients, 100, 0);
    return { clients, bodyBytes, gzipBytes, paced, saturated, rssIdleMb, rssMb: await rssMb(child.pid) };
  } finally {
    child.kill('SIGTERM');
  }
}

function listeningUrl(stderr: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`exporter did not start: ${buffered}`)), 15_000);
    stderr.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const url = /"url":"([^"]+)"/.exec(buffered)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
}
