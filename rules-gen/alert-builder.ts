/** Turns an alert's name, expression, variant settings and text into the rule and the alerts its tests expect. */
import type { PolicyAction, Severity } from '../src/config/policy-fields.js';
import { concreteSlots, templateSlots, type AlertText } from './annotations.js';
import type { GenContext } from './context.js';
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
    description: spec.text.description(slots),
    runbook_url: ctx.runbookUrl(spec.name),
    ...(spec.action ? { action_grace: spec.action.grace } : {}),
  };
}

export function alertRule(ctx: GenContext, spec: AlertSpec): AlertRule {
  return {
    alert: spec.name,
    expr: spec.expr,
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
