/**
 * The VictoriaMetrics half of bench/scale.ts: the scaled topology's store and rule evaluation
 * (victoria-metrics and vmalert with the command lines topology.json lists) over the synthetic
 * cluster of bench/synthetic-cluster.ts, with 2 h of history imported through `/api/v1/import` and
 * live samples pushed through `/api/v1/import/prometheus` every step.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { scalePortCount } from '../src/config/scale.js';
import { generateRules } from '../rules-gen/generate.js';
import { SCALE_FILES, type Topology } from '../rules-gen/scale/topology.js';
import { createContext } from '../rules-gen/context.js';
import { layoutRegistry } from '../rules-gen/layout-metrics/series.js';
import { createLogger } from '../src/log.js';
import { startExternal } from '../stack/external.js';
import { freePort, freePortRange } from '../test/ports.js';
import { dirBytes, MB, median, sleep } from './bench-util.js';
import { CLUSTER, jobSummary, layoutYaml, syntheticSeries, type JobSummary } from './synthetic-cluster.js';
import type { RulesEvalOptions } from './rules-eval.js';
import { historyJsonLines, postChunks, presentText, type Counts } from './vm-import.js';

/** As rules-eval's options; `reads` are of vmalert's /metrics, `evaluationSeconds` vmalert's interval, `stepSeconds` also the live pushes' spacing. */
export interface VmOptions extends RulesEvalOptions {
  /** Seconds after the first live push before reading: vmalert's 5-minute lookback then holds only live samples. */
  settleSeconds: number;
}

export interface GroupTiming {
  group: string;
  rules: number;
  alerting: boolean;
  /** Median over the reads of vmalert_iteration_duration_seconds{quantile="0.5"}, seconds; min and max of the reads. */
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  /** Median over the reads of the group's rules' evaluationTime in the rules API, added up (its last iteration, about). */
  lastSpanSeconds: number;
}

export interface VmResult {
  nodes: number;
  gpus: number;
  jobs: JobSummary;
  series: number;
  samples: number;
  importSeconds: number;
  /** Series VictoriaMetrics holds at the end (/api/v1/series/count), recordings included. */
  storedSeries: number;
  livePushes: number;
  /** Pushes that started more than one step late (the pusher could not keep up). */
  latePushes: number;
  failedPushes: number;
  groups: GroupTiming[];
  vmRssMb: number;
  vmRssAfterImportMb: number;
  vmalertRssMb: number;
  /** du of the data directory after /internal/force_flush. */
  vmDiskMb: number;
  /** sum of vm_data_size_bytes at the same moment. */
  vmDataSizeMb: number;
  /** The rules with the longest last evaluation (evaluationTime in vmalert's rules API), slowest first. */
  slowestRules: { group: string; rule: string; seconds: number }[];
  /** Groups that had not run three times when the reads began. */
  notSteady: string[];
  /** `group/rule: error` of the rules failing at the last read (VictoriaMetrics' query timeouts and queue limits, say). */
  ruleErrors: string[];
}

interface ListedGroup {
  name: string;
  rules: { name: string; type: string; evaluationTime: number; lastEvaluation: string; lastError?: string }[];
}

