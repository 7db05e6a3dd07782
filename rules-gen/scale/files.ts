/**
 * The `scale/` files `gpuwatch generate` writes when gpuwatch.yaml has a `scale:` section: the split
 * rule files, each shard's scrape config, the central layer's config and `topology.json` with every
 * process's command line (scale/README.md shows the same as shell commands). Nothing without it.
 * Where central.yml has alerts prometheus/rules.yml lacks (the engine's self-checks), their promtool
 * tests are `scale/rules/central.test.yml`.
 *
 * Prometheus engine: every shard is a Prometheus keeping its `hashmod` share of the nodes (on the
 * `node` label, so one node's series all land on one shard), evaluating the per-node rules and
 * remote-writing everything to the central Prometheus, which evaluates the central rules and
 * notifies every Alertmanager. VictoriaMetrics engine: the vmagent shards share one scrape config
 * and split its targets by `-promscrape.cluster.*` (one target per node) — VictoriaMetrics, vmalert
 * and the shards themselves among them; vmalert evaluates both rule files against VictoriaMetrics
 * (vmagent evaluates no rules), central.yml with vmalert's self-checks instead of Prometheus's.
 */
import type { GenContext } from '../context.js';
import { alertGroups, type AlertGroup } from '../alerts.js';
import { ruleGroups, rulesYaml } from '../rules-file.js';
import { unitTestsYaml } from '../unit-tests.js';
import { reachable, scrapeJob, serviceScrapeJob, serviceScrapeJobs, serviceTargets, type ServiceTargets, type Worker } from '../scrape.js';
import type { ArtifactFiles, RuleGroup } from '../types.js';
import { GENERATED_HEADER, yamlText } from '../yaml-text.js';
import { scaleReadme } from './readme.js';
import { splitRuleGroups } from './split.js';
import { LAYOUT_GROUP } from '../recording.js';
import { evaluationInterval, SCALE_FILES, scaleTopology, VM_ENGINE_JOBS, type Topology } from './topology.js';

/** The label the Prometheus shards hash: one node, one shard. */
export const SHARD_LABEL = 'node';

/** The `scale/` files; empty without a `scale:` section. */
export function scaleFiles(ctx: GenContext, recording: RuleGroup[], alerts: AlertGroup[]): ArtifactFiles {
  const scale = ctx.loaded.config.scale;
  if (!scale) return new Map();
  const central = scale.engine === 'prometheus' ? alerts : alertGroups(ctx, scale.engine);
  // vmalert: the layout constants are scraped from gpuwatch layout-metrics, not recorded (topology.ts).
  const recorded = scale.engine === 'prometheus' ? recording : recording.filter((g) => g.name !== LAYOUT_GROUP);
  const split = splitRuleGroups(recorded, ruleGroups([], central));
  const topology = scaleTopology(ctx, scale);
  const files: ArtifactFiles = new Map([
    [SCALE_FILES.perNodeRules, rulesYaml(split.perNode)],
    [SCALE_FILES.centralRules, rulesYaml(split.central)],
  ]);
  const engineOnly = alertsNotIn(central, alerts);
  if (engineOnly.length > 0) files.set(SCALE_FILES.centralTests, unitTestsYaml(engineOnly, 'central.yml', CENTRAL_TESTS_NOTE));
  if (scale.engine === 'victoriametrics') {
    files.set(
      SCALE_FILES.vmagentScrape,
      yamlText(vmagentScrapeConfig(ctx, topology), `${GENERATED_HEADER}\nEvery vmagent shard reads this; -promscrape.cluster.* picks its targets.`),
    );
  } else {
    for (let i = 0; i < scale.shards; i++) {
      files.set(
        SCALE_FILES.shardPrometheus(i),
        yamlText(shardPrometheusConfig(ctx, scale.shards, i, topology), `${GENERATED_HEADER}\nShard ${i} of ${scale.shards}.`),
      );
    }
    files.set(SCALE_FILES.centralPrometheus, yamlText(centralPrometheusConfig(ctx, topology), GENERATED_HEADER));
  }
  files.set(SCALE_FILES.topology, `${JSON.stringify(topologyJson(topology), null, 2)}\n`);
  files.set(SCALE_FILES.readme, scaleReadme(topology));
  return files;
}

const CENTRAL_TESTS_NOTE =
  "The tests of the alerts central.yml has and prometheus/rules.yml has not (the engine's self-checks); prometheus/rules.test.yml tests the others.\nRun in scale/rules: promtool test rules central.test.yml";

/** The groups of `groups` with only the alerts `others` has none of (by name); groups left empty go. */
function alertsNotIn(groups: AlertGroup[], others: AlertGroup[]): AlertGroup[] {
  const known = new Set(others.flatMap((g) => g.alerts.map((a) => a.rule.alert)));
  return groups.map((g) => ({ name: g.name, alerts: g.alerts.filter((a) => !known.has(a.rule.alert)) })).filter((g) => g.alerts.length > 0);
}

