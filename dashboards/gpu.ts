/**
 * GPU: one device in detail — identity, who holds it, every gauge the exporter reads, memory health
 * counters and the processes on it. The page an on-call engineer opens from a GPU health alert.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { GPU_METRICS, JOB_METRICS } from '../src/catalog/metrics.js';
import type { LoadedConfig } from '../src/config/load.js';
import { DASHBOARD_KEYS, finish, newDashboard } from './base.js';
import { badFrom, statPanel, tablePanel, timeseriesPanel, type Query, withSections, type Section } from './panels.js';
import { holdersTable } from './holders.js';
import { sel } from './promql.js';
import { rateUnitOf, unitOf, units } from './units.js';
import { clusterVariable, gpuVariable, nodeVariable } from './variables.js';

type GpuMetric = (typeof GPU_METRICS)[keyof typeof GPU_METRICS];

export function gpuDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = gpuScope(loaded);
  const { cluster, node, gpu } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.gpu,
    title: 'gpuwatch / GPU',
    description: 'One GPU: identity, holder, gauges, memory health and processes.',
    from: 'now-6h',
    variables: [cluster, node, gpu],
  });
  return finish(
    withSections(builder, [
      ['Identity', identityPanels(scope)],
      ['Gauges', gaugesPanels(scope)],
      ['Memory health, errors and processes', healthPanels(scope)],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function gpuScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const node = nodeVariable(cluster);
  const gpu = gpuVariable(cluster, node);
  const on = [cluster.matcher, node.matcher, gpu.matcher];
  const g = GPU_METRICS;
  const now = (metric: GpuMetric, title: string) =>
    statPanel({ title, description: metric.help, unit: unitOf(metric), queries: [{ expr: sel(metric.name, ...on) }], width: 4, height: 4 });
  const over = (title: string, description: string, unit: string, queries: Query[], min?: number, max?: number) =>
    timeseriesPanel({ title, description, unit, queries, width: 12, height: 8, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });

  return { cluster, node, gpu, on, g, now, over };
}

type GpuScope = ReturnType<typeof gpuScope>;

/** The "Identity" row. */
function identityPanels({ on, g, now }: GpuScope): Section[1] {
  return [
    tablePanel({
      title: 'Device',
      description: g.info.help,
      queries: [{ expr: sel(g.info.name, ...on) }],
      columns: [
        { field: 'name', header: 'Model' },
        { field: 'uuid', header: 'UUID' },
        { field: 'bus_id', header: 'PCI bus' },
        { field: 'driver_version', header: 'Driver' },
      ],
      width: 12,
      height: 4,
    }),
    holdersTable({ title: 'Held by', description: JOB_METRICS.allocated.help, on, gpuColumn: false, height: 4 }),
    now(g.utilization, 'Utilization'),
    now(g.memoryUsed, 'Memory used'),
    now(g.temperature, 'Temperature'),
    now(g.powerUsage, 'Power'),
    now(g.performanceState, 'Performance state'),
    statPanel({
      title: 'Processes outside jobs',
      description: g.externalProcesses.help,
      unit: unitOf(g.externalProcesses),
      queries: [{ expr: sel(g.externalProcesses.name, ...on) }],
      width: 4,
      height: 4,
      colors: badFrom(1),
    }),
  ];
}

/** The "Gauges" row. */
function gaugesPanels({ on, g, over }: GpuScope): Section[1] {
  return [
    over(
      'Utilization',
      `${g.utilization.help} ${g.memoryUtilization.help}`,
      units.PercentUnit,
      [
        { expr: sel(g.utilization.name, ...on), legend: 'kernels' },
        { expr: sel(g.memoryUtilization.name, ...on), legend: 'memory controller' },
      ],
      0,
      1,
    ),
    over(
      'Memory',
      `${g.memoryUsed.help} ${g.memoryTotal.help}`,
      unitOf(g.memoryUsed),
      [
        { expr: sel(g.memoryUsed.name, ...on), legend: 'used' },
        { expr: sel(g.memoryTotal.name, ...on), legend: 'total' },
      ],
      0,
    ),
    over('Temperature', `${g.temperature.help} ${g.memoryTemperature.help}`, unitOf(g.temperature), [
      { expr: sel(g.temperature.name, ...on), legend: 'core' },
      { expr: sel(g.memoryTemperature.name, ...on), legend: 'memory' },
    ]),
    over(
      'Power',
      `${g.powerUsage.help} ${g.powerLimit.help} Energy: rate of ${g.energy.name}.`,
      unitOf(g.powerUsage),
      [
        { expr: sel(g.powerUsage.name, ...on), legend: 'usage' },
        { expr: sel(g.powerLimit.name, ...on), legend: 'limit' },
        { expr: `rate(${sel(g.energy.name, ...on)}[$__rate_interval])`, legend: 'energy rate' },
      ],
      0,
    ),
    over(
      'Clocks',
      `${g.smClock.help} ${g.memoryClock.help}`,
      unitOf(g.smClock),
      [
        { expr: sel(g.smClock.name, ...on), legend: 'SM' },
        { expr: sel(g.memoryClock.name, ...on), legend: 'memory' },
      ],
      0,
    ),
    over(
      'Clock events and performance state',
      `${g.clockEvent.help} ${g.performanceState.help}`,
      units.Short,
      [
        { expr: `${sel(g.clockEvent.name, ...on)} == 1`, legend: '{{reason}}' },
        { expr: sel(g.performanceState.name, ...on), legend: 'P-state' },
      ],
      0,
    ),
  ];
}

/** The "Memory health, errors and processes" row. */
function healthPanels({ on, g, over }: GpuScope): Section[1] {
  return [
    over('ECC error counters', g.ecc.help, unitOf(g.ecc), [{ expr: sel(g.ecc.name, ...on), legend: '{{type}} {{scope}}' }], 0),
    over('XID errors', g.xid.help, units.Short, [{ expr: `sum by (xid) (increase(${sel(g.xid.name, ...on)}[$__rate_interval]))`, legend: 'XID {{xid}}' }], 0),
    over(
      'Remapped rows and retired pages',
      `${g.remappedRows.help} ${g.retiredPages.help}`,
      units.Short,
      [
        { expr: sel(g.remappedRows.name, ...on), legend: 'remapped {{cause}}' },
        { expr: sel(g.retiredPages.name, ...on), legend: 'retired {{cause}}' },
      ],
      0,
    ),
    over(
      'Pending resets and failed remaps',
      `${g.remapPending.help} ${g.remapFailed.help} ${g.retiredPagesPending.help}`,
      units.Short,
      [
        { expr: sel(g.remapPending.name, ...on), legend: 'remap pending' },
        { expr: sel(g.remapFailed.name, ...on), legend: 'remap failed' },
        { expr: sel(g.retiredPagesPending.name, ...on), legend: 'retirement pending' },
      ],
      0,
      1,
    ),
    over(
      'PCIe replays',
      g.pcieReplays.help,
      rateUnitOf(g.pcieReplays),
      [{ expr: `rate(${sel(g.pcieReplays.name, ...on)}[$__rate_interval])`, legend: 'replays' }],
      0,
    ),
    over('Memory by process', g.processMemory.help, unitOf(g.processMemory), [{ expr: sel(g.processMemory.name, ...on), legend: 'pid {{pid}} {{job}}' }], 0),
  ];
}
