/**
 * End to end on loopback with the generated command lines, unchanged: three replay exporters, two
 * Prometheus shards (hashmod on the node label, the per-node rules) remote-writing to the central
 * Prometheus (the central rules). Each node is scraped by exactly one shard, its series and its
 * per-node recordings arrive centrally once, and every group on every server evaluates without an
 * error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { byNode, evaluatedGroups, NODES, nodesWith, ruleErrors, RunningTopology } from '../testing/scale-e2e.js';

const topology = new RunningTopology();

beforeAll(() => topology.start('prometheus'), 90_000);
afterAll(() => topology.stop());

describe('the Prometheus topology, as generated', () => {
  it('scrapes every node on exactly one shard', async () => {
    const perShard = await topology.nodesPerShard();
    expect(perShard).toHaveLength(2);
    expect(perShard.flat().sort(), JSON.stringify(perShard)).toEqual(NODES.map((n) => n.node));
  });

  it("stores each node's series centrally once: one series per GPU, and one sample per scrape", async () => {
    expect(byNode(await topology.query('count by (node) (gpuwatch_gpu_utilization_ratio)'))).toEqual(nodesWith((n) => n.gpus));
    expect(byNode(await topology.query('count by (node) (up{job="gpuwatch"})'))).toEqual(nodesWith(() => 1));
    const samples = Object.values(byNode(await topology.query('count_over_time(up{job="gpuwatch"}[5s])')));
    expect(samples).toHaveLength(NODES.length);
    for (const n of samples) expect(n).toBeLessThanOrEqual(7);
  });

  it('evaluates the per-node groups on the shards and the central groups centrally, without an error', async () => {
    const shardGroups = await Promise.all(topology.listenOf('shard').map((l) => evaluatedGroups(l)));
    const central = await evaluatedGroups(topology.listenOf('store')[0] ?? '');
    const names = [...shardGroups.map((gs) => gs.map((g) => g.name)), central.map((g) => g.name)];
    expect(names[0]).toEqual(names[1]);
    expect([...(names[0] ?? []), ...(names[2] ?? [])].sort()).toEqual([...topology.groupNames].sort());
    expect([...shardGroups.flatMap(ruleErrors), ...ruleErrors(central)]).toEqual([]);
  });

  it('has the per-node recordings from the shards and the cluster-wide ones from the centre, once each', async () => {
    expect(byNode(await topology.query(`count by (node) (${RECORDING.nodeUtilization})`))).toEqual(nodesWith(() => 1));
    expect(byNode(await topology.query(`count by (node) (${RECORDING.gpuUtilizationByJob})`))).toEqual(nodesWith((n) => n.gpus));
    expect((await topology.query(RECORDING.clusterUtilization)).map((s) => s.metric.cluster)).toEqual(['pai-small']);
  });
});