/** Writes gpuwatch.yaml with `scale: {engine: victoriametrics}` and its layout into `dir`, generates, writes the files; returns topology and rule groups. */
async function generated(dir: string, opts: VmOptions, notifier: string) {
  const basePort = await freePortRange(scalePortCount({ shards: 1, routers: 1, alertmanagers: [notifier] }));
  await writeFile(join(dir, 'layout.yaml'), layoutYaml(opts.nodes, opts.gpusPerNode));
  const scale = { engine: 'victoriametrics', shards: 1, routers: 1, alertmanagers: [notifier], listenHost: '127.0.0.1', basePort };
  const config = { clusters: [{ name: CLUSTER, layout: 'layout.yaml' }], exporter: { interval: `${opts.stepSeconds}s` }, scale };
  await writeFile(join(dir, 'gpuwatch.yaml'), JSON.stringify(config));
  const loaded = await loadConfig(join(dir, 'gpuwatch.yaml'));
  const files = generateRules(loaded);
  for (const [path, text] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const topology = JSON.parse(files.get(SCALE_FILES.topology) ?? '{}') as Topology;
  const groups = [SCALE_FILES.perNodeRules, SCALE_FILES.centralRules].flatMap(
    (f) => (parse(files.get(f) ?? '') as { groups: { name: string; rules: { alert?: string }[] }[] }).groups,
  );
  // The topology's gpuwatch layout-metrics serves these for the shards to scrape; here they go in with the live pushes.
  const layout = await layoutRegistry(createContext(loaded)).metrics();
  return { topology, groups, layout };
}

const log = createLogger('bench-scale', 'warn');

/** An Alertmanager stand-in on loopback: vmalert's notifier needs somewhere that answers. */
function notifierSink(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Pushes every series' current value once a step from `t0` on, until stopped (at most `maxPushes`),
 * without timestamps: VictoriaMetrics stamps each sample on arrival, as it would a scrape's. The body
 * is rebuilt once a minute (like rules-eval's live target) so the pusher costs less CPU next to
 * VictoriaMetrics; it is held as ~1 MB chunks.
 */
function livePusher(url: string, opts: VmOptions, t0: number, maxPushes: number, layout: string) {
  const stats = { pushes: 0, late: 0, failed: 0, lastError: '' };
  let stopped = false;
  let cached = { minute: -1, chunks: [] as string[] };
  const body = (t: number) => {
    if (Math.floor(t / 60) !== cached.minute)
      cached = { minute: Math.floor(t / 60), chunks: [layout, ...presentText(syntheticSeries(opts.nodes, opts.gpusPerNode, t0), t)] };
    return cached.chunks;
  };
  const loop = (async () => {
    for (let k = 0; k < maxPushes && !stopped; k++) {
      const t = t0 + k * opts.stepSeconds;
      const wait = t * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -opts.stepSeconds * 1000) stats.late++;
      if (stopped) break;
      try {
        await postChunks(url, body(t));
        stats.pushes++;
      } catch (err) {
        stats.failed++;
        stats.lastError = String(err);
      }
    }
  })();
  return {
    stats,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const metricValue = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/** group → vmalert_iteration_duration_seconds{quantile="0.5"} (or another per-group series) from vmalert's /metrics. */
function perGroup(text: string, metric: string, quantile?: string): Map<string, number> {
  const found = new Map<string, number>();
  const q = quantile ? `,quantile="${quantile}"` : '';
  const re = new RegExp(`^${metric}\\{group="([^"]+)", file="[^"]*"${q}\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) found.set(m[1] ?? '', Number(m[2]));
  return found;
}

const getText = async (url: string) => (await fetch(url)).text();
const listed = async (vmalert: string) => ((await (await fetch(`${vmalert}/api/v1/rules`)).json()) as { data: { groups: ListedGroup[] } }).data.groups;

export async function benchVictoriaMetrics(opts: VmOptions): Promise<VmResult> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-bench-vm-'));
  const stops: (() => Promise<void>)[] = [];
  let sink: Server | undefined;
  let pusher: ReturnType<typeof livePusher> | undefined;
  try {
    const notifierPort = await freePort();
    sink = await notifierSink(notifierPort);
    const { topology, groups, layout } = await generated(dir, opts, `http://127.0.0.1:${notifierPort}`);
    // Each as topology.json starts it (only vmalert's interval is the benchmark's), ready once its /health answers.
    const startRole = async (role: string) => {
      const p = topology.processes.find((x) => x.role === role);
      if (!p) throw new Error(`topology lists no ${role} process`);
      const args = p.args.map((a) => (a.startsWith('-evaluationInterval=') ? `-evaluationInterval=${opts.evaluationSeconds}s` : a));
      const external = await startExternal(p.name, p.command, args, p.listen, log, { cwd: dir, readyPath: '/health' });
      stops.push(external.stop);
      return external;
    };
    const vm = await startRole('store');

    const step = opts.stepSeconds;
    const t0 = Math.ceil(Date.now() / 1000 / step) * step;
    pusher = livePusher(`${vm.url}/api/v1/import/prometheus`, opts, t0, Math.ceil(3600 / step), layout);
    const counts: Counts = { series: 0, samples: 0 };
    const started = Date.now();
    const from = t0 - opts.historyHours * 3600;
    await postChunks(`${vm.url}/api/v1/import`, historyJsonLines(syntheticSeries(opts.nodes, opts.gpusPerNode, t0), from, t0 - step, step, counts));
    const importSeconds = (Date.now() - started) / 1000;
    const vmRssAfterImportMb = metricValue(await getText(`${vm.url}/metrics`), 'process_resident_memory_bytes') / MB;

    const vmalert = await startRole('rules');
    const notSteady = await steadyState(
      vmalert.url,
      groups.map((g) => g.name),
      t0 + opts.settleSeconds,
    );
    const timings = await readTimings(vmalert.url, groups, opts);

    await fetch(`${vm.url}/internal/force_flush`);
    await sleep(2000);
    const vmMetrics = await getText(`${vm.url}/metrics`);
    const dataSize = [...vmMetrics.matchAll(/^vm_data_size_bytes\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    const storedSeries = ((await (await fetch(`${vm.url}/api/v1/series/count`)).json()) as { data: number[] }).data[0] ?? NaN;
    await pusher.stop();
    if (pusher.stats.failed > 0) console.error(`live pushes failed: ${pusher.stats.failed}, last: ${pusher.stats.lastError}`);
    return {
      nodes: opts.nodes,
      gpus: opts.nodes * opts.gpusPerNode,
      jobs: jobSummary(opts.nodes, opts.gpusPerNode),
      series: counts.series,
      samples: counts.samples,
      importSeconds,
      storedSeries,
      livePushes: pusher.stats.pushes,
      latePushes: pusher.stats.late,
      failedPushes: pusher.stats.failed,
      groups: timings.groups,
      vmRssMb: metricValue(vmMetrics, 'process_resident_memory_bytes') / MB,
      vmRssAfterImportMb,
      vmalertRssMb: metricValue(await getText(`${vmalert.url}/metrics`), 'process_resident_memory_bytes') / MB,
      vmDiskMb: (await dirBytes(join(dir, 'data'))) / MB,
      vmDataSizeMb: dataSize / MB,
      slowestRules: timings.slowestRules,
      notSteady,
      ruleErrors: timings.errors,
    };
  } finally {
    await pusher?.stop().catch(() => undefined);
    for (const stop of stops.reverse()) await stop();
    sink?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Until `notBefore` (Unix seconds) has passed and every group has run at least three times, for at
 * most 6 minutes more; returns the groups still short of three iterations then (an overloaded store
 * leaves some there: their figures are reported, marked, rather than lost).
 */
async function steadyState(vmalert: string, groupNames: string[], notBefore: number): Promise<string[]> {
  await sleep(Math.max(0, notBefore * 1000 - Date.now()));
  let short = groupNames;
  for (let attempt = 0; attempt < 180 && short.length > 0; attempt++) {
    if (attempt > 0) await sleep(2000);
    const iterations = perGroup(await getText(`${vmalert}/metrics`).catch(() => ''), 'vmalert_iteration_total');
    short = groupNames.filter((g) => (iterations.get(g) ?? 0) < 3);
  }
  return short;
}

/**
 * Per group, several reads one evaluation interval apart of vmalert's own median iteration time
 * (vmalert_iteration_duration_seconds{quantile="0.5"}, over its last few minutes of iterations).
 * Beside it, the rules API's evaluationTime of each rule's last evaluation, added up per group.
 */
async function readTimings(vmalert: string, groups: { name: string; rules: { alert?: string }[] }[], opts: VmOptions) {
  const reads: Map<string, number>[] = [];
  const spans: Map<string, number>[] = [];
  let last: ListedGroup[] = [];
  for (let i = 0; i < opts.reads; i++) {
    last = await listed(vmalert);
    spans.push(new Map(last.map((g) => [g.name, g.rules.reduce((sum, r) => sum + r.evaluationTime, 0)])));
    reads.push(perGroup(await getText(`${vmalert}/metrics`), 'vmalert_iteration_duration_seconds', '0.5'));
    if (i < opts.reads - 1) await sleep(opts.evaluationSeconds * 1000);
  }
  const errors = last.flatMap((g) => g.rules.filter((r) => r.lastError).map((r) => `${g.name}/${r.name}: ${r.lastError}`));
  const timing = (g: { name: string; rules: { alert?: string }[] }): GroupTiming => {
    const values = reads.map((r) => r.get(g.name) ?? NaN);
    return {
      group: g.name,
      rules: g.rules.length,
      alerting: g.rules.some((r) => r.alert !== undefined),
      medianSeconds: median(values),
      minSeconds: Math.min(...values),
      maxSeconds: Math.max(...values),
      lastSpanSeconds: median(spans.map((r) => r.get(g.name) ?? NaN)),
    };
  };
  const slowestRules = last
    .flatMap((g) => g.rules.map((r) => ({ group: g.name, rule: r.name, seconds: r.evaluationTime })))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, 10);
  return { groups: groups.map(timing), slowestRules, errors };
}
