/** Shared set-up for the rule service's tests: a running service on loopback, small HTTP helpers, a Prometheus with known history. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startExternal } from '../stack/external.js';
import { freePort } from './ports.js';
import { createLogger } from '../src/log.js';
import type { RuleServiceOptions } from '../rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../rule-service/service.js';

export const SEED_RULES_FILE = fileURLToPath(new URL('../examples/rules.yaml', import.meta.url));
export const SEED_RULES_YAML = readFileSync(SEED_RULES_FILE, 'utf8');
export const API_TOKEN = 'test-api-token';

const execFileAsync = promisify(execFile);

/** The options every in-process test rule service starts from: loopback, in-memory SQLite, nobody exempt. */
export function baseRuleServiceOptions(overrides: Partial<RuleServiceOptions> = {}): RuleServiceOptions {
  return {
    listen: '127.0.0.1:0',
    db: 'sqlite::memory:',
    storeTimeoutMs: 150,
    holdingsWhenUnreachable: 'request-only',
    exemptJobs: [],
    exemptUsers: [],
    apiToken: API_TOKEN,
    ...overrides,
  };
}

export function startTestService(overrides: Partial<RuleServiceOptions> = {}): Promise<RunningRuleService> {
  return startRuleService(baseRuleServiceOptions({ storeRetryMs: 200, ...overrides }), createLogger('rule-service-test', 'silent'));
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; token?: string } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Loads the seed table (examples/rules.yaml) through the API. */
export async function loadSeed(service: RunningRuleService): Promise<void> {
  const answer = await http(`${service.url}/api/v1/rules`, {
    method: 'PUT',
    token: API_TOKEN,
    headers: { 'content-type': 'text/yaml' },
    body: SEED_RULES_YAML,
  });
  if (answer.status !== 200) throw new Error(`loading the seed rules failed: ${answer.status} ${answer.text}`);
}

/** One sample value from a Prometheus exposition, or undefined when the series is absent. */
export function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Per GPU of a job: what the exporter reports, one sample every `stepSeconds`. */
export interface GpuHistory {
  node: string;
  uuid: string;
  job: string;
  utilization: number;
  /** How far back the samples start (seconds before now). */
  sinceSeconds: number;
  /** The job's labels; default vc "default", priority "oppo". */
  vc?: string;
  priority?: string;
  /** When given, the exporter's start time of the job on this node: this many seconds before now. */
  startedSecondsAgo?: number;
  /** A job on this MIG GPU instance: the utilization is the instance's, the allocation names it. */
  gpuInstanceId?: number;
}

/** OpenMetrics text of the attribution, utilization (and, where given, start time) series of `gpus`, ending 15 s ago. */
export function gpuHistoryOpenMetrics(gpus: readonly GpuHistory[], nowSeconds = Math.floor(Date.now() / 1000), stepSeconds = 15): string {
  const samples = (name: string, of: readonly GpuHistory[], labels: (g: GpuHistory) => string, value: (g: GpuHistory) => number) =>
    of.flatMap((g) => {
      const lines: string[] = [];
      for (let t = nowSeconds - g.sinceSeconds; t <= nowSeconds - 15; t += stepSeconds) lines.push(`${name}{${labels(g)}} ${value(g)} ${t}`);
      return lines;
    });
  const gpuLabels = (g: GpuHistory) => `node="${g.node}",gpu="0",uuid="${g.uuid}"`;
  const jobLabels = (g: GpuHistory) => `job="${g.job}",user="${g.job.split('~')[0]}",vc="${g.vc ?? 'default'}",priority="${g.priority ?? 'oppo'}"`;
  const instance = (g: GpuHistory) => `gpu_instance_id="${g.gpuInstanceId}"`;
  const whole = gpus.filter((g) => g.gpuInstanceId === undefined);
  const mig = gpus.filter((g) => g.gpuInstanceId !== undefined);
  const allocation = (g: GpuHistory) => `${gpuLabels(g)},${jobLabels(g)}${g.gpuInstanceId === undefined ? '' : `,${instance(g)},compute_instance_id="0"`}`;
  // One start time per job and node, as the exporter reports it.
  const started = gpus.filter((g, i) => g.startedSecondsAgo !== undefined && gpus.findIndex((o) => o.node === g.node && o.job === g.job) === i);
  return [
    '# TYPE gpuwatch_gpu_utilization_ratio gauge',
    ...samples('gpuwatch_gpu_utilization_ratio', whole, gpuLabels, (g) => g.utilization),
    '# TYPE gpuwatch_gpu_mig_utilization_ratio gauge',
    ...samples(
      'gpuwatch_gpu_mig_utilization_ratio',
      mig,
      (g) => `${gpuLabels(g)},${instance(g)}`,
      (g) => g.utilization,
    ),
    '# TYPE gpuwatch_job_gpu_allocated gauge',
    ...samples('gpuwatch_job_gpu_allocated', gpus, allocation, () => 1),
    ...(started.length > 0 ? ['# TYPE gpuwatch_job_start_time_seconds gauge'] : []),
    ...samples(
      'gpuwatch_job_start_time_seconds',
      started,
      (g) => `node="${g.node}",${jobLabels(g)}`,
      (g) => nowSeconds - (g.startedSecondsAgo ?? 0),
    ),
    '# EOF',
    '',
  ].join('\n');
}

/** Debian's Prometheus on loopback, holding `openMetrics` backfilled with promtool. */
export async function startPrometheusWithHistory(openMetrics: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-idle-prometheus-'));
  const data = join(dir, 'data');
  await writeFile(join(dir, 'history.om'), openMetrics);
  await writeFile(join(dir, 'prometheus.yml'), 'global: {evaluation_interval: 15s}\n');
  await execFileAsync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'history.om'), data]);
  const listen = `127.0.0.1:${await freePort()}`;
  const args = [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${data}`, `--web.listen-address=${listen}`, '--log.level=warn'];
  const prometheus = await startExternal('prometheus', 'prometheus', args, listen, createLogger('prometheus-test', 'silent'));
  return {
    url: prometheus.url,
    stop: async () => {
      await prometheus.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Idle GPUs (2 % busy for the last two hours), one per job, for tests whose actions must go through. */
export function idleGpus(jobs: readonly string[]): GpuHistory[] {
  return jobs.map((job, i) => ({ node: `node-${i}`, uuid: `GPU-idle-${i}`, job, utilization: 0.02, sinceSeconds: 7_200 }));
}

/** The idleness criterion tests use: the default one, 1 h below 10 %. */
export const TEST_IDLE_CRITERION = { timeoutMs: 3_000, windowSeconds: 3_600, threshold: 0.1 };
