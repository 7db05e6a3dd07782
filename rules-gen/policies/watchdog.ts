/**
 * The dead man's switch: one always-firing `Watchdog` alert per cluster. Alertmanager sends it to
 * the cluster's router every minute on a route of its own; the router pages when it stops arriving
 * (Prometheus, its rules or Alertmanager are down, or the path between them is broken).
 *
 * The contract with the router: alertname `Watchdog`, label `watchdog="true"`, label `cluster`,
 * repeated every minute. It carries no severity, so no inhibition rule selects it either way.
 */
import type { GenContext } from '../context.js';
import { at } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';

export const WATCHDOG_ALERT = 'Watchdog';
export const WATCHDOG_LABEL = 'watchdog';

export function watchdog(ctx: GenContext): GeneratedAlert[] {
  const rules = ctx.loaded.clusters.map((c) => ({
    alert: WATCHDOG_ALERT,
    expr: 'vector(1)',
    for: '0s',
    labels: { cluster: c.name, [WATCHDOG_LABEL]: 'true' },
    annotations: {
      summary: `Watchdog of cluster ${c.name}: the alerting pipeline works`,
      description:
        `This alert always fires. The gpuwatch router expects it every minute for cluster ${c.name}; ` +
        'when it stops arriving, Prometheus, its rule evaluation or Alertmanager is down, or the path between them is broken.',
      runbook_url: ctx.runbookUrl(WATCHDOG_ALERT),
    },
  }));
  // Every cluster's Watchdog fires at once, so each rule's test expects all of them.
  const all = rules.map((r) => ({ labels: r.labels, annotations: r.annotations }));
  return rules.map((rule) => ({
    rule,
    tests: [
      {
        name: `${WATCHDOG_ALERT} of ${rule.labels.cluster} fires with no input series at all`,
        inputSeries: [],
        checks: [0, 30].map((step) => ({ evalTime: at(step), alertname: WATCHDOG_ALERT, alerts: all })),
      },
    ],
  }));
}
