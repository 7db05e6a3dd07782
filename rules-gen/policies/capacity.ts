/** Capacity alerts: a node lost GPUs, or a cluster lost a large share of its GPUs. */
import { NODE_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, expectedAlert, type AlertSpec } from '../alert-builder.js';
import { constant, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, num, on, selector } from '../promql.js';
import { RECORDING } from '../recording-names.js';
import { at, runOf, seriesText, stepsOf, values } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { pickLabels, variantsOf } from '../variants.js';
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
          series: [
            { series: seriesText(NODE_METRICS.gpus.name, n.withInstance), bad: constant(expected - 1), good: constant(expected) },
          ],
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
 * in another group: a severity-0 alert should not wait an extra evaluation cycle for it.
 */
export function clusterGpusUnavailable(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.clusterGpusUnavailable;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const expected = selector(RECORDING.clusterGpusExpected, v.matchers);
    const spec: AlertSpec = {
      name: 'ClusterGpusUnavailable',
      expr: [
        `(`,
        `  ${expected}`,
        `  - ${on(['cluster'])} (sum ${by(['cluster'])} (${NODE_METRICS.gpus.name}) or ${RECORDING.clusterGpusExpected} * 0)`,
        `) / ${on(['cluster'])} ${expected} > ${num(v.threshold)}`,
      ].join('\n'),
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `${s.percent} of the GPUs of cluster ${s.label('cluster')} are unavailable`,
        description: (s) =>
          `The exporters of cluster ${s.label('cluster')} see ${s.percent} fewer GPUs than layout.yaml declares, ` +
          `more than the ${Number((v.threshold * 100).toPrecision(6))}% threshold${v.scope}: nodes or exporters are down, or GPUs fell off the bus.`,
      },
    };
    return { rule: alertRule(ctx, spec), tests: unavailableTests(ctx, spec, v.matchers, v.threshold, v.scope) };
  });
}

function unavailableTests(ctx: GenContext, spec: AlertSpec, matchers: Parameters<typeof pickLabels>[0], threshold: number, scope: string) {
  // Only configured clusters have layout-based expectations.
  const configured = ctx.loaded.clusters.map((c) => c.name);
  const cluster = pickLabels(matchers, { cluster: configured })?.cluster;
  const layout = ctx.loaded.clusters.find((c) => c.name === cluster);
  if (!cluster || !layout) return [];
  const expected = layout.layoutData.nodes.reduce((sum, n) => sum + n.expectedGpus, 0);
  if (expected === 0) return [];
  let seen = Math.ceil(expected * (1 - threshold)) - 1;
  while (seen > 0 && !((expected - seen) / expected > threshold)) seen--;
  if (!((expected - seen) / expected > threshold)) return [];
  const target = ctx.targetIn(cluster);
  const series = seriesText(NODE_METRICS.gpus.name, { cluster, node: target.node, instance: target.instance });
  // Every other cluster healthy: all of its GPUs seen.
  const others = ctx.loaded.clusters
    .filter((c) => c.name !== cluster)
    .map((c) => {
      const t = ctx.targetIn(c.name);
      const gpus = c.layoutData.nodes.reduce((sum, n) => sum + n.expectedGpus, 0);
      return { series: seriesText(NODE_METRICS.gpus.name, { cluster: c.name, node: t.node, instance: t.instance }), values: values([runOf(gpus, stepsOf(spec.for) + 10)]) };
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
