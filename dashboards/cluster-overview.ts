/**
 * Cluster overview: capacity (GPUs the layout promises, the exporters see, jobs hold), utilization
 * by VC, and what is broken right now (health alerts, nodes short of GPUs, exporters down).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { NODE_METRICS } from '../src/catalog/metrics.js';
import type { LoadedCluster, LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { GPU_HEALTH_ALERT_NAMES } from './alerts.js';
import { DASHBOARD_KEYS, finish, linkTo, newDashboard } from './base.js';
import { badFrom, barGaugePanel, goodFrom, statPanel, tablePanel, textPanel, timeseriesPanel, withSections, type Section } from './panels.js';
import { sel } from './promql.js';
import { units } from './units.js';
import { clusterVariable } from './variables.js';

export function clusterOverviewDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = clusterOverviewScope(loaded);
  const { cluster } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.clusterOverview,
    title: 'gpuwatch / Cluster overview',
    description: 'GPUs expected, seen and allocated, utilization by VC, and active GPU health alerts.',
    from: 'now-6h',
    variables: [cluster],
  });
  return finish(
    withSections(builder, [
      ['Capacity', capacityPanels(scope)],
      ['Virtual clusters', virtualClustersPanels(scope)],
      ['Health', healthPanels(scope)],
      ['Layout', layoutPanels(scope)],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function clusterOverviewScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const C = cluster.matcher;
  const expected = `sum(${sel(RECORDING.clusterGpusExpected, C)})`;
  const seen = `sum(${sel(RECORDING.clusterGpusSeen, C)})`;
  const allocated = `sum(${sel(RECORDING.clusterGpusAllocated, C)})`;
  // The Watchdog always fires (the router's dead man's switch): it is no problem to count.
  const firing = ['alertstate="firing"', 'watchdog!="true"', C];
  const layout = layoutTable(loaded.clusters);

  return { cluster, C, expected, seen, allocated, firing, layout };
}

type ClusterOverviewScope = ReturnType<typeof clusterOverviewScope>;

/** The "Capacity" row: the figures now, then their history. */
function capacityPanels(scope: ClusterOverviewScope): Section[1] {
  return [...capacityStats(scope), ...capacityTrends(scope)];
}

function capacityStats({ C, expected, seen, allocated }: ClusterOverviewScope): Section[1] {
  return [
    statPanel({
      title: 'GPUs expected',
      description: "GPUs the cluster's layout.yaml declares.",
      unit: units.Short,
      queries: [{ expr: expected }],
      width: 4,
      height: 4,
    }),
    statPanel({ title: 'GPUs seen', description: 'GPUs the exporters report.', unit: units.Short, queries: [{ expr: seen }], width: 4, height: 4 }),
    statPanel({
      title: 'GPUs missing',
      description: 'Expected minus seen: GPUs that fell off the bus or sit on nodes whose exporter is down.',
      unit: units.Short,
      queries: [{ expr: `${expected} - ${seen}` }],
      width: 4,
      height: 4,
      colors: badFrom(1),
    }),
    statPanel({ title: 'GPUs allocated', description: 'GPUs held by jobs.', unit: units.Short, queries: [{ expr: allocated }], width: 4, height: 4 }),
    statPanel({
      title: 'Allocated share',
      description: 'Allocated GPUs over seen GPUs.',
      unit: units.PercentUnit,
      queries: [{ expr: `${allocated} / ${seen}` }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'GPU utilization',
      description: 'Mean utilization of all GPUs in the cluster.',
      unit: units.PercentUnit,
      queries: [{ expr: `avg(${sel(RECORDING.clusterUtilization, C)})` }],
      width: 4,
      height: 4,
      colors: goodFrom(0.3),
    }),
  ];
}

function capacityTrends({ C, expected, seen, allocated }: ClusterOverviewScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'GPUs expected, seen and allocated',
      description: 'A gap between expected and seen is capacity lost to hardware or exporter faults.',
      unit: units.Short,
      queries: [
        { expr: expected, legend: 'expected' },
        { expr: seen, legend: 'seen' },
        { expr: allocated, legend: 'allocated' },
      ],
      width: 12,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: 'Cluster GPU utilization',
      description: 'Mean utilization of all GPUs in the cluster.',
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.clusterUtilization, C), legend: '{{cluster}}' }],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    }),
  ];
}

