/**
 * End to end on loopback with the generated command lines, unchanged: three replay exporters
 * (pai-worker-0..2, 8 + 8 + 4 GPUs), two vmagent shards remote-writing to one VictoriaMetrics, and
 * vmalert evaluating both rule files against it. Each node's exporter is scraped by exactly one
 * shard, each node's series arrive in VictoriaMetrics once (one series per GPU, one sample per
 * scrape), and vmalert evaluates every generated group without an error, recording per-node and
 * cluster-wide series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { byNode, evaluatedGroups, NODES, nodesWith, ruleErrors, RunningTopology } from '../testing/scale-e2e.js';

const topology = new RunningTopology();

beforeAll(() => topology.start('victoriametrics'), 90_000);
afterAll(() => topology.stop());

describe('the VictoriaMetrics topology, as generated', () => {
  it('scrapes every node on exactly one shard', async () => {
    const perShard = await topology.nodesPerShard();
    expect(perShard).toHaveLength(2);
    expect(perShard.flat().sort(), JSON.stringify(perShard)).toEqual(NODES.map((n) => n.node));
  });

  it("stores each node's series once: one series per GPU, and one sample per scrape", async () => {
    expect(byNode(await topology.query('count by (node) (gpuwatch_gpu_utilization_ratio)'))).toEqual(nodesWith((n) => n.gpus));
    expect(byNode(await topology.query('count by (node) (up{job="gpuwatch"})'))).toEqual(nodesWith(() => 1));
    // 1 s scrapes: 5 or 6 samples in 5 s from one shard; a node scraped by both shards would have about twice as many.
    const samples = Object.values(byNode(await topology.query('count_over_time(up{job="gpuwatch"}[5s])')));
    expect(samples).toHaveLength(NODES.length);
    for (const n of samples) expect(n).toBeLessThanOrEqual(7);
  });

  it('evaluates every generated group in vmalert without an error', async () => {
    const groups = await evaluatedGroups(topology.listenOf('rules')[0] ?? '');
    expect(groups.map((g) => g.name).sort()).toEqual([...topology.groupNames].sort());
    expect(ruleErrors(groups)).toEqual([]);
  });

  it('records the per-node and the cluster-wide series once each', async () => {
    expect(Object.keys(byNode(await topology.query(RECORDING.nodeUtilization))).sort()).toEqual(NODES.map((n) => n.node));
    expect((await topology.query(RECORDING.clusterUtilization)).map((s) => s.metric.cluster)).toEqual(['pai-small']);
    expect(byNode(await topology.query(`count by (node) (${RECORDING.gpuUtilizationByJob})`))).toEqual(nodesWith((n) => n.gpus));
  });
});
