/**
 * Node: every GPU of one node side by side (utilization, memory, temperature, power, clocks, clock
 * events, ECC and other memory health), the jobs placed there, the host and the exporter itself.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { EXPORTER_METRICS, GPU_METRICS, JOB_METRICS, NODE_METRICS } from '../src/catalog/metrics.js';
import type { LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { DASHBOARD_KEYS, finish, newDashboard } from './base.js';
import { badFrom, goodFrom, row, statPanel, timeseriesPanel } from './panels.js';
import { holdersTable } from './holders.js';
import { sel } from './promql.js';
import { rateUnitOf, unitOf, units } from './units.js';
import { clusterVariable, nodeVariable } from './variables.js';

const PER_GPU = 'GPU {{gpu}}';

export function nodeDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const node = nodeVariable(cluster);
  const on = [cluster.matcher, node.matcher];
  const g = GPU_METRICS;
  const h = NODE_METRICS;
  const e = EXPORTER_METRICS;

  const builder = newDashboard({
    key: DASHBOARD_KEYS.node,
    title: 'gpuwatch / Node',
    description: "One node's GPUs, jobs, host and exporter.",
    from: 'now-6h',
    variables: [cluster, node],
  })
    .withRow(row('Summary'))
    .withPanel(statPanel({ title: 'GPUs seen', description: h.gpus.help, unit: unitOf(h.gpus), queries: [{ expr: sel(h.gpus.name, ...on) }], width: 4, height: 4 }))
    .withPanel(
      statPanel({
        title: 'GPUs expected',
        description: h.expectedGpus.help,
        unit: unitOf(h.expectedGpus),
        queries: [{ expr: sel(h.expectedGpus.name, ...on) }],
        width: 4,
        height: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'GPU utilization',
        description: 'Mean utilization of the GPUs of this node.',
        unit: units.PercentUnit,
        queries: [{ expr: sel(RECORDING.nodeUtilization, ...on) }],
        width: 4,
        height: 4,
        colors: goodFrom(0.3),
      }),
    )
    .withPanel(
      statPanel({
        title: 'GPUs held by jobs',
        description: 'GPUs of this node a job holds.',
        unit: units.Short,
        queries: [{ expr: `count(${sel(JOB_METRICS.allocated.name, ...on)})` }],
        width: 4,
        height: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Failing exporter sources',
        description: 'Sources (GPU backend, attribution, host) whose last collection failed.',
        unit: units.Short,
        queries: [{ expr: `count(${sel(e.sourceUp.name, ...on)} == 0) or vector(0)` }],
        width: 4,
        height: 4,
        colors: badFrom(1),
      }),
    )
    .withPanel(
      statPanel({
        title: 'Processes outside jobs',
        description: g.externalProcesses.help,
        unit: unitOf(g.externalProcesses),
        queries: [{ expr: `sum(${sel(g.externalProcesses.name, ...on)})` }],
        width: 4,
        height: 4,
        colors: badFrom(1),
      }),
    )
    .withRow(row('GPUs'))
    .withPanel(perGpu('GPU utilization', g.utilization, on, { min: 0, max: 1 }))
    .withPanel(perGpu('Memory-controller utilization', g.memoryUtilization, on, { min: 0, max: 1 }))
    .withPanel(perGpu('GPU memory used', g.memoryUsed, on, { min: 0 }))
    .withPanel(
      timeseriesPanel({
        title: 'Temperature',
        description: `${g.temperature.help} Lines marked "memory": ${g.memoryTemperature.help}`,
        unit: unitOf(g.temperature),
        queries: [
          { expr: sel(g.temperature.name, ...on), legend: PER_GPU },
          { expr: sel(g.memoryTemperature.name, ...on), legend: `${PER_GPU} memory` },
        ],
        width: 12,
        height: 8,
      }),
    )
    .withPanel(perGpu('Power', g.powerUsage, on, { min: 0 }))
    .withPanel(perGpu('SM clock', g.smClock, on, { min: 0 }))
    .withPanel(
      timeseriesPanel({
        title: 'Clock events (throttling)',
        description: 'GPUs of this node with each clock-event reason active.',
        unit: units.Short,
        queries: [{ expr: `sum by (reason) (${sel(g.clockEvent.name, ...on)})`, legend: '{{reason}}' }],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'ECC errors',
        description: 'New ECC errors per interval, by GPU and type (volatile counters; resets are handled by increase()).',
        unit: units.Short,
        queries: [
          {
            expr: `sum by (gpu, type) (increase(${sel(g.ecc.name, ...on, 'scope="volatile"')}[$__rate_interval]))`,
            legend: `${PER_GPU} {{type}}`,
          },
        ],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'XID errors',
        description: 'XID events per interval, by GPU and XID code.',
        unit: units.Short,
        queries: [{ expr: `sum by (gpu, xid) (increase(${sel(g.xid.name, ...on)}[$__rate_interval]))`, legend: `${PER_GPU} XID {{xid}}` }],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Remapped rows and retired pages',
        description: `${g.remappedRows.help} ${g.retiredPages.help}`,
        unit: units.Short,
        queries: [
          { expr: sel(g.remappedRows.name, ...on), legend: `${PER_GPU} remapped {{cause}}` },
          { expr: sel(g.retiredPages.name, ...on), legend: `${PER_GPU} retired {{cause}}` },
        ],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Pending GPU resets',
        description: 'A row remap or page retirement waits for a GPU reset; a failed remap needs service.',
        unit: units.Short,
        queries: [
          { expr: `${sel(g.remapPending.name, ...on)} == 1`, legend: `${PER_GPU} remap pending` },
          { expr: `${sel(g.remapFailed.name, ...on)} == 1`, legend: `${PER_GPU} remap failed` },
          { expr: `${sel(g.retiredPagesPending.name, ...on)} == 1`, legend: `${PER_GPU} retirement pending` },
        ],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'PCIe replays',
        description: g.pcieReplays.help,
        unit: rateUnitOf(g.pcieReplays),
        queries: [{ expr: `rate(${sel(g.pcieReplays.name, ...on)}[$__rate_interval])`, legend: PER_GPU }],
        width: 12,
        height: 8,
        min: 0,
      }),
    )
    .withRow(row('Jobs'))
    .withPanel(
      holdersTable({
        title: 'Jobs on this node',
        description: 'Which job holds which GPU (kubelet pod-resources and process attribution).',
        on,
        gpuColumn: true,
        height: 8,
      }),
    )
    .withPanel(
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
    )
    .withRow(row('Host'))
    .withPanel(hostPanel('CPU utilization', h.cpuUtilization, on, { min: 0, max: 1 }))
    .withPanel(hostPanel('Load (1 min)', h.load1, on, { min: 0 }))
    .withPanel(
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
    )
    .withPanel(
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
    )
    .withPanel(
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
    )
    .withRow(row('Exporter'))
    .withPanel(
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
    )
    .withPanel(
      timeseriesPanel({
        title: 'Collection duration',
        description: e.collectionDuration.help,
        unit: unitOf(e.collectionDuration),
        queries: [{ expr: sel(e.collectionDuration.name, ...on), legend: '{{source}}' }],
        width: 8,
        height: 8,
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Collection errors',
        description: e.collectionErrors.help,
        unit: rateUnitOf(e.collectionErrors),
        queries: [{ expr: `sum by (source, reason) (rate(${sel(e.collectionErrors.name, ...on)}[$__rate_interval]))`, legend: '{{source}} {{reason}}' }],
        width: 8,
        height: 8,
        min: 0,
      }),
    );
  return finish(builder);
}

interface Range {
  min?: number;
  max?: number;
}

/** One line per GPU of a per-GPU gauge, in the metric's unit. */
function perGpu(title: string, metric: (typeof GPU_METRICS)[keyof typeof GPU_METRICS], on: string[], range: Range) {
  return timeseriesPanel({
    title,
    description: metric.help,
    unit: unitOf(metric),
    queries: [{ expr: sel(metric.name, ...on), legend: PER_GPU }],
    width: 12,
    height: 8,
    ...range,
  });
}

function hostPanel(title: string, metric: (typeof NODE_METRICS)[keyof typeof NODE_METRICS], on: string[], range: Range) {
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
