/**
 * The harness of the scaled topology's end-to-end tests: three replay exporters on 127.0.0.1-3
 * (one port), the topology generated for them with 1 s scrapes, its store, rule evaluation and shard
 * processes started from topology.json's command lines unchanged, and queries against the store.
 */
import { isDeepStrictEqual } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { scalePortCount } from '../../src/config/scale.js';
import { stopChild } from '../../stack/external.js';
import { ROOT } from '../../test/cli.js';
import { freePort, freePortRange } from '../../test/ports.js';
import { CONFIG_PLACEHOLDER, SCALE_FILES, type ScaleProcess } from '../scale/topology.js';
import { generatedIn, scaleExampleCopy, topologyOf } from './scale-support.js';
import { writeArtifacts } from './test-support.js';
import { eventually } from '../../src/testing/eventually.js';

export const NODES = [
  { node: 'pai-worker-0', ip: '127.0.0.1', gpus: 8 },
  { node: 'pai-worker-1', ip: '127.0.0.2', gpus: 8 },
  { node: 'pai-worker-2', ip: '127.0.0.3', gpus: 4 },
];
const SKU = (n: number) => `  gpu${n}: {computing-device: {type: nvidia.com/gpu, model: H100, count: ${n}}}`;
const LAYOUT = `machine-sku:\n${SKU(8)}\n${SKU(4)}\nmachine-list:\n${NODES.map((n) => `  - {hostname: ${n.node}, hostip: ${n.ip}, machine-type: gpu${n.gpus}, pai-worker: "true"}`).join('\n')}\n`;

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Per node label: the sample's value. */
export const byNode = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.metric.node ?? '', Number(s.value[1])]));

export const nodesWith = (value: (n: (typeof NODES)[number]) => number) => Object.fromEntries(NODES.map((n) => [n.node, value(n)]));

export class RunningTopology {
  private readonly children: ChildProcess[] = [];
  processes: ScaleProcess[] = [];
  /** The generated rule groups' names, both files. */
  groupNames: string[] = [];
  storeUrl = '';

  /**
   * Generates the topology for `engine` with two shards (and `policies:`, if given) and starts
   * everything but routers and Alertmanagers; resolves once every node's series and both kinds of
   * recording are in the store.
   */
  async start(engine: 'prometheus' | 'victoriametrics', policies?: Record<string, unknown>): Promise<void> {
    const [exporterPort, alertmanagerPort] = [await freePort(), await freePort()];
    const basePort = await freePortRange(scalePortCount({ shards: 2, routers: 1, alertmanagers: ['x'] }));
    const scale = { engine, shards: 2, routers: 1, alertmanagers: [`http://127.0.0.1:${alertmanagerPort}`], basePort };
    const configDir = await scaleExampleCopy({ scale, exporter: { interval: '1s' }, cluster: { exporterPort }, ...(policies ? { policies } : {}) }, LAYOUT);
    const files = await generatedIn(configDir);
    const out = await writeArtifacts(files);
    this.groupNames = [SCALE_FILES.perNodeRules, SCALE_FILES.centralRules].flatMap((f) =>
      (parse(files.get(f) ?? '') as { groups: { name: string }[] }).groups.map((g) => g.name),
    );
    for (const n of NODES) {
      const scenario = join(ROOT, `examples/scenarios/${n.node}.yaml`);
      this.spawn(
        process.execPath,
        ['--import', 'tsx', 'cli/gpuwatch.ts', 'exporter', '--replay', scenario, '--listen', `${n.ip}:${exporterPort}`, '--node', n.node],
        ROOT,
      );
    }
    this.processes = topologyOf(files).processes;
    for (const p of this.processes.filter((x) => ['store', 'rules', 'shard'].includes(x.role))) this.spawn(p.command, p.args, out);
    for (const p of this.processes.filter((x) => x.role === 'layout')) {
      const args = p.args.map((a) => (a === CONFIG_PLACEHOLDER ? join(configDir, 'gpuwatch.yaml') : a));
      this.spawn(process.execPath, ['--import', 'tsx', 'cli/gpuwatch.ts', ...args], ROOT);
    }
    this.storeUrl = `http://${this.listenOf('store')[0]}`;
    const arrived = async () => Object.keys(byNode(await this.query('count by (node) (gpuwatch_gpu_utilization_ratio)'))).length === NODES.length;
    // Every GPU's job recording too: a shard evaluates its rules on its own clock, so right after the
    // first evaluation one node may have its node recording and only part of its per-GPU ones.
    const gpusRecorded = async () =>
      isDeepStrictEqual(
        byNode(await this.query(`count by (node) (${RECORDING.gpuUtilizationByJob})`)),
        nodesWith((n) => n.gpus),
      );
    const recorded = async () =>
      (await this.query(RECORDING.nodeUtilization)).length === NODES.length &&
      (await this.query(RECORDING.clusterUtilization)).length === 1 &&
      (await gpusRecorded());
    await eventually(async () => ((await arrived()) && (await recorded()) ? true : undefined), 60_000, 'every node scraped and recorded');
  }

  listenOf(role: ScaleProcess['role']): string[] {
    return this.processes.filter((p) => p.role === role).map((p) => p.listen);
  }

  async query(promql: string): Promise<Sample[]> {
    const res = await fetch(`${this.storeUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${promql}`);
    return body.data.result;
  }

  /** The node labels of the exporter targets each shard scrapes (its /api/v1/targets). */
  async nodesPerShard(scrapeJob = 'gpuwatch'): Promise<string[][]> {
    const perShard: string[][] = [];
    for (const listen of this.listenOf('shard')) {
      const body = (await (await fetch(`http://${listen}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: Record<string, string> }[] } };
      perShard.push(body.data.activeTargets.filter((t) => t.labels.job === scrapeJob).map((t) => t.labels.node ?? ''));
    }
    return perShard;
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child, 5_000)));
  }

  private spawn(cmd: string, args: string[], cwd: string): void {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    this.children.push(child);
  }
}

/** A rule as `/api/v1/rules` lists it (Prometheus and vmalert alike). */
export interface ListedRule {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** The groups `/api/v1/rules` of a Prometheus or vmalert at `listen` lists. */
export async function listedGroups(listen: string): Promise<{ name: string; rules?: ListedRule[] }[]> {
  const body = (await (await fetch(`http://${listen}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules?: ListedRule[] }[] } };
  return body.data.groups;
}

/** Waits until every listed rule has been evaluated at least once; returns the groups. */
export function evaluatedGroups(listen: string) {
  const evaluated = (r: ListedRule) => !r.lastEvaluation.startsWith('0001-');
  return eventually(
    async () => {
      const groups = await listedGroups(listen);
      return groups.every((g) => (g.rules ?? []).every(evaluated)) ? groups : undefined;
    },
    20_000,
    `every rule at ${listen} evaluated`,
  );
}

/** `group/rule: error` of every listed rule with one. */
export const ruleErrors = (groups: { name: string; rules?: ListedRule[] }[]) =>
  groups.flatMap((g) => (g.rules ?? []).filter((r) => r.lastError).map((r) => `${g.name}/${r.name}: ${r.lastError}`));
