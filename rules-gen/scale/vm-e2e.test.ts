/**
 * End to end on loopback with the generated command lines, unchanged: three replay exporters
 * (pai-worker-0..2, 8 + 8 + 4 GPUs), two vmagent shards remote-writing to one VictoriaMetrics, and
 * vmalert evaluating both rule files against it. Each node's exporter is scraped by exactly one
 * shard, each node's series arrive in VictoriaMetrics once (one series per GPU, one sample per
 * scrape), and vmalert evaluates every generated group without an error, recording per-node and
 * cluster-wide series.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { scalePortCount } from '../../src/config/scale.js';
import { stopChild } from '../../stack/external.js';
import { ROOT } from '../../test/cli.js';
import { freePort, freePortRange } from '../../test/ports.js';
import { generatedIn, scaleExampleCopy, topologyOf } from '../testing/scale-support.js';
import { writeArtifacts } from '../testing/test-support.js';
import { SCALE_FILES, type ScaleProcess } from './topology.js';

const NODES = [
  { node: 'pai-worker-0', ip: '127.0.0.1', gpus: 8 },
  { node: 'pai-worker-1', ip: '127.0.0.2', gpus: 8 },
  { node: 'pai-worker-2', ip: '127.0.0.3', gpus: 4 },
];
const SKU = (n: number) => `  gpu${n}: {computing-device: {type: nvidia.com/gpu, model: H100, count: ${n}}}`;
const LAYOUT = `machine-sku:\n${SKU(8)}\n${SKU(4)}\nmachine-list:\n${NODES.map((n) => `  - {hostname: ${n.node}, hostip: ${n.ip}, machine-type: gpu${n.gpus}, pai-worker: "true"}`).join('\n')}\n`;

const children: ChildProcess[] = [];
let processes: ScaleProcess[] = [];
let store = '';
let groupNames: string[] = [];

function start(cmd: string, args: string[], cwd: string): void {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  children.push(child);
}

/** Polls `probe` every 250 ms until it returns a value, for at most `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 400 && Date.now() < deadline; attempt++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const res = await fetch(`${store}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${promql}`);
  return body.data.result;
}

const byNode = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.metric.node ?? '', Number(s.value[1])]));

beforeAll(async () => {
  const [exporterPort, alertmanagerPort] = [await freePort(), await freePort()];
  const basePort = await freePortRange(scalePortCount({ shards: 2, routers: 1, alertmanagers: ['x'] }));
  const scale = { engine: 'victoriametrics', shards: 2, routers: 1, alertmanagers: [`http://127.0.0.1:${alertmanagerPort}`], basePort };
  const files = await generatedIn(await scaleExampleCopy({ scale, exporter: { interval: '1s' }, cluster: { exporterPort } }, LAYOUT));
  const out = await writeArtifacts(files);
  groupNames = [SCALE_FILES.perNodeRules, SCALE_FILES.centralRules].flatMap((f) =>
    (parse(files.get(f) ?? '') as { groups: { name: string }[] }).groups.map((g) => g.name),
  );
  for (const n of NODES) {
    const scenario = join(ROOT, `examples/scenarios/${n.node}.yaml`);
    start(
      process.execPath,
      ['--import', 'tsx', 'cli/gpuwatch.ts', 'exporter', '--replay', scenario, '--listen', `${n.ip}:${exporterPort}`, '--node', n.node],
      ROOT,
    );
  }
  processes = topologyOf(files).processes;
  for (const p of processes.filter((x) => ['store', 'rules', 'shard'].includes(x.role))) start(p.command, p.args, out);
  store = `http://${processes.find((p) => p.role === 'store')?.listen}`;
  const arrived = async () => Object.keys(byNode(await query('count by (node) (gpuwatch_gpu_utilization_ratio)'))).length === NODES.length;
  const recorded = async () => (await query(RECORDING.nodeUtilization)).length === NODES.length && (await query(RECORDING.clusterUtilization)).length === 1;
  await eventually(async () => ((await arrived()) && (await recorded()) ? true : undefined), 60_000, 'every node scraped and recorded');
}, 90_000);

afterAll(async () => {
  await Promise.all(children.map((child) => stopChild(child, 5_000)));
});

interface Target {
  labels: Record<string, string>;
  health: string;
}

describe('the VictoriaMetrics topology, as generated', () => {
  it('scrapes every node on exactly one shard', async () => {
    const perShard: string[][] = [];
    for (const shard of processes.filter((p) => p.role === 'shard')) {
      const body = (await (await fetch(`http://${shard.listen}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
      perShard.push(body.data.activeTargets.filter((t) => t.labels.job === 'gpuwatch').map((t) => t.labels.node ?? ''));
    }
    expect(perShard).toHaveLength(2);
    expect(perShard.flat().sort(), JSON.stringify(perShard)).toEqual(NODES.map((n) => n.node));
  });

  it("stores each node's series once: one series per GPU, and one sample per scrape", async () => {
    expect(byNode(await query('count by (node) (gpuwatch_gpu_utilization_ratio)'))).toEqual(Object.fromEntries(NODES.map((n) => [n.node, n.gpus])));
    expect(byNode(await query('count by (node) (up{job="gpuwatch"})'))).toEqual(Object.fromEntries(NODES.map((n) => [n.node, 1])));
    // 1 s scrapes: 5 or 6 samples in 5 s from one shard; a node scraped by both shards would have about twice as many.
    const samples = Object.values(byNode(await query('count_over_time(up{job="gpuwatch"}[5s])')));
    expect(samples).toHaveLength(NODES.length);
    for (const n of samples) expect(n).toBeLessThanOrEqual(7);
  });

  it('evaluates every generated group in vmalert without an error', async () => {
    const vmalert = processes.find((p) => p.role === 'rules');
    type Rule = { name: string; lastError?: string; lastEvaluation: string };
    type Group = { name: string; rules?: Rule[] };
    const listed = async () => ((await (await fetch(`http://${vmalert?.listen}/api/v1/rules`)).json()) as { data: { groups: Group[] } }).data.groups;
    const evaluated = (r: Rule) => !r.lastEvaluation.startsWith('0001-');
    // Every rule evaluated at least once (vmalert staggers the groups' first evaluations).
    const groups = await eventually(
      async () => {
        const gs = await listed();
        return gs.every((g) => (g.rules ?? []).every(evaluated)) ? gs : undefined;
      },
      20_000,
      'every vmalert rule evaluated',
    );
    expect(groups.map((g) => g.name).sort()).toEqual([...groupNames].sort());
    const errors = groups.flatMap((g) => (g.rules ?? []).filter((r) => r.lastError).map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    expect(errors).toEqual([]);
  });

  it('records the per-node and the cluster-wide series once each', async () => {
    expect(Object.keys(byNode(await query(RECORDING.nodeUtilization))).sort()).toEqual(NODES.map((n) => n.node));
    expect((await query(RECORDING.clusterUtilization)).map((s) => s.metric.cluster)).toEqual(['pai-small']);
    expect(byNode(await query(`count by (node) (${RECORDING.gpuUtilizationByJob})`))).toEqual(Object.fromEntries(NODES.map((n) => [n.node, n.gpus])));
  });
});
