/**
 * The `scale/` files `gpuwatch generate` writes when gpuwatch.yaml has a `scale:` section: the split
 * rule files, each shard's scrape config, the central layer's config and `topology.json` with every
 * process's command line (scale/README.md shows the same as shell commands). Nothing without it.
 *
 * Prometheus engine: every shard is a Prometheus keeping its `hashmod` share of the nodes (on the
 * `node` label, so one node's series all land on one shard), evaluating the per-node rules and
 * remote-writing everything to the central Prometheus, which evaluates the central rules and
 * notifies every Alertmanager. VictoriaMetrics engine: the vmagent shards share one scrape config
 * and split its targets by `-promscrape.cluster.*` (one target per node); vmalert evaluates both
 * rule files against VictoriaMetrics (vmagent evaluates no rules).
 */
import type { GenContext } from '../context.js';
import { rulesYaml } from '../rules-file.js';
import { scrapeJob, serviceScrapeJobs, serviceTargets, type ServiceTargets, type Worker } from '../scrape.js';
import type { ArtifactFiles, RuleGroup } from '../types.js';
import { GENERATED_HEADER, yamlText } from '../yaml-text.js';
import { scaleReadme } from './readme.js';
import { splitRuleGroups } from './split.js';
import { evaluationInterval, SCALE_FILES, scaleTopology, type Topology } from './topology.js';

/** The label the Prometheus shards hash: one node, one shard. */
export const SHARD_LABEL = 'node';

/** The `scale/` files; empty without a `scale:` section. */
export function scaleFiles(ctx: GenContext, recording: RuleGroup[], alerts: RuleGroup[]): ArtifactFiles {
  const scale = ctx.loaded.config.scale;
  if (!scale) return new Map();
  const split = splitRuleGroups(recording, alerts);
  const topology = scaleTopology(ctx, scale);
  const files: ArtifactFiles = new Map([
    [SCALE_FILES.perNodeRules, rulesYaml(split.perNode)],
    [SCALE_FILES.centralRules, rulesYaml(split.central)],
  ]);
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

/** The one scrape config of every vmagent shard: the exporters and the services. */
export function vmagentScrapeConfig(ctx: GenContext, topology: Topology, target = layoutAddress) {
  return {
    global: { scrape_interval: ctx.loaded.config.exporter.interval },
    scrape_configs: [scrapeJob(ctx, target), ...serviceScrapeJobs(ctx, scaleServiceTargets(ctx, topology))],
  };
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
