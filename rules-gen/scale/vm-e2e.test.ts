/**
 * End to end on loopback with the generated command lines, unchanged: three replay exporters
 * (pai-worker-0..2, 8 + 8 + 4 GPUs), two vmagent shards remote-writing to one VictoriaMetrics, and
 * vmalert evaluating both rule files against it. Each node's exporter is scraped by exactly one
 * shard, each node's series arrive in VictoriaMetrics once (one series per GPU, one sample per
 * scrape), and vmalert evaluates every generated group without an error, recording per-node and
 * cluster-wide series. vmagent scrapes VictoriaMetrics, vmalert and both shards too, and since the
 * Alertmanager's port has nothing listening, vmalert's self-check VmalertNotificationsFailing fires
 * (with a 10 s window and a 2 s `for`), and none of the other engine self-checks does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { eventually } from '../../src/testing/eventually.js';
import { byNode, evaluatedGroups, NODES, nodesWith, ruleErrors, RunningTopology } from '../testing/scale-e2e.js';

const topology = new RunningTopology();

const ENGINE_ALERTS = [
  'VmalertRuleEvaluationFailures',
  'VmalertNotificationsFailing',
  'VmalertConfigReloadFailed',
  'VmagentRemoteWriteFailing',
  'VictoriaMetricsReadOnly',
];

beforeAll(() => topology.start('victoriametrics', { prometheusSelfCheck: { window: '10s', for: '2s' } }), 90_000);
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

  it('has the layout constants from gpuwatch layout-metrics, labelled as the layout rules label them (no job, no instance)', async () => {
    const perNode = await eventually(
      async () => {
        const found = await topology.query(RECORDING.layoutNodeGpus);
        return found.length === NODES.length ? found : undefined;
      },
      20_000,
      'the layout constants',
    );
    expect(byNode(perNode)).toEqual(nodesWith((n) => n.gpus));
    expect(perNode.map((s) => Object.keys(s.metric).sort())).toEqual(NODES.map(() => ['__name__', 'cluster', 'node']));
    const cluster = await topology.query(RECORDING.clusterGpusExpected);
    expect(cluster.map((s) => [s.metric, Number(s.value[1])])).toEqual([[{ __name__: RECORDING.clusterGpusExpected, cluster: 'pai-small' }, 20]]);
  });

  it('scrapes VictoriaMetrics, vmalert and both vmagent shards as jobs of their own', async () => {
    const up = await topology.query('up{job=~"victoriametrics|vmalert|vmagent"}');
    const targets = (job: string) =>
      up
        .filter((s) => s.metric.job === job && s.value[1] === '1' && s.metric.cluster === 'pai-small')
        .map((s) => s.metric.instance)
        .sort();
    expect(targets('victoriametrics')).toEqual(topology.listenOf('store'));
    expect(targets('vmalert')).toEqual(topology.listenOf('rules'));
    expect(targets('vmagent')).toEqual([...topology.listenOf('shard')].sort());
  });

  it('fires VmalertNotificationsFailing for the Alertmanager nobody listens on, and no other engine self-check', async () => {
    const notifier = (topology.processes.find((p) => p.role === 'rules')?.args ?? []).find((a) => a.startsWith('-notifier.url='))?.slice(14);
    const firing = () => topology.query(`ALERTS{alertstate="firing", alertname=~"${ENGINE_ALERTS.join('|')}"}`);
    const alerts = await eventually(async () => ((await firing()).length > 0 ? firing() : undefined), 20_000, 'VmalertNotificationsFailing firing');
    expect(alerts.map((a) => [a.metric.alertname, a.metric.instance, a.metric.addr])).toEqual([
      ['VmalertNotificationsFailing', topology.listenOf('rules')[0], `${notifier}/api/v2/alerts`],
    ]);
  }, 30_000);
});
