/**
 * The monitoring pipeline itself: exporters down, failing, stale or missing, and Prometheus and
 * Alertmanager self-checks (standard series of those servers, allow-listed in allowed-series.ts; the
 * VictoriaMetrics engine's are in vm-self-checks.ts).
 */
import { EXPORTER_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, expectedAlert, type AlertSpec } from '../alert-builder.js';
import { clock, constant, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, num, on, seconds, selector, type Matcher } from '../promql.js';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { at, runOf, seriesText, stepsOf, values } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { pickLabels, variantsOf } from '../variants.js';
import { nodeLabelsFor } from './gpu-labels.js';
import { selfChecks } from './self-checks.js';

const upOf = (ctx: GenContext, matchers: Matcher[]) => selector('up', [{ label: 'job', op: '=', value: ctx.scrapeJobName }, ...matchers]);

export function exporterDown(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.exporterDown;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'ExporterDown',
      expr: `max ${by(['cluster', 'node', 'instance'])} (${upOf(ctx, v.matchers)}) == 0`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Prometheus cannot scrape the gpuwatch exporter on ${s.label('node')}`,
        description: (s) =>
          `Scrapes of ${s.label('instance')} (node ${s.label('node')}, cluster ${s.label('cluster')}) have failed for ${v.for}${v.scope}: ` +
          `the exporter or the node is down, or the network between them. Its GPUs are unmonitored meanwhile.`,
      },
    };
    const n = nodeLabelsFor(ctx, v.matchers);
    const tests = n
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText('up', { ...n.withInstance, job: ctx.scrapeJobName }), bad: constant(0), good: constant(1) }],
          labels: n.withInstance,
          value: 0,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

export function exporterCollectionFailing(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.exporterCollectionFailing;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'ExporterCollectionFailing',
      expr: `max ${by(['cluster', 'node', 'source'])} (${selector(EXPORTER_METRICS.sourceUp.name, v.matchers)}) == 0`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `The gpuwatch exporter on ${s.label('node')} cannot read its ${s.label('source')} source`,
        description: (s) =>
          `The ${s.label('source')} collections of the exporter on node ${s.label('node')} (cluster ${s.label('cluster')}) have failed for ${v.for}${v.scope}. ` +
          `gpuwatch_exporter_collection_errors_total says why (timeout, spawn, parse, library, ...); the exporter's log has details.`,
      },
    };
    const n = nodeLabelsFor(ctx, v.matchers);
    const tests = n
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(EXPORTER_METRICS.sourceUp.name, { ...n.withInstance, source: 'gpu' }), bad: constant(0), good: constant(1) }],
          labels: { ...n.labels, source: 'gpu' },
          value: 0,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/**
 * A source's last success is too old. Attribution works on the GPU snapshot, so while the GPU source
 * is stale the attribution source ages with it: that one fault pages once, for the GPU source.
 */
export function exporterStale(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.exporterStale;
  if (!policy.enabled) return [];
  const metric = EXPORTER_METRICS.lastSuccess.name;
  return variantsOf(policy).map((v) => {
    const limit = seconds(v.threshold);
    const age = (source: Matcher, labels: string[]) => `time() - max ${by(labels)} (${selector(metric, [...v.matchers, source])}) > ${num(limit)}`;
    const spec: AlertSpec = {
      name: 'ExporterStale',
      expr:
        `(${age({ label: 'source', op: '!=', value: 'attribution' }, ['cluster', 'node', 'source'])})\n` +
        `or\n` +
        `(\n  ${age({ label: 'source', op: '=', value: 'attribution' }, ['cluster', 'node', 'source'])}\n` +
        `  unless ${on(['cluster', 'node'])}\n  ${age({ label: 'source', op: '=', value: 'gpu' }, ['cluster', 'node'])}\n)`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `The ${s.label('source')} readings of ${s.label('node')} are older than ${v.threshold}`,
        description: (s) =>
          `The last successful ${s.label('source')} collection of the exporter on node ${s.label('node')} (cluster ${s.label('cluster')}) ` +
          `is more than ${v.threshold} old${v.scope}: a read hangs or keeps failing, and the exported values are out of date.`,
      },
    };
    return { rule: alertRule(ctx, spec), tests: exporterStaleCases(ctx, spec, v, limit) };
  });
}

/** promtool cases of one ExporterStale variant: a stale GPU source, stale attribution alone, and both at once (one page). */
function exporterStaleCases(ctx: GenContext, spec: AlertSpec, v: { matchers: Matcher[]; scope: string }, limit: number) {
  const n = nodeLabelsFor(ctx, v.matchers);
  const sourceSeries = (source: string) => (n ? seriesText(EXPORTER_METRICS.lastSuccess.name, { ...n.withInstance, source }) : undefined);
  const gpu = sourceSeries('gpu');
  const attribution = sourceSeries('attribution');
  const delaySteps = Math.floor(limit / 60) + 1;
  return n && gpu && attribution
    ? [
        ...levelCases(ctx, spec, v.scope, {
          series: [{ series: gpu, bad: constant(0), good: clock() }],
          labels: { ...n.labels, source: 'gpu' },
          value: 0,
          delaySteps,
        }),
        ...levelCases(ctx, spec, `${v.scope} (attribution, GPU source fresh)`, {
          series: [{ series: attribution, bad: constant(0), good: clock() }],
          labels: { ...n.labels, source: 'attribution' },
          value: 0,
          delaySteps,
          blip: false,
          context: [{ series: gpu, values: values([clock()(0, delaySteps + stepsOf(spec.for) + 4)]) }],
        }).slice(0, 1),
        {
          name: `ExporterStale${v.scope} pages once, for the GPU source, when attribution is stale because the GPU source is`,
          inputSeries: [gpu, attribution].map((series) => ({ series, values: values([runOf(0, delaySteps + stepsOf(spec.for) + 4)]) })),
          checks: [
            {
              evalTime: at(delaySteps + stepsOf(spec.for) + 2),
              alertname: spec.name,
              alerts: [expectedAlert(ctx, spec, { ...n.labels, source: 'gpu' }, 0)],
            },
          ],
        },
      ]
    : [];
}

