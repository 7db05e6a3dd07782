/**
 * The rule split of the scaled topology. A per-node recording rule runs on the shard that scrapes
 * the node, so it must never combine series of two nodes: every aggregation keeps `node` (by a set
 * with it, or without a set lacking it), every vector match matches on it, no function makes a
 * series out of nothing or rewrites labels, and it reads only exporter series and other per-node
 * recordings. Read with Prometheus's grammar, not with regexes.
 */
import { describe, expect, it } from 'vitest';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { loadConfig } from '../../src/config/load.js';
import { functionsIn, groupingsIn } from '../../src/testing/promql/grouping.js';
import { metricNamesIn } from '../../src/testing/promql/metric-names.js';
import { alertGroups } from '../alerts.js';
import { createContext } from '../context.js';
import { recordingGroups } from '../recording.js';
import { ruleGroups } from '../rules-file.js';
import { EXAMPLE_CONFIG } from '../testing/test-support.js';
import type { RecordingRule, RuleGroup } from '../types.js';
import { PER_NODE_RECORDINGS, splitRuleGroups } from './split.js';

const NODE = 'node';
/** Functions that make series out of nothing, or rewrite the labels a shard's node is known by. */
const NOT_PER_NODE_FUNCTIONS = ['absent', 'absent_over_time', 'label_join', 'label_replace', 'scalar', 'time', 'vector'];
const RECORDED = new Set<string>(Object.values(RECORDING));

const recordingRulesOf = (groups: RuleGroup[]): RecordingRule[] => groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => 'record' in r));

/** Why `rule` could combine or invent series across nodes; empty when it cannot. */
function notPerNode(rule: RecordingRule, perNode: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const g of groupingsIn(rule.expr)) {
    const keeps =
      g.kind === 'aggregation'
        ? (g.modifier === 'by' && g.labels.includes(NODE)) || (g.modifier === 'without' && !g.labels.includes(NODE))
        : g.modifier === undefined || (g.modifier === 'on' && g.labels.includes(NODE)) || (g.modifier === 'ignoring' && !g.labels.includes(NODE));
    if (!keeps) problems.push(`${g.kind} ${g.modifier ?? '(all labels)'} (${g.labels.join(', ')}) drops ${NODE}: ${g.text.split('\n')[0]}`);
  }
  for (const f of functionsIn(rule.expr).filter((f) => NOT_PER_NODE_FUNCTIONS.includes(f))) problems.push(`calls ${f}()`);
  for (const name of metricNamesIn(rule.expr).filter((n) => RECORDED.has(n) && !perNode.has(n))) problems.push(`reads ${name}, recorded centrally`);
  if (metricNamesIn(rule.expr).length === 0) problems.push('reads no series');
  return problems;
}

async function exampleSplit() {
  const ctx = createContext(await loadConfig(EXAMPLE_CONFIG));
  const recording = recordingGroups(ctx);
  return { recording, alerts: ruleGroups([], alertGroups(ctx)), split: splitRuleGroups(recording, ruleGroups([], alertGroups(ctx))) };
}

describe('the per-node check', () => {
  it('refuses aggregations and matches that drop the node, constants, label rewrites and central recordings', () => {
    const rule = (expr: string): RecordingRule => ({ record: 'r', expr });
    const none = new Set<string>();
    expect(notPerNode(rule('avg by (cluster, node) (gpuwatch_gpu_utilization_ratio)'), none)).toEqual([]);
    expect(notPerNode(rule('max without (gpu) (x) * on (node, uuid) group_left () y'), none)).toEqual([]);
    expect(notPerNode(rule('sum by (cluster) (x)'), none)).toHaveLength(1);
    expect(notPerNode(rule('sum(x)'), none)).toHaveLength(1);
    expect(notPerNode(rule('max without (node) (x)'), none)).toHaveLength(1);
    expect(notPerNode(rule('x * on (cluster) group_left () y'), none)).toHaveLength(1);
    expect(notPerNode(rule('x * ignoring (node) y'), none)).toHaveLength(1);
    expect(notPerNode(rule('vector(8)'), none)).toEqual(['calls vector()', 'reads no series']);
    expect(notPerNode(rule('label_replace(x, "node", "a", "", "")'), none)).toEqual(['calls label_replace()']);
    expect(notPerNode(rule(`avg by (cluster, node) (${RECORDING.jobUtilization})`), none)).toEqual([`reads ${RECORDING.jobUtilization}, recorded centrally`]);
  });
});

describe('splitRuleGroups', () => {
  it('sends to the shards only rules that keep the node through every aggregation and match', async () => {
    const { split } = await exampleSplit();
    const onShards = recordingRulesOf(split.perNode);
    expect(onShards.map((r) => r.record).sort()).toEqual([...PER_NODE_RECORDINGS].sort());
    for (const rule of onShards) expect(notPerNode(rule, PER_NODE_RECORDINGS), rule.record).toEqual([]);
  });

  it('keeps central every recording rule that is not per-node (so the declared set is all of them)', async () => {
    const { split } = await exampleSplit();
    for (const rule of recordingRulesOf(split.central)) expect(notPerNode(rule, PER_NODE_RECORDINGS), rule.record).not.toEqual([]);
  });

  it('keeps every rule exactly once, in order, with every alert group central and last', async () => {
    const { recording, alerts, split } = await exampleSplit();
    const records = (gs: typeof recording) => recordingRulesOf(gs).map((r) => `${r.record}${JSON.stringify(r.labels ?? {})}`);
    expect([...records(split.perNode), ...records(split.central)].sort()).toEqual(records(recording).sort());
    expect(split.central.slice(-alerts.length)).toEqual(alerts);
    expect(split.perNode.flatMap((g) => g.rules).every((r) => 'record' in r)).toBe(true);
    expect(split.perNode.map((g) => g.name)).toEqual(['gpuwatch-recording-gpu', 'gpuwatch-recording-cluster-node']);
    expect(split.central.slice(0, -alerts.length).map((g) => g.name)).toEqual(['gpuwatch-layout', 'gpuwatch-recording-cluster', 'gpuwatch-recording-jobs']);
  });

  it('with no per-node rules declared, keeps every recording group central and whole', async () => {
    const { recording, alerts } = await exampleSplit();
    const split = splitRuleGroups(recording, alerts, new Set());
    expect(split.perNode).toEqual([]);
    expect(split.central).toEqual([...recording, ...alerts]);
  });
});