/** The "Virtual clusters" row. */
function virtualClustersPanels({ C }: ClusterOverviewScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'GPU utilization by VC',
      description: "Mean utilization of the GPUs each VC's jobs hold.",
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.vcUtilization, C), legend: '{{vc}}' }],
      width: 12,
      height: 9,
      min: 0,
      max: 1,
    }),
    barGaugePanel({
      title: 'GPUs allocated by VC',
      description: "GPUs held by each VC's jobs now.",
      unit: units.Short,
      queries: [{ expr: `sort_desc(${sel(RECORDING.vcGpus, C)})`, legend: '{{vc}}' }],
      width: 12,
      height: 9,
      min: 0,
    }),
  ];
}

/** The "Health" row. */
function healthPanels({ C, firing }: ClusterOverviewScope): Section[1] {
  return [
    statPanel({
      title: 'Firing alerts by severity',
      description: 'Every firing alert of the cluster; severity 0 is the most urgent.',
      unit: units.Short,
      queries: [{ expr: `count by (severity) (${sel('ALERTS', ...firing)})`, legend: 'severity {{severity}}' }],
      width: 6,
      height: 9,
      noValue: '0',
    }),
    tablePanel({
      title: 'Active GPU health alerts',
      description: `Firing alerts named ${GPU_HEALTH_ALERT_NAMES} (ECC, row remapping, retired pages, XID, slowdown, temperature, missing GPUs).`,
      queries: [{ expr: sel('ALERTS', ...firing, `alertname=~"${GPU_HEALTH_ALERT_NAMES}"`) }],
      columns: [
        { field: 'alertname', header: 'Alert' },
        { field: 'severity', header: 'Severity' },
        { field: 'node', header: 'Node', link: linkTo(DASHBOARD_KEYS.node, 'Node details', { node: '${__value.raw}' }) },
        { field: 'gpu', header: 'GPU', link: linkTo(DASHBOARD_KEYS.gpu, 'GPU details', { node: '${__data.fields.node}', gpu: '${__value.raw}' }) },
        { field: 'uuid', header: 'UUID' },
      ],
      width: 18,
      height: 9,
    }),
    tablePanel({
      title: 'Nodes with fewer GPUs than layout.yaml',
      description: 'GPUs the SKU declares minus GPUs the node reports; a GPU fell off the bus.',
      queries: [{ expr: `${sel(NODE_METRICS.expectedGpus.name, C)} - ${sel(NODE_METRICS.gpus.name, C)} > 0` }],
      columns: [
        { field: 'node', header: 'Node', link: linkTo(DASHBOARD_KEYS.node, 'Node details', { node: '${__value.raw}' }) },
        { field: 'Value', header: 'GPUs missing' },
      ],
      width: 8,
      height: 8,
    }),
    tablePanel({
      title: 'Scrape targets down',
      description: 'Targets of the cluster whose last scrape failed.',
      queries: [{ expr: `${sel('up', C)} == 0` }],
      columns: [
        { field: 'instance', header: 'Instance' },
        { field: 'job', header: 'Scrape job' },
      ],
      width: 8,
      height: 8,
    }),
    tablePanel({
      title: 'Least utilized nodes',
      description: 'Mean GPU utilization per node, lowest first.',
      queries: [{ expr: `bottomk(20, ${sel(RECORDING.nodeUtilization, C)})` }],
      columns: [
        { field: 'node', header: 'Node', link: linkTo(DASHBOARD_KEYS.node, 'Node details', { node: '${__value.raw}' }) },
        { field: 'Value', header: 'GPU utilization', unit: units.PercentUnit },
      ],
      width: 8,
      height: 8,
    }),
  ];
}

/** The "Layout" row. */
function layoutPanels({ layout }: ClusterOverviewScope): Section[1] {
  return [textPanel('Clusters in gpuwatch.yaml', layout.markdown, 24, Math.min(20, 2 + Math.ceil(layout.rows * 0.8)))];
}

/** What each cluster's layout.yaml promises, by SKU: the reference the capacity panels compare with. */
export function layoutTable(clusters: readonly LoadedCluster[]): { markdown: string; rows: number } {
  const lines = ['| Cluster | Priority | SKU | GPU model | Nodes | GPUs per node | GPUs |', '| --- | --- | --- | --- | ---: | ---: | ---: |'];
  for (const c of clusters) {
    const bySku = new Map<string, { model: string; nodes: number; perNode: number }>();
    for (const n of c.layoutData.nodes) {
      const entry = bySku.get(n.sku) ?? { model: n.gpuModel ?? '', nodes: 0, perNode: n.expectedGpus };
      entry.nodes++;
      bySku.set(n.sku, entry);
    }
    for (const [sku, e] of [...bySku].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      lines.push(`| ${c.name} | ${c.priority} | ${sku} | ${e.model || '—'} | ${e.nodes} | ${e.perNode} | ${e.nodes * e.perNode} |`);
    }
  }
  return { markdown: lines.join('\n'), rows: lines.length };
}
