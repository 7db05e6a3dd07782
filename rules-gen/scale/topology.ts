/**
 * The processes of the scaled topology with their exact command lines, as `scale/topology.json`
 * lists them: what an operator (or a later `gpuwatch stack --scale`) starts, each with its address.
 * Paths in the arguments are relative to the `gpuwatch generate --out` directory, which is every
 * process's working directory; `{config}` stands for the gpuwatch.yaml the routers read.
 *
 * Ports are consecutive from `scale.basePort`: the central store, vmalert (reserved with the
 * Prometheus engine too, so the numbering does not depend on the engine), the routers, the
 * Alertmanagers' gossip ports, the shards.
 */
import type { ScaleConfig } from '../../src/config/scale.js';
import type { GenContext } from '../context.js';
import { ALERTMANAGER_FILE } from '../paths.js';

export const CONFIG_PLACEHOLDER = '{config}';

export const SCALE_FILES = {
  perNodeRules: 'scale/rules/per-node.yml',
  centralRules: 'scale/rules/central.yml',
  centralTests: 'scale/rules/central.test.yml',
  centralPrometheus: 'scale/central/prometheus.yml',
  shardPrometheus: (i: number) => `scale/shard-${i}/prometheus.yml`,
  vmagentScrape: 'scale/vmagent/scrape.yml',
  topology: 'scale/topology.json',
  readme: 'scale/README.md',
} as const;

export type ProcessRole = 'store' | 'rules' | 'shard' | 'router' | 'alertmanager' | 'layout';

/** The scrape job names of the VictoriaMetrics engine's processes, by role (the vmagent scrape config's jobs, the self-checks' `job`). */
export const VM_ENGINE_JOBS = { store: 'victoriametrics', rules: 'vmalert', shard: 'vmagent' } as const satisfies Partial<Record<ProcessRole, string>>;

export interface ScaleProcess {
  name: string;
  role: ProcessRole;
  command: string;
  args: string[];
  /** host:port it serves HTTP on. */
  listen: string;
}

export interface Topology {
  engine: ScaleConfig['engine'];
  /** Where every shard remote-writes and the central rules read from. */
  storeUrl: string;
  /** The shards' remote-write endpoint on the store. */
  remoteWriteUrl: string;
  alertmanagers: string[];
  processes: ScaleProcess[];
}

/** The rule evaluation interval, as `gpuwatch stack` sets it: stack.evaluationInterval, else the scrape interval. */
export const evaluationInterval = (ctx: GenContext) => ctx.loaded.config.stack.evaluationInterval ?? ctx.loaded.config.exporter.interval;

/** host:port of a URL, with the scheme's default port when it names none. */
function hostPortOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/** host:port of the process `offset` ports after basePort. */
type Address = (offset: number) => string;

export function scaleTopology(ctx: GenContext, scale: ScaleConfig): Topology {
  const host = scale.listenHost.includes(':') ? `[${scale.listenHost}]` : scale.listenHost;
  const at: Address = (offset) => `${host}:${scale.basePort + offset}`;
  const storeUrl = `http://${at(0)}`;
  const remoteWriteUrl = `${storeUrl}/api/v1/write`;
  const routerBase = 2;
  const gossipBase = routerBase + scale.routers;
  const shardBase = gossipBase + scale.alertmanagers.length;
  const vm = scale.engine === 'victoriametrics';
  const processes: ScaleProcess[] = [
    ...(vm ? victoriaMetricsCentral(ctx, scale, at) : [prometheusCentral(at)]),
    ...Array.from({ length: scale.routers }, (_, i) =>
      process(`router-${i}`, 'router', 'gpuwatch', at(routerBase + i), ['router', '--config', CONFIG_PLACEHOLDER, '--listen', at(routerBase + i)]),
    ),
    ...alertmanagerProcesses(scale.alertmanagers, (i) => at(gossipBase + i)),
    ...Array.from({ length: scale.shards }, (_, i) => (vm ? vmagentShard(scale, i, at(shardBase + i), remoteWriteUrl) : prometheusShard(i, at(shardBase + i)))),
    // vmalert would send one query per layout rule (one per worker): the shards scrape the constants instead.
    ...(vm ? [layoutMetrics(at(shardBase + scale.shards))] : []),
  ];
  return { engine: scale.engine, storeUrl, remoteWriteUrl, alertmanagers: scale.alertmanagers, processes };
}

