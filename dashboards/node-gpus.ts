/** The GPUs row of the Node dashboard: every GPU of the node side by side. */
import { GPU_METRICS } from '../src/catalog/metrics.js';
import { timeseriesPanel, type Section } from './panels.js';
import { sel } from './promql.js';
import { rateUnitOf, unitOf, units } from './units.js';

/** The legend of one line per GPU. */
export const PER_GPU = 'GPU {{gpu}}';
const g = GPU_METRICS;

/** The GPUs row, first half: one line per GPU of utilization, memory, temperature, power and clocks. */
export function gpuGaugePanels(on: string[]): Section[1] {
  return [
    perGpu('GPU utilization', g.utilization, on, { min: 0, max: 1 }),
    perGpu('Memory-controller utilization', g.memoryUtilization, on, { min: 0, max: 1 }),
    perGpu('GPU memory used', g.memoryUsed, on, { min: 0 }),
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
    perGpu('Power', g.powerUsage, on, { min: 0 }),
    perGpu('SM clock', g.smClock, on, { min: 0 }),
    timeseriesPanel({
      title: 'Clock events (throttling)',
      description: 'GPUs of this node with each clock-event reason active.',
      unit: units.Short,
      queries: [{ expr: `sum by (reason) (${sel(g.clockEvent.name, ...on)})`, legend: '{{reason}}' }],
      width: 12,
      height: 8,
      min: 0,
    }),
  ];
}

/** The GPUs row, second half: memory health and errors. */
export function gpuHealthPanels(on: string[]): Section[1] {
  return [
    timeseriesPanel({
      title: 'ECC errors',
      description: 'New ECC errors per interval, by GPU and type (volatile counters; resets are handled by increase()).',
      unit: units.Short,
      queries: [{ expr: `sum by (gpu, type) (increase(${sel(g.ecc.name, ...on, 'scope="volatile"')}[$__rate_interval]))`, legend: `${PER_GPU} {{type}}` }],
      width: 12,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: 'XID errors',
      description: 'XID events per interval, by GPU and XID code.',
      unit: units.Short,
      queries: [{ expr: `sum by (gpu, xid) (increase(${sel(g.xid.name, ...on)}[$__rate_interval]))`, legend: `${PER_GPU} XID {{xid}}` }],
      width: 12,
      height: 8,
      min: 0,
    }),
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
    timeseriesPanel({
      title: 'PCIe replays',
      description: g.pcieReplays.help,
      unit: rateUnitOf(g.pcieReplays),
      queries: [{ expr: `rate(${sel(g.pcieReplays.name, ...on)}[$__rate_interval])`, legend: PER_GPU }],
      width: 12,
      height: 8,
      min: 0,
    }),
  ];
}

export interface PanelRange {
  min?: number;
  max?: number;
}

/** One line per GPU of a per-GPU gauge, in the metric's unit. */
function perGpu(title: string, metric: (typeof GPU_METRICS)[keyof typeof GPU_METRICS], on: string[], range: PanelRange) {
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
