/**
 * Every PromQL expression a built dashboard holds (panel targets and query variables), with where it
 * sits, so checks over generated PromQL can cover dashboards the same way they cover rules.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { variableQueryPromql } from './grafana-promql.js';

export interface DashboardQuery {
  /** e.g. `gpuwatch-node / panel "Power" / A` or `gpuwatch-node / variable node`. */
  where: string;
  expr: string;
}

interface Target {
  expr?: unknown;
  refId?: unknown;
}

/** Panels inside rows included, in layout order. */
export function allPanels(d: dashboard.Dashboard): dashboard.Panel[] {
  const out: dashboard.Panel[] = [];
  for (const p of d.panels ?? []) {
    if (p.type === 'row') out.push(...(p as dashboard.RowPanel).panels);
    else out.push(p as dashboard.Panel);
  }
  return out;
}

export function dashboardQueries(d: dashboard.Dashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const v of d.templating.list ?? []) {
    if (v.type !== 'query' || typeof v.query !== 'string') continue;
    queries.push({ where: `${d.uid} / variable ${v.name}`, expr: variableQueryPromql(v.query) });
  }
  for (const p of allPanels(d)) {
    for (const t of (p.targets ?? []) as Target[]) {
      if (typeof t.expr !== 'string') continue;
      queries.push({ where: `${d.uid} / panel "${p.title ?? ''}" / ${String(t.refId)}`, expr: t.expr });
    }
  }
  return queries;
}
