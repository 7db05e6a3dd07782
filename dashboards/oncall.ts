/**
 * On-call and SLA, from the alert router's own metrics: open incidents, time to acknowledge,
 * missed SLA deadlines, escalations, notification delivery and job actions. Spans clusters (the
 * cluster variable allows several), since one rotation often covers more than one.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { ROUTER_METRICS } from '../src/catalog/metrics.js';
import type { LoadedConfig } from '../src/config/load.js';
import { DASHBOARD_KEYS, finish, newDashboard } from './base.js';
import { badFrom, goodFrom, statPanel, tablePanel, timeseriesPanel, withSections, type Section } from './panels.js';
import { sel } from './promql.js';
import { rateUnitOf, unitOf, units } from './units.js';
import { clusterVariable } from './variables.js';

export function oncallDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = oncallScope(loaded);
  const { cluster } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.oncall,
    title: 'gpuwatch / On-call and SLA',
    description: "Incidents, acknowledgement times and SLA deadlines from the gpuwatch alert router's metrics.",
    from: 'now-7d',
    variables: [cluster],
  });
  return finish(
    withSections(builder, [
      ['Now and over the range', summaryPanels(scope)],
      ['Incidents', incidentsPanels(scope)],
      ['Delivery and actions (all clusters)', deliveryPanels(scope)],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function oncallScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(
    loaded.clusters.map((c) => c.name),
    true,
  );
  const C = cluster.matcher;
  const r = ROUTER_METRICS;
  const tta = r.timeToAck.name;
  const inRange = (metric: string, ...matchers: string[]) => `increase(${sel(metric, ...matchers)}[$__range])`;
  const ackQuantile = (q: number) => `histogram_quantile(${q}, sum by (le) (${inRange(`${tta}_bucket`, C)}))`;
  const ackBreaches = `(sum(${inRange(r.slaBreaches.name, C, 'kind="acknowledge"')}) or vector(0))`;
  const acknowledged = `sum(${inRange(`${tta}_count`, C)})`;

  return { cluster, C, r, tta, inRange, ackQuantile, ackBreaches, acknowledged };
}

type OncallScope = ReturnType<typeof oncallScope>;

/** The "Now and over the range" row. */
function summaryPanels({ C, r, inRange, ackQuantile, ackBreaches, acknowledged }: OncallScope): Section[1] {
  return [
    statPanel({
      title: 'Open incidents',
      description: r.incidentsOpen.help,
      unit: unitOf(r.incidentsOpen),
      queries: [{ expr: `sum by (severity) (${sel(r.incidentsOpen.name, C)})`, legend: 'severity {{severity}}' }],
      width: 6,
      height: 4,
    }),
    statPanel({
      title: 'Median time to acknowledge',
      description: `${r.timeToAck.help} Median over the range.`,
      unit: unitOf(r.timeToAck),
      queries: [{ expr: ackQuantile(0.5) }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: '90th percentile time to acknowledge',
      description: `${r.timeToAck.help} 90th percentile over the range.`,
      unit: unitOf(r.timeToAck),
      queries: [{ expr: ackQuantile(0.9) }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'Acknowledged within SLA',
      description:
        'Approximation: 1 − (acknowledge deadlines missed ÷ incidents acknowledged) over the range; an incident still open past its deadline counts as missed.',
      unit: units.PercentUnit,
      queries: [{ expr: `clamp_min(1 - ${ackBreaches} / ${acknowledged}, 0)` }],
      width: 5,
      height: 4,
      colors: goodFrom(0.95),
    }),
    statPanel({
      title: 'SLA deadlines missed',
      description: r.slaBreaches.help,
      unit: units.Short,
      queries: [{ expr: `sum(${inRange(r.slaBreaches.name, C)}) or vector(0)` }],
      width: 5,
      height: 4,
      colors: badFrom(1),
    }),
  ];
}

/** The "Incidents" row. */
function incidentsPanels({ C, r, tta, inRange }: OncallScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'Open incidents',
      description: r.incidentsOpen.help,
      unit: unitOf(r.incidentsOpen),
      queries: [{ expr: `sum by (cluster, severity) (${sel(r.incidentsOpen.name, C)})`, legend: '{{cluster}} severity {{severity}}' }],
      width: 12,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: 'Time to acknowledge',
      description: `${r.timeToAck.help} 50th and 90th percentile by severity.`,
      unit: unitOf(r.timeToAck),
      queries: [0.5, 0.9].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le, severity) (rate(${sel(`${tta}_bucket`, C)}[$__rate_interval])))`,
        legend: `p${q * 100} severity {{severity}}`,
      })),
      width: 12,
      height: 8,
      min: 0,
    }),
    tablePanel({
      title: 'SLA deadlines missed',
      description: r.slaBreaches.help,
      queries: [{ expr: `sum by (cluster, severity, kind) (${inRange(r.slaBreaches.name, C)}) > 0` }],
      columns: [
        { field: 'cluster', header: 'Cluster' },
        { field: 'severity', header: 'Severity' },
        { field: 'kind', header: 'Deadline' },
        { field: 'Value', header: 'Missed' },
      ],
      width: 12,
      height: 8,
    }),
    timeseriesPanel({
      title: 'Escalations',
      description: r.escalations.help,
      unit: rateUnitOf(r.escalations),
      queries: [{ expr: `sum by (tier) (rate(${sel(r.escalations.name, C)}[$__rate_interval]))`, legend: 'tier {{tier}}' }],
      width: 12,
      height: 8,
      min: 0,
    }),
  ];
}

/** The "Delivery and actions (all clusters)" row. */
function deliveryPanels({ r }: OncallScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'Notifications',
      description: `${r.notifications.help} Not split by cluster.`,
      unit: rateUnitOf(r.notifications),
      queries: [{ expr: `sum by (channel, result) (rate(${r.notifications.name}[$__rate_interval]))`, legend: '{{channel}} {{result}}' }],
      width: 12,
      height: 8,
      min: 0,
    }),
    tablePanel({
      title: 'Job actions',
      description: `${r.actions.help} Over the range; not split by cluster.`,
      queries: [{ expr: `sum by (action, result) (increase(${r.actions.name}[$__range])) > 0` }],
      columns: [
        { field: 'action', header: 'Action' },
        { field: 'result', header: 'Result' },
        { field: 'Value', header: 'Count' },
      ],
      width: 12,
      height: 8,
    }),
  ];
}
