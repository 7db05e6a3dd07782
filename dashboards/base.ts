/**
 * What every gpuwatch dashboard shares: a stable uid derived from its key, the gpuwatch tag with a
 * dropdown of the other gpuwatch dashboards, the data source variable first, and panel ids numbered
 * in layout order (so the output does not depend on anything but the input).
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { datasourceVariable, type TemplateVariable } from './variables.js';

export const DASHBOARD_TAG = 'gpuwatch';

/** The dashboards, by key; a key is the stable part of the uid and of the file name. */
export const DASHBOARD_KEYS = {
  clusterOverview: 'cluster-overview',
  node: 'node',
  gpu: 'gpu',
  job: 'job',
  efficiency: 'efficiency',
  oncall: 'oncall',
} as const;

export type DashboardKey = (typeof DASHBOARD_KEYS)[keyof typeof DASHBOARD_KEYS];

/** Grafana allows 40 characters; keys are short kebab-case names. */
export function dashboardUid(key: string): string {
  const uid = `gpuwatch-${key}`;
  if (!/^[a-z0-9-]{1,40}$/.test(uid)) throw new Error(`dashboard uid "${uid}" is not short kebab-case`);
  return uid;
}

export interface DashboardSpec {
  key: DashboardKey;
  title: string;
  description: string;
  /** Default time range, e.g. `now-6h`. */
  from: string;
  variables: TemplateVariable[];
}

export function newDashboard(spec: DashboardSpec): dashboard.DashboardBuilder {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(dashboardUid(spec.key))
    .description(spec.description)
    .tags([DASHBOARD_TAG])
    .timezone('browser')
    .time({ from: spec.from, to: 'now' })
    .refresh('1m')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .readonly()
    .link(
      new dashboard.DashboardLinkBuilder('gpuwatch')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .withVariable(datasourceVariable());
  for (const v of spec.variables) builder.withVariable(v.builder);
  return builder;
}

/** The built dashboard with panel ids 1, 2, 3… in the order the panels were added. */
export function finish(builder: cog.Builder<dashboard.Dashboard>): dashboard.Dashboard {
  const built = builder.build();
  // Show the dashboard links in the links bar (the SDK defaults to Grafana 12's controls menu).
  for (const link of built.links ?? []) delete link.placement;
  let id = 0;
  for (const panel of built.panels ?? []) {
    panel.id = ++id;
    if (panel.type === 'row') for (const inner of (panel as dashboard.RowPanel).panels) inner.id = ++id;
  }
  return built;
}

/**
 * A data link to another gpuwatch dashboard that keeps the time range, data source and cluster;
 * `params` adds variables, e.g. `{ node: '${__value.raw}' }`.
 */
export function linkTo(key: DashboardKey, title: string, params: Record<string, string>): { title: string; url: string } {
  const vars = Object.entries(params).map(([name, value]) => `&var-${name}=${value}`);
  return {
    title,
    url: `/d/${dashboardUid(key)}?\${__url_time_range}&\${datasource:queryparam}&\${cluster:queryparam}${vars.join('')}`,
  };
}
