/** Capacity alerts: a node lost GPUs, or a cluster lost a large share of its GPUs. */
import { NODE_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, expectedAlert, type AlertSpec } from '../alert-builder.js';
import { constant, levelCases } from '../cases.js';
import type { LoadedConfig } from '../../src/config/load.js';
import type { GenContext } from '../context.js';
import { by, num, on, selector } from '../promql.js';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { at, runOf, seriesText, stepsOf, values } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { matches, variantsOf, type Variant } from '../variants.js';
import { nodeLabelsFor } from './gpu-labels.js';

export function nodeGpusMissing(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.nodeGpusMissing;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const node = ['cluster', 'node'];
    const spec: AlertSpec = {
      name: 'NodeGpusMissing',
      // Compared with layout.yaml's recorded SKU count, which exists whether or not the exporter was given the config.
      expr: `max ${by(node)} (${selector(NODE_METRICS.gpus.name, v.matchers)}) < ${on(node)} ${selector(RECORDING.layoutNodeGpus, v.matchers)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Node ${s.label('node')} shows only ${s.value} GPUs`,
        description: (s) =>
          `Node ${s.label('node')} in cluster ${s.label('cluster')} reports ${s.value} GPUs, fewer than its SKU in layout.yaml declares${v.scope}. ` +
          `A GPU has likely fallen off the bus (see XID 79 in dmesg); drain the node and reset or service it.`,
      },
    };
    const n = nodeLabelsFor(ctx, v.matchers);
    const expected = n && n.target.expectedGpus > 0 ? n.target.expectedGpus : 8;
    const tests = n
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(NODE_METRICS.gpus.name, n.withInstance), bad: constant(expected - 1), good: constant(expected) }],
          labels: n.labels,
          value: expected - 1,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/**
 * Unavailable = what layout.yaml promises minus what the exporters see. A cluster whose exporters are
 * all gone has no "seen" series at all, which counts as 0 seen (the `or`), not as "no data". The seen
 * side sums the node series itself (one per node) rather than reading the recording rule, which lives
 * in another group: a cluster alert should not wait an extra evaluation cycle for it.
 *
 * One rule per cluster, because the limit follows the cluster's size: more than `threshold` of its
 * GPUs AND more GPUs than its largest node has, so one node rebooting (NodeDown, NodeGpusMissing
 * cover it) is never a cluster outage. A one-node cluster alerts when all its GPUs are gone. The
 * severity follows the cluster's priority: `severity` for production clusters, `nonProductionSeverity`
 * for staging and dev ones, unless a cluster override sets one.
 */
export function clusterGpusUnavailable(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.clusterGpusUnavailable;
  if (!policy.enabled) return [];
  return variantsOf(policy).flatMap((v, i) => {
    const overrideSeverity = i > 0 ? policy.overrides[i - 1]?.severity : undefined;
    const clusterMatchers = v.matchers.filter((m) => m.label === 'cluster');
    return ctx.loaded.clusters
      .filter((c) => clusterMatchers.every((m) => matches(m, c.name)))
      .map((c) => {
        const size = clusterSize(c);
        const severity = overrideSeverity ?? (c.priority === 'production' ? v.severity : policy.nonProductionSeverity);
        const limit = Math.min(1, Math.max(v.threshold, size.total > 0 ? size.largestNode / size.total : 1));
        return clusterAlert(ctx, { ...v, severity }, c.name, size, limit);
      });
  });
}

interface ClusterSize {
  total: number;
  largestNode: number;
}

function clusterSize(c: LoadedConfig['clusters'][number]): ClusterSize {
  const gpus = c.layoutData.nodes.filter((n) => n.isWorker).map((n) => n.expectedGpus);
  return { total: gpus.reduce((a, b) => a + b, 0), largestNode: Math.max(0, ...gpus) };
}

function clusterAlert(ctx: GenContext, v: Variant<number>, cluster: string, size: ClusterSize, limit: number): GeneratedAlert {
  const matchers = [...v.matchers.filter((m) => m.label !== 'cluster'), { label: 'cluster', op: '=' as const, value: cluster }];
  const expected = selector(RECORDING.clusterGpusExpected, matchers);
  const seen = selector(NODE_METRICS.gpus.name, matchers);
  const all = limit >= 1;
  const spec: AlertSpec = {
    name: 'ClusterGpusUnavailable',
    expr: [
      `(`,
      `  ${expected}`,
      `  - ${on(['cluster'])} (sum ${by(['cluster'])} (${seen}) or ${expected} * 0)`,
      `) / ${on(['cluster'])} ${expected} ${all ? '>=' : '>'} ${num(Number(limit.toPrecision(6)))}`,
    ].join('\n'),
    for: v.for,
    severity: v.severity,
    ruleLabels: v.labels,
    text: {
      summary: (s) => `${s.percent} of the GPUs of cluster ${s.label('cluster')} are unavailable`,
      description: (s) =>
        `The exporters of cluster ${s.label('cluster')} see ${s.percent} fewer GPUs than layout.yaml declares (${size.total} GPUs), ` +
        (all
          ? 'that is all of them'
          : `more than ${Number((limit * 100).toPrecision(3))}% (the ${percentText(v.threshold)} threshold, and more than its largest node's ${size.largestNode} GPUs)`) +
        `${v.scope}: nodes or exporters are down, or GPUs fell off the bus.`,
    },
  };
  return { rule: alertRule(ctx, spec), tests: unavailableTests(ctx, spec, cluster, size.total, limit, `${v.scope} in ${cluster}`) };
}

const percentText = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

function unavailableTests(ctx: GenContext, spec: AlertSpec, cluster: string, expected: number, limit: number, scope: string) {
  if (expected === 0) return [];
  const fires = (seen: number) => (limit >= 1 ? seen === 0 : (expected - seen) / expected > limit);
  let seen = Math.max(0, Math.ceil(expected * (1 - limit)) - 1);
  while (seen > 0 && !fires(seen)) seen--;
  if (!fires(seen)) return [];
  const target = ctx.targetIn(cluster);
  const series = seriesText(NODE_METRICS.gpus.name, { cluster, node: target.node, instance: target.instance });
  // Every other cluster healthy: all of its GPUs seen.
  const others = ctx.loaded.clusters
    .filter((c) => c.name !== cluster)
    .map((c) => {
      const t = ctx.targetIn(c.name);
      const gpus = clusterSize(c).total;
      return {
        series: seriesText(NODE_METRICS.gpus.name, { cluster: c.name, node: t.node, instance: t.instance }),
        values: values([runOf(gpus, stepsOf(spec.for) + 10)]),
      };
    });
  const tests = levelCases(ctx, spec, scope, {
    series: [{ series, bad: constant(seen), good: constant(expected) }],
    labels: { cluster },
    value: (expected - seen) / expected,
    context: others,
  });
  const fireAt = tests[0]?.checks[0]?.evalTime ?? at(0);
  tests.push({
    name: `${spec.name}${scope} fires when no exporter reports at all`,
    inputSeries: others,
    checks: [{ evalTime: fireAt, alertname: spec.name, alerts: [expectedAlert(ctx, spec, { cluster }, 1)] }],
  });
  return tests;
}