/** A layout.yaml worker with neither a scrape target (`up`) nor any exporter series. */
export function exporterAbsent(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.exporterAbsent;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'ExporterAbsent',
      expr: `${selector(RECORDING.layoutNodeGpus, v.matchers)} unless ${on(['cluster', 'node'])} (${upOf(ctx, [])} or ${EXPORTER_METRICS.buildInfo.name})`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `No gpuwatch exporter on ${s.label('node')}`,
        description: (s) =>
          `Node ${s.label('node')} is a worker in the layout.yaml of cluster ${s.label('cluster')}, but Prometheus has neither a scrape target ` +
          `nor any exporter series for it${v.scope}: the DaemonSet pod is not scheduled there, or the scrape config is out of date (regenerate it).`,
      },
    };
    return { rule: alertRule(ctx, spec), tests: absentTests(ctx, spec, v.matchers, v.scope) };
  });
}

function absentTests(ctx: GenContext, spec: AlertSpec, matchers: Matcher[], scope: string) {
  const cluster = pickLabels(matchers, { cluster: ctx.loaded.clusters.map((c) => c.name) })?.cluster;
  if (!cluster) return [];
  const target = ctx.targetIn(cluster);
  if (!ctx.workers.some((w) => w.cluster === cluster && w.node === target.node)) return [];
  const up = (w: { cluster: string; node: string; instance: string }) =>
    seriesText('up', { cluster: w.cluster, node: w.node, instance: w.instance, job: ctx.scrapeJobName });
  const length = stepsOf(spec.for) + 10;
  const others = ctx.workers
    .filter((w) => !(w.cluster === cluster && w.node === target.node))
    .map((w) => ({ series: up(w), values: values([runOf(1, length)]) }));
  return levelCases(ctx, spec, scope, {
    series: [{ series: up(target), bad: (_start, count) => ({ missing: count }), good: constant(1) }],
    labels: { cluster, node: target.node },
    value: target.expectedGpus,
    context: others,
  });
}

export function prometheusSelfCheck(ctx: GenContext): GeneratedAlert[] {
  return selfChecks(ctx, ctx.policies.prometheusSelfCheck, { job: 'prometheus', instance: 'localhost:9090' }, [
    {
      name: 'PrometheusRuleEvaluationFailures',
      series: [{ metric: 'prometheus_rule_evaluation_failures_total', extra: { rule_group: '/etc/prometheus/rules/gpuwatch.yml;gpuwatch-gpu-health' } }],
      kind: 'counter',
      by: ['rule_group'],
      summary: 'Prometheus fails to evaluate rules',
      description:
        'Rules of a group failed to evaluate in the last WINDOW, repeatedly: its alerts and recorded series are missing. The Prometheus log names the rule and the error.',
    },
    {
      name: 'PrometheusNotificationsDropped',
      series: [{ metric: 'prometheus_notifications_dropped_total', extra: {} }],
      kind: 'counter',
      by: [],
      summary: 'Prometheus drops alert notifications',
      description: 'Prometheus dropped alerts on their way to Alertmanager in the last WINDOW, repeatedly: alerts may not reach anyone.',
    },
    {
      name: 'PrometheusConfigReloadFailed',
      series: [{ metric: 'prometheus_config_last_reload_successful', extra: {} }],
      kind: 'zero',
      by: [],
      summary: 'Prometheus failed to reload its configuration',
      description: 'The last configuration reload failed, so Prometheus runs an older configuration and rule set.',
    },
  ]);
}

export function alertmanagerSelfCheck(ctx: GenContext): GeneratedAlert[] {
  return selfChecks(ctx, ctx.policies.alertmanagerSelfCheck, { job: 'alertmanager', instance: 'localhost:9093' }, [
    {
      name: 'AlertmanagerNotificationsFailing',
      series: [{ metric: 'alertmanager_notifications_failed_total', extra: { integration: 'webhook' } }],
      kind: 'counter',
      by: ['integration'],
      summary: 'Alertmanager fails to deliver notifications',
      description: 'Notifications to a receiver failed in the last WINDOW, repeatedly: check that the gpuwatch router is up and reachable.',
    },
    {
      name: 'AlertmanagerConfigReloadFailed',
      series: [{ metric: 'alertmanager_config_last_reload_successful', extra: {} }],
      kind: 'zero',
      by: [],
      summary: 'Alertmanager failed to reload its configuration',
      description: 'The last configuration reload failed, so Alertmanager routes with an older configuration.',
    },
  ]);
}
