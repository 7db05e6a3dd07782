/** Turns an alert's name, expression, variant settings and text into the rule and the alerts its tests expect. */
import type { PolicyAction, Severity } from '../src/config/policy-fields.js';
import { concreteSlots, templateSlots, type AlertText } from './annotations.js';
import type { GenContext } from './context.js';
import { JOB_METRICS } from '../src/catalog/metrics.js';
import { by, on } from './promql.js';
import type { AlertRule, ExpectedAlert } from './types.js';

export interface AlertSpec {
  name: string;
  expr: string;
  for: string;
  severity: Severity;
  /** Job policies: what the router does after the grace period. */
  action?: PolicyAction;
  /** Further constant labels (e.g. the XID class). */
  ruleLabels?: Record<string, string>;
  /** A per-GPU alert: it also carries the job, user and VC holding the GPU, when one does. */
  gpuHolder?: boolean;
  text: AlertText;
}

function labelsOf(spec: AlertSpec): Record<string, string> {
  return {
    severity: String(spec.severity),
    ...(spec.action ? { action: spec.action.type } : {}),
    ...spec.ruleLabels,
  };
}

function annotationsOf(ctx: GenContext, spec: AlertSpec, slots: Parameters<AlertText['summary']>[0]): Record<string, string> {
  return {
    summary: spec.text.summary(slots),
    description: spec.text.description(slots) + (spec.gpuHolder ? slots.holder : ''),
    runbook_url: ctx.runbookUrl(spec.name),
    ...(spec.action ? { action_grace: spec.action.grace } : {}),
  };
}

const GPU_KEY = ['cluster', 'node', 'uuid'];

/**
 * The alert joined with the job that holds its GPU (DESIGN §5: on node and uuid, group_left job,
 * user, vc); a GPU no job holds still alerts, without those labels. A GPU shared by two jobs names
 * one of them (topk), so the join never fails as a many-to-many match.
 */
export function withGpuHolder(expr: string): string {
  const holders = `topk ${by(GPU_KEY)} (1, max ${by([...GPU_KEY, 'job', 'user', 'vc'])} (${JOB_METRICS.allocated.name}))`;
  return [`(`, indent(expr), `)`, `* ${on(GPU_KEY)} group_left (job, user, vc)`, `  ${holders}`, `or ${on(GPU_KEY)}`, `(`, indent(expr), `)`].join('\n');
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

export function alertRule(ctx: GenContext, spec: AlertSpec): AlertRule {
  return {
    alert: spec.name,
    expr: spec.gpuHolder ? withGpuHolder(spec.expr) : spec.expr,
    for: spec.for,
    labels: labelsOf(spec),
    annotations: annotationsOf(ctx, spec, templateSlots),
  };
}

/** The alert a test expects: the series' labels that survive the expression, the rule's labels, the rendered text. */
export function expectedAlert(ctx: GenContext, spec: AlertSpec, seriesLabels: Record<string, string>, value: number): ExpectedAlert {
  const labels = { ...seriesLabels, ...labelsOf(spec) };
  return { labels, annotations: annotationsOf(ctx, spec, concreteSlots(labels, value)) };
}