const globalSection = (ctx: GenContext) => ({ scrape_interval: ctx.loaded.config.exporter.interval, evaluation_interval: evaluationInterval(ctx) });

/** Where an exporter is scraped: the layout's address (as generated), or another (`gpuwatch stack --scale` points at local replays). */
export type ExporterTarget = (w: Worker) => string;
const layoutAddress: ExporterTarget = (w) => w.instance;

/** Shard `index` of `shards`: the exporter job keeping its hashmod share of the nodes, the per-node rules, remote write to the store. */
export function shardPrometheusConfig(ctx: GenContext, shards: number, index: number, topology: Topology, target = layoutAddress) {
  const job = scrapeJob(ctx, target);
  const relabel = [
    { source_labels: [SHARD_LABEL], modulus: shards, target_label: '__tmp_shard', action: 'hashmod' },
    { source_labels: ['__tmp_shard'], regex: String(index), action: 'keep' },
  ];
  return {
    global: globalSection(ctx),
    rule_files: ['../rules/per-node.yml'],
    scrape_configs: [{ ...job, relabel_configs: relabel }],
    remote_write: [{ url: topology.remoteWriteUrl }],
  };
}

/** The central Prometheus: receives the shards' remote write, evaluates the central rules, scrapes the services. */
export function centralPrometheusConfig(ctx: GenContext, topology: Topology) {
  return {
    global: globalSection(ctx),
    rule_files: ['../rules/central.yml'],
    alerting: { alertmanagers: topology.alertmanagers.map(alertmanagerTarget) },
    scrape_configs: serviceScrapeJobs(ctx, scaleServiceTargets(ctx, topology)),
  };
}

/**
 * The services as the topology runs them: its routers and Alertmanagers, and with the Prometheus
 * engine its Prometheus servers (the pipeline alerts read their self-monitoring series). The rule
 * service is wherever `scrape:` or `ruleService.listen` says.
 */
export function scaleServiceTargets(ctx: GenContext, topology: Topology): ServiceTargets {
  const listens = (role: string) => topology.processes.filter((p) => p.role === role).map((p) => p.listen);
  const prometheus = topology.engine === 'prometheus' ? [...listens('store'), ...listens('shard')] : [];
  return { router: listens('router'), ruleService: serviceTargets(ctx).ruleService, prometheus, alertmanager: listens('alertmanager') };
}

function alertmanagerTarget(url: string) {
  const u = new URL(url);
  const prefix = u.pathname.replace(/\/+$/, '');
  return {
    scheme: u.protocol.replace(':', ''),
    ...(prefix ? { path_prefix: prefix } : {}),
    static_configs: [{ targets: [`${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`] }],
  };
}

/** The one scrape config of every vmagent shard: the exporters, the services and the engine's own processes. */
export function vmagentScrapeConfig(ctx: GenContext, topology: Topology, target = layoutAddress) {
  return {
    global: { scrape_interval: ctx.loaded.config.exporter.interval },
    scrape_configs: [
      scrapeJob(ctx, target),
      ...serviceScrapeJobs(ctx, scaleServiceTargets(ctx, topology)),
      ...vmEngineScrapeJobs(ctx, topology),
      ...layoutScrapeJob(ctx, topology),
    ],
  };
}

/** The layout constants from gpuwatch layout-metrics, labelled as the gpuwatch-layout rules label them: cluster and node only. */
function layoutScrapeJob(ctx: GenContext, topology: Topology) {
  const targets = topology.processes.filter((p) => p.role === 'layout').map((p) => reachable(p.listen));
  if (targets.length === 0) return [];
  // No job or instance label: on an alert that label would read as an OpenPAI job.
  return [{ ...serviceScrapeJob(ctx, LAYOUT_SCRAPE_JOB, targets), metric_relabel_configs: [{ action: 'labeldrop', regex: 'job|instance' }] }];
}

export const LAYOUT_SCRAPE_JOB = 'gpuwatch-layout';

/** VictoriaMetrics, vmalert and every vmagent shard on their listen addresses: the series the vmalert self-checks read. */
export function vmEngineScrapeJobs(ctx: GenContext, topology: Topology) {
  if (topology.engine !== 'victoriametrics') return [];
  return (Object.keys(VM_ENGINE_JOBS) as (keyof typeof VM_ENGINE_JOBS)[])
    .map((role) => ({ job: VM_ENGINE_JOBS[role], targets: topology.processes.filter((p) => p.role === role).map((p) => reachable(p.listen)) }))
    .filter((j) => j.targets.length > 0)
    .map((j) => serviceScrapeJob(ctx, j.job, j.targets));
}

function topologyJson(t: Topology) {
  return {
    engine: t.engine,
    cwd: 'the gpuwatch generate --out directory: every path in args is relative to it',
    placeholders: { '{config}': 'the gpuwatch.yaml the routers read' },
    storeUrl: t.storeUrl,
    remoteWriteUrl: t.remoteWriteUrl,
    alertmanagers: t.alertmanagers,
    processes: t.processes,
  };
}
