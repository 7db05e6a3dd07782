/**
 * Self-checks of the monitoring servers (Prometheus, Alertmanager, vmalert, vmagent, VictoriaMetrics):
 * one alert per standard series of a server, with its promtool cases. A check is a counter that
 * increased within the window, a gauge that is 0 (a reload that failed) or a gauge above 0 (a flag
 * that is set). The series carry no cluster label unless their scrape adds one, so the alert gets
 * the monitoring cluster where they lack it.
 */
import { alertRule, type AlertSpec } from '../alert-builder.js';
import type { Slots } from '../annotations.js';
import { constant, eventCases, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, quote, range } from '../promql.js';
import { seriesText } from '../timeline.js';
import type { GeneratedAlert, PromtoolTest } from '../types.js';

/** The knobs every self-check reads (prometheusSelfCheck, alertmanagerSelfCheck). */
export interface SelfCheckPolicy {
  enabled: boolean;
  window: string;
  for: string;
  severity: AlertSpec['severity'];
}

/** Where the tests' input series come from: the scrape job and target of the server. */
export interface SelfCheckServer {
  job: string;
  instance: string;
}

/** One of the alert's series: its metric, and the labels its test series carry besides instance and job. */
export interface CheckedSeries {
  metric: string;
  extra: Record<string, string>;
}

export interface SelfCheck {
  name: string;
  /** Several series (`or`-ed, e.g. alerting and recording rules): the first gets every case, the others a firing one. */
  series: CheckedSeries[];
  kind: 'counter' | 'zero' | 'nonzero';
  by: string[];
  summary: string;
  /** WINDOW stands for the policy's window; a function gets the alert's labels too. */
  description: string | ((s: Slots) => string);
}

/** Series of a server carry no cluster label unless their scrape adds one. */
export function inMonitoringCluster(ctx: GenContext, expr: string): string {
  return `label_replace(\n  ${expr},\n  "cluster", ${quote(ctx.monitoringCluster)}, "cluster", ""\n)`;
}

function conditionOf(c: SelfCheck, window: string): string {
  const metrics = c.series.map((s) => (c.kind === 'counter' ? `increase(${s.metric}${range(window)})` : s.metric)).join(' or ');
  const aggregated = `max ${by(['cluster', 'instance', ...c.by])} (${metrics})`;
  return c.kind === 'zero' ? `${aggregated} == 0` : `${aggregated} > 0`;
}

/** The alert spec of a self-check: its condition, the policy's for and severity, the text naming the instance. */
export function selfCheckSpec(ctx: GenContext, policy: SelfCheckPolicy, c: Pick<SelfCheck, 'name' | 'summary' | 'description'>, expr: string): AlertSpec {
  return {
    name: c.name,
    expr: inMonitoringCluster(ctx, expr),
    for: policy.for,
    severity: policy.severity,
    text: {
      summary: (s) => `${c.summary} (${s.label('instance')})`,
      description: (s) =>
        `${(typeof c.description === 'string' ? c.description : c.description(s)).replaceAll('WINDOW', policy.window)} Instance ${s.label('instance')}, cluster ${s.label('cluster')}.`,
    },
  };
}

function casesOf(ctx: GenContext, spec: AlertSpec, policy: SelfCheckPolicy, server: SelfCheckServer, c: SelfCheck): PromtoolTest[] {
  return c.series.flatMap((s, i) => {
    const series = seriesText(s.metric, { instance: server.instance, job: server.job, ...s.extra });
    const labels = { cluster: ctx.monitoringCluster, instance: server.instance, ...Object.fromEntries(c.by.map((l) => [l, s.extra[l] ?? ''])) };
    const scope = i === 0 ? '' : ` (${s.metric})`;
    const cases =
      c.kind === 'counter'
        ? eventCases(ctx, spec, scope, { series, labels, window: policy.window, appearsWithFirstEvent: false })
        : levelCases(ctx, spec, scope, {
            series: [{ series, bad: constant(c.kind === 'zero' ? 0 : 1), good: constant(c.kind === 'zero' ? 1 : 0) }],
            labels,
            value: c.kind === 'zero' ? 0 : 1,
          });
    return i === 0 ? cases : cases.slice(0, 1);
  });
}

/** The alerts of `checks` on one server, none when the policy is off. */
export function selfChecks(ctx: GenContext, policy: SelfCheckPolicy, server: SelfCheckServer, checks: SelfCheck[]): GeneratedAlert[] {
  if (!policy.enabled) return [];
  return checks.map((c) => {
    const spec = selfCheckSpec(ctx, policy, c, conditionOf(c, policy.window));
    return { rule: alertRule(ctx, spec), tests: casesOf(ctx, spec, policy, server, c) };
  });
}