function victoriaMetricsCentral(ctx: GenContext, scale: ScaleConfig, at: Address): ScaleProcess[] {
  const storeUrl = `http://${at(0)}`;
  return [
    process('victoria-metrics', 'store', 'victoria-metrics', at(0), [
      '-storageDataPath=data/victoria-metrics',
      `-httpListenAddr=${at(0)}`,
      // Queries (vmalert's included) see samples one scrape interval old, not VictoriaMetrics's default 30 s.
      `-search.latencyOffset=${ctx.loaded.config.exporter.interval}`,
    ]),
    process('vmalert', 'rules', 'vmalert', at(1), [
      `-rule=${SCALE_FILES.perNodeRules}`,
      `-rule=${SCALE_FILES.centralRules}`,
      `-datasource.url=${storeUrl}`,
      `-remoteWrite.url=${storeUrl}`,
      `-remoteRead.url=${storeUrl}`,
      ...scale.alertmanagers.map((u) => `-notifier.url=${u}`),
      `-evaluationInterval=${evaluationInterval(ctx)}`,
      `-httpListenAddr=${at(1)}`,
    ]),
  ];
}

function layoutMetrics(listen: string): ScaleProcess {
  return process('layout-metrics', 'layout', 'gpuwatch', listen, ['layout-metrics', '--config', CONFIG_PLACEHOLDER, '--listen', listen]);
}

function prometheusCentral(at: Address): ScaleProcess {
  return process('prometheus-central', 'store', 'prometheus', at(0), [
    `--config.file=${SCALE_FILES.centralPrometheus}`,
    '--storage.tsdb.path=data/prometheus-central',
    `--web.listen-address=${at(0)}`,
    '--web.enable-remote-write-receiver',
  ]);
}

/** Every Alertmanager on its URL's host:port, gossiping with the others on its own port. */
function alertmanagerProcesses(urls: string[], gossipAt: (i: number) => string): ScaleProcess[] {
  return urls.map((url, i) => {
    const peers = urls
      .map((_, j) => j)
      .filter((j) => j !== i)
      .map((j) => `--cluster.peer=${gossipAt(j)}`);
    return process(`alertmanager-${i}`, 'alertmanager', 'alertmanager', hostPortOf(url), [
      `--config.file=${ALERTMANAGER_FILE}`,
      `--storage.path=data/alertmanager-${i}`,
      `--web.listen-address=${hostPortOf(url)}`,
      `--web.external-url=${url}`,
      `--cluster.listen-address=${gossipAt(i)}`,
      ...peers,
    ]);
  });
}

function process(name: string, role: ProcessRole, command: string, listen: string, args: string[]): ScaleProcess {
  return { name, role, command, args, listen };
}

function prometheusShard(i: number, listen: string): ScaleProcess {
  return process(`prometheus-shard-${i}`, 'shard', 'prometheus', listen, [
    `--config.file=${SCALE_FILES.shardPrometheus(i)}`,
    `--storage.tsdb.path=data/prometheus-shard-${i}`,
    `--web.listen-address=${listen}`,
  ]);
}

function vmagentShard(scale: ScaleConfig, i: number, listen: string, remoteWriteUrl: string): ScaleProcess {
  return process(`vmagent-shard-${i}`, 'shard', 'vmagent', listen, [
    `-promscrape.config=${SCALE_FILES.vmagentScrape}`,
    `-promscrape.cluster.membersCount=${scale.shards}`,
    `-promscrape.cluster.memberNum=${i}`,
    `-remoteWrite.url=${remoteWriteUrl}`,
    `-remoteWrite.tmpDataPath=data/vmagent-shard-${i}`,
    `-httpListenAddr=${listen}`,
  ]);
}
