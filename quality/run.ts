/**
 * `npm run quality`: the alert quality report. Runs the labelled corpus (quality/corpus.ts) through
 * the real chain up to the alerts — one replay exporter per node, Debian's Prometheus with the
 * generated scrape config and rules (1 s scrape and evaluation, every `for` and window scaled down)
 * — polls Prometheus' alerts every 500 ms, and prints per alert: precision, recall and
 * time-to-detect against `for` + 2 scrape intervals, and the pages on healthy and blip traces.
 * Exits 1 when a goal is missed, 2 when Prometheus is not installed.
 *
 * `npm run quality -- [seconds] [--json FILE]`: how long to watch (default 75 s after the last node
 * started; every fault is detected, and every blip over, well before that); `--help` says more.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { startExporter, type RunningExporter } from '../exporter/command.js';
import { generateArtifacts } from '../rules-gen/generate.js';
import { writeToDir } from '../rules-gen/output.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { findOnPath, startExternal, type External } from '../stack/external.js';
import { exporterFlags, planStack, prometheusArgs, prometheusConfig, type ExporterPlan } from '../stack/plan.js';
import { freePort, freePortRange } from '../test/ports.js';
import { CORPUS, NOT_INJECTED, QUALITY_POLICIES, nodesOf, nodeTraces, type NodeTrace, type ScenarioEvent } from './corpus.js';
import { scoreQuality, type CaseTiming, type FiredSeries, type QualityScore } from './score.js';

const RECORDING = fileURLToPath(new URL('../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/q-busy.xml', import.meta.url));
const SHARED_CLUSTER = 'quality';
const SCRAPE_SECONDS = 1;
const POLL_MS = 500;
const GPUS = 4;

const seconds = (s: number) => `${s}s`;

function layout(nodes: string[], firstIp: number): string {
  return stringify({
    'machine-sku': { 'h100-4x': { 'computing-device': { type: 'nvidia.com/gpu', model: 'H100', count: GPUS } } },
    'machine-list': nodes.map((hostname, i) => ({
      hostname,
      hostip: `10.30.${Math.floor((firstIp + i) / 250)}.${((firstIp + i) % 250) + 1}`,
      'machine-type': 'h100-4x',
      'pai-worker': 'true',
    })),
  });
}

function scenario(trace: NodeTrace): string {
  const event = (e: ScenarioEvent) => ({ ...e, at: seconds(e.at), ...(e.until !== undefined ? { until: seconds(e.until) } : {}) });
  return stringify({ source: RECORDING, gpus: GPUS, jobs: trace.jobs ?? [], events: (trace.events ?? []).map(event) });
}

/** gpuwatch.yaml, the layouts and one scenario per node, in `dir`. */
async function writeCorpus(dir: string, prometheusPort: number, exporterBasePort: number): Promise<void> {
  const shared = CORPUS.filter((c) => !c.ownCluster);
  const own = CORPUS.filter((c) => c.ownCluster);
  await writeFile(join(dir, 'layout.yaml'), layout(shared.flatMap(nodesOf), 0));
  for (const [i, c] of own.entries()) await writeFile(join(dir, `layout-${c.name}.yaml`), layout(nodesOf(c), 500 + i * 10));
  const config = {
    clusters: [
      { name: SHARED_CLUSTER, priority: 'production', layout: 'layout.yaml' },
      ...own.map((c) => ({ name: c.name, priority: 'production', layout: `layout-${c.name}.yaml` })),
    ],
    policies: QUALITY_POLICIES,
    exporter: { interval: seconds(SCRAPE_SECONDS), timeout: '3s', hostMetrics: false },
    stack: { dir: '.', scenarios: 'scenarios', exporterBasePort, prometheus: `127.0.0.1:${prometheusPort}`, evaluationInterval: seconds(SCRAPE_SECONDS) },
  };
  await writeFile(join(dir, 'gpuwatch.yaml'), `# Written by npm run quality.\n${stringify(config)}`);
  await mkdir(join(dir, 'scenarios'));
  for (const [node, trace] of nodeTraces()) await writeFile(join(dir, 'scenarios', `${node}.yaml`), scenario(trace));
}

interface Exporters {
  starts: Record<string, number>;
  stop(): Promise<void>;
}

