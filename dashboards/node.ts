/**
 * Node: every GPU of one node side by side (utilization, memory, temperature, power, clocks, clock
 * events, ECC and other memory health), the jobs placed there, the host and the exporter itself.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { EXPORTER_METRICS, GPU_METRICS, JOB_METRICS, NODE_METRICS } from '../src/catalog/metrics.js';
import type { LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { DASHBOARD_KEYS, finish, newDashboard } from './base.js';
import { badFrom, goodFrom, statPanel, timeseriesPanel, withSections, type Section } from './panels.js';
import { holdersTable } from './holders.js';
import { sel } from './promql.js';
import { rateUnitOf, unitOf, units } from './units.js';
import { clusterVariable, nodeVariable } from './variables.js';
import { gpuGaugePanels, gpuHealthPanels, PER_GPU, type PanelRange } from './node-gpus.js';

export function nodeDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = nodeScope(loaded);
  const { cluster, node } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.node,
    title: 'gpuwatch / Node',
    description: "One node's GPUs, jobs, host and exporter.",
    from: 'now-6h',
    variables: [cluster, node],
  });
  return finish(
    withSections(builder, [
      ['Summary', summaryPanels(scope)],
      ['GPUs', [...gpuGaugePanels(scope.on), ...gpuHealthPanels(scope.on)]],
      ['Jobs', jobsPanels(scope)],
      ['Host', hostPanels(scope)],
      ['Exporter', exporterPanels(scope)],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function nodeScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const node = nodeVariable(cluster);
  const on = [cluster.matcher, node.matcher];
  const g = GPU_METRICS;
  const h = NODE_METRICS;
  const e = EXPORTER_METRICS;

  return { cluster, node, on, g, h, e };
}

type NodeScope = ReturnType<typeof nodeScope>;

/** The "Summary" row. */
function summaryPanels({ on, g, h, e }: NodeScope): Section[1] {
  return [
    statPanel({ title: 'GPUs seen', description: h.gpus.help, unit: unitOf(h.gpus), queries: [{ expr: sel(h.gpus.name, ...on) }], width: 4, height: 4 }),
    statPanel({
      title: 'GPUs expected',
      description: h.expectedGpus.help,
      unit: unitOf(h.expectedGpus),
      queries: [{ expr: sel(h.expectedGpus.name, ...on) }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'GPU utilization',
      description: 'Mean utilization of the GPUs of this node.',
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.nodeUtilization, ...on) }],
      width: 4,
      height: 4,
      colors: goodFrom(0.3),
    }),
    statPanel({
      title: 'GPUs held by jobs',
      description: 'GPUs of this node a job holds.',
      unit: units.Short,
      queries: [{ expr: `count(${sel(JOB_METRICS.allocated.name, ...on)})` }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'Failing exporter sources',
      description: 'Sources (GPU backend, attribution, host) whose last collection failed.',
      unit: units.Short,
      queries: [{ expr: `count(${sel(e.sourceUp.name, ...on)} == 0) or vector(0)` }],
      width: 4,
      height: 4,
      colors: badFrom(1),
    }),
    statPanel({
      title: 'Processes outside jobs',
      description: g.externalProcesses.help,
      unit: unitOf(g.externalProcesses),
      queries: [{ expr: `sum(${sel(g.externalProcesses.name, ...on)})` }],
      width: 4,
      height: 4,
      colors: badFrom(1),
    }),
  ];
}

/** The "Jobs" row. */
function jobsPanels({ on }: NodeScope): Section[1] {
  return [
    holdersTable({
      title: 'Jobs on this node',
      description: 'Which job holds which GPU (kubelet pod-resources and process attribution).',
      on,
      gpuColumn: true,
      height: 8,
    }),
    timeseriesPanel({
      title: 'GPU utilization by job',
      description: 'Utilization of the GPUs jobs hold, labelled with the job.',
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.gpuUtilizationByJob, ...on, 'job!=""'), legend: `${PER_GPU} {{job}}` }],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    }),
  ];
}

/** The "Host" row. */
function hostPanels({ on, h }: NodeScope): Section[1] {
  return [
    hostPanel('CPU utilization', h.cpuUtilization, on, { min: 0, max: 1 }),
    hostPanel('Load (1 min)', h.load1, on, { min: 0 }),
    timeseriesPanel({
      title: 'Host memory available',
      description: `${h.memoryAvailable.help} Share of ${h.memoryTotal.name}.`,
      unit: units.PercentUnit,
      queries: [{ expr: `${sel(h.memoryAvailable.name, ...on)} / ${sel(h.memoryTotal.name, ...on)}`, legend: 'available' }],
      width: 8,
      height: 8,
      min: 0,
      max: 1,
    }),
    timeseriesPanel({
      title: 'File system used',
      description: 'Share of each file system in use (including the NFS share).',
      unit: units.PercentUnit,
      queries: [
        {
          expr: `1 - ${sel(h.filesystemAvailable.name, ...on)} / ${sel(h.filesystemSize.name, ...on)}`,
          legend: '{{mountpoint}}',
        },
      ],
      width: 12,
      height: 8,
      min: 0,
      max: 1,
    }),
    timeseriesPanel({
      title: 'Network',
      description: 'Bytes per second received (positive) and sent (negative) per interface.',
      unit: rateUnitOf(h.networkReceive),
      queries: [
        { expr: `rate(${sel(h.networkReceive.name, ...on)}[$__rate_interval])`, legend: '{{interface}} in' },
        { expr: `-rate(${sel(h.networkTransmit.name, ...on)}[$__rate_interval])`, legend: '{{interface}} out' },
      ],
      width: 12,
      height: 8,
    }),
  ];
}

/** The "Exporter" row. */
function exporterPanels({ on, e }: NodeScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'Source up',
      description: e.sourceUp.help,
      unit: unitOf(e.sourceUp),
      queries: [{ expr: sel(e.sourceUp.name, ...on), legend: '{{source}}' }],
      width: 8,
      height: 8,
      min: 0,
      max: 1,
    }),
    timeseriesPanel({
      title: 'Collection duration',
      description: e.collectionDuration.help,
      unit: unitOf(e.collectionDuration),
      queries: [{ expr: sel(e.collectionDuration.name, ...on), legend: '{{source}}' }],
      width: 8,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: 'Collection errors',
      description: e.collectionErrors.help,
      unit: rateUnitOf(e.collectionErrors),
      queries: [{ expr: `sum by (source, reason) (rate(${sel(e.collectionErrors.name, ...on)}[$__rate_interval]))`, legend: '{{source}} {{reason}}' }],
      width: 8,
      height: 8,
      min: 0,
    }),
  ];
}

function hostPanel(title: string, metric: (typeof NODE_METRICS)[keyof typeof NODE_METRICS], on: string[], range: PanelRange) {
  return timeseriesPanel({
    title,
    description: metric.help,
    unit: unitOf(metric),
    queries: [{ expr: sel(metric.name, ...on), legend: title }],
    width: 8,
    height: 8,
    ...range,
  });
}
