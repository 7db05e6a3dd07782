/**
 * Where each rule is evaluated in the scaled topology. The shards split the exporters by node (the
 * hashmod of the `node` label, or vmagent's cluster membership over one target per node), so a
 * recording rule that only combines series of one node sees all its input on one shard and may run
 * there, near the data. Everything else — rules that aggregate across nodes, the layout constants
 * (every shard would write them again) and every alert — runs once, centrally, over the central
 * store that every shard remote-writes to.
 *
 * Which recording rules are per-node is declared here, not guessed: `scale/split.test.ts` proves with
 * the PromQL grammar that each of them keeps the node label through every aggregation and match.
 */
import { RECORDING as R } from '../../src/catalog/recording-names.js';
import type { RuleGroup } from '../types.js';

/** Recording rules whose every aggregation and vector match keeps `node`: safe on the shard scraping that node. */
export const PER_NODE_RECORDINGS: ReadonlySet<string> = new Set([R.gpuUtilizationByJob, R.nodeUtilization]);

/** The suffix of a group's per-node part when the group also has central rules. */
export const PER_NODE_GROUP_SUFFIX = '-node';

export interface RuleSplit {
  /** Evaluated on every shard, over that shard's nodes (by vmalert too, with the VictoriaMetrics engine). */
  perNode: RuleGroup[];
  /** Evaluated once, centrally: the cluster-wide recording rules, then every alert group. */
  central: RuleGroup[];
}

const isPerNode = (perNode: ReadonlySet<string>) => (rule: RuleGroup['rules'][number]) => 'record' in rule && perNode.has(rule.record);

/**
 * Splits the recording groups rule by rule: a group whose rules are all per-node goes to the shards
 * whole, a mixed group in two (its per-node part named `<name>-node`), and the alert groups stay
 * central. Group and rule order are kept.
 */
export function splitRuleGroups(recording: RuleGroup[], alerts: RuleGroup[], perNode: ReadonlySet<string> = PER_NODE_RECORDINGS): RuleSplit {
  const onShard = isPerNode(perNode);
  const split: RuleSplit = { perNode: [], central: [] };
  for (const group of recording) {
    const near = group.rules.filter(onShard);
    const far = group.rules.filter((r) => !onShard(r));
    if (far.length === 0) split.perNode.push(group);
    else if (near.length === 0) split.central.push(group);
    else {
      split.perNode.push({ name: `${group.name}${PER_NODE_GROUP_SUFFIX}`, rules: near });
      split.central.push({ name: group.name, rules: far });
    }
  }
  split.central.push(...alerts);
  return split;
}