/** Starts every node's exporter (its scenario clock starts with it) and schedules the exporter stops. */
async function startExporters(loaded: LoadedConfig, plans: ExporterPlan[]): Promise<Exporters> {
  const log = createLogger('exporter', 'silent');
  const traces = nodeTraces();
  const running = new Map<string, RunningExporter>();
  const timers: NodeJS.Timeout[] = [];
  const starts: Record<string, number> = {};
  const start = async (plan: ExporterPlan) => {
    running.set(plan.node, await startExporter(exporterFlags(plan), log, loaded));
  };
  const stopOne = async (node: string) => {
    const exporter = running.get(node);
    running.delete(node);
    await exporter?.stop();
  };
  for (const plan of plans) {
    starts[plan.node] = Date.now();
    await start(plan);
    const stops = traces.get(plan.node)?.exporterStops;
    if (!stops) continue;
    const started = starts[plan.node] as number;
    timers.push(setTimeout(() => void stopOne(plan.node), started + stops.at * 1000 - Date.now()));
    if (stops.until !== undefined) timers.push(setTimeout(() => void start(plan), started + stops.until * 1000 - Date.now()));
  }
  return {
    starts,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      for (const node of [...running.keys()]) await stopOne(node);
    },
  };
}

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return ((await res.json()) as { data: T }).data;
}

/** Each alert rule's `for`, in seconds. */
async function forOfRules(prometheus: string): Promise<Record<string, number>> {
  const data = await getJson<{ groups: { rules: { type: string; name: string; duration?: number }[] }[] }>(`${prometheus}/api/v1/rules?type=alert`);
  const out: Record<string, number> = {};
  for (const rule of data.groups.flatMap((g) => g.rules)) if (rule.type === 'alerting') out[rule.name] = Math.max(out[rule.name] ?? 0, rule.duration ?? 0);
  return out;
}

/** Epoch ms of each node's first scrape: a fault present from the start can be seen no earlier. */
async function firstScrapes(prometheus: string): Promise<Record<string, number>> {
  const query = encodeURIComponent('min by (node) (min_over_time(timestamp(up{job="gpuwatch"})[10m:1s]))');
  const data = await getJson<{ result: { metric: { node?: string }; value: [number, string] }[] }>(`${prometheus}/api/v1/query?query=${query}`);
  return Object.fromEntries(data.result.map((r) => [r.metric.node ?? '', Number(r.value[1]) * 1000]));
}

/** Polls the alerts until `untilMs`; each series' firing time is its activeAt + its rule's `for`. */
async function watchAlerts(prometheus: string, forSeconds: Record<string, number>, untilMs: number): Promise<FiredSeries[]> {
  const fired = new Map<string, FiredSeries>();
  const polls = Math.ceil((untilMs - Date.now()) / POLL_MS) + 1;
  for (let i = 0; i < polls && Date.now() < untilMs; i++) {
    const { alerts } = await getJson<{ alerts: PromAlert[] }>(`${prometheus}/api/v1/alerts`);
    for (const a of alerts) {
      if (a.state !== 'firing' || a.labels.watchdog === 'true') continue; // the Watchdog always fires by design
      const key = JSON.stringify(Object.entries(a.labels).sort(([x], [y]) => x.localeCompare(y)));
      if (fired.has(key)) continue;
      const firingAt = Date.parse(a.activeAt) + (forSeconds[a.labels.alertname ?? ''] ?? 0) * 1000;
      fired.set(key, { labels: a.labels, firingAt });
    }
    await sleep(POLL_MS);
  }
  return [...fired.values()];
}

const show = (v: number | undefined, digits = 1, unit = '') => (v === undefined ? '—' : `${v.toFixed(digits)}${unit}`);
const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)} %`);

export function printScore(score: QualityScore, corpus = CORPUS): void {
  const count = (kind: string) => corpus.filter((c) => c.kind === kind).length;
  console.log(
    `## alert quality: ${corpus.length} traces (${count('healthy')} healthy, ${count('blip')} blips, ${count('fault')} faults), real Prometheus, ${SCRAPE_SECONDS} s scrape and evaluation`,
  );
  console.log('');
  console.log('| alert | for | faults | detected | recall | fired | precision | time-to-detect median | max | goal (for + 2 scrapes) | met |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of score.rows) {
    const untested = r.expected === 0 && r.fired === 0;
    const note = untested ? (NOT_INJECTED[r.alert] ? `not injected: ${NOT_INJECTED[r.alert]}` : 'not injected') : r.met ? 'yes' : 'NO';
    console.log(
      `| ${r.alert} | ${show(r.forSeconds, 0, ' s')} | ${r.expected} | ${r.detected} | ${pct(r.recall)} | ${r.fired} | ${pct(r.precision)} | ${show(r.detectMedianSeconds, 1, ' s')} | ${show(r.detectMaxSeconds, 1, ' s')} | ${show(r.goalSeconds, 0, ' s')} | ${note} |`,
    );
  }
  console.log('');
  console.log(`pages on healthy traces: ${score.pagesOnHealthy}; on blips: ${score.pagesOnBlips}; recall over all faults: ${pct(score.recall)}`);
  for (const d of score.detections) {
    const where = Object.entries(d.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `  ${d.case}: ${d.alert}${where ? ` {${where}}` : ''} ${d.detectSeconds === undefined ? 'NOT DETECTED' : `fired ${show(d.sinceFaultSeconds)} s after the fault, ${show(d.detectSeconds)} s after its condition held`}`,
    );
  }
  for (const p of score.falsePages) console.log(`  FALSE PAGE on ${p.case ?? 'no case'} (${p.kind}): ${p.alert} ${JSON.stringify(p.labels)}: ${p.why}`);
  console.log(`goals (recall 100 %, no page on healthy or blip traces, detection within for + 2 scrapes): ${score.met ? 'met' : 'MISSED'}`);
}

export async function runQuality(watchSeconds = 75): Promise<QualityScore> {
  const binary = await findOnPath(['prometheus']);
  if (!binary) throw Object.assign(new Error('Prometheus is not installed (Debian: apt-get install prometheus)'), { exitCode: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-quality-'));
  const nodes = CORPUS.flatMap(nodesOf).length;
  const log = createLogger('quality', 'warn');
  let exporters: Exporters | undefined;
  let prometheus: External | undefined;
  try {
    await writeCorpus(dir, await freePort(), await freePortRange(nodes));
    const loaded = await loadConfig(join(dir, 'gpuwatch.yaml'));
    const plan = planStack(loaded, new Set(await readdir(join(dir, 'scenarios'))));
    await writeToDir(generateArtifacts(loaded), plan.generatedDir);
    exporters = await startExporters(loaded, plan.exporters);
    await writeFile(plan.prometheus.config, prometheusConfig(loaded, plan, false));
    prometheus = await startExternal('prometheus', binary, prometheusArgs(plan.prometheus), plan.prometheus.listen, log);
    const forSeconds = await forOfRules(prometheus.url);
    const lastStart = Math.max(...Object.values(exporters.starts));
    console.error(`quality: ${CORPUS.length} traces on ${nodes} nodes; watching the alerts for ${watchSeconds} s`);
    const fired = await watchAlerts(prometheus.url, forSeconds, lastStart + watchSeconds * 1000);
    const scraped = await firstScrapes(prometheus.url);
    const timing: Record<string, CaseTiming> = {};
    for (const c of CORPUS) {
      const nodes = nodesOf(c);
      timing[c.name] = {
        nodeStarts: Object.fromEntries(nodes.map((n) => [n, exporters?.starts[n] as number])),
        observedFrom: Math.max(...nodes.map((n) => scraped[n] ?? Date.now())),
      };
    }
    return scoreQuality({ corpus: CORPUS, fired, timing, forSeconds, scrapeIntervalSeconds: SCRAPE_SECONDS, sharedCluster: SHARED_CLUSTER });
  } finally {
    await prometheus?.stop();
    await exporters?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await new Command('npm run quality --')
    .description(
      'Alert quality: the labelled replay corpus through the generated rules in a real Prometheus; exits 1 when a goal is missed, 2 when Prometheus is missing',
    )
    .argument('[seconds]', 'how long to watch the alerts after the last node started', '75')
    .option('--json <file>', 'also write the whole score as JSON')
    .action(async (watch: string, options: { json?: string }) => {
      const seconds = Number(watch);
      if (!Number.isInteger(seconds) || seconds < 30 || seconds > 600) {
        console.error(`quality: seconds must be a whole number from 30 to 600, not "${watch}"`);
        process.exitCode = 2;
        return;
      }
      try {
        const score = await runQuality(seconds);
        printScore(score);
        if (options.json) await writeFile(options.json, `${JSON.stringify(score, null, 2)}\n`);
        process.exitCode = score.met ? 0 : 1;
      } catch (error) {
        console.error(`quality: ${(error as Error).message}`);
        process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
      }
    })
    .parseAsync();
}
