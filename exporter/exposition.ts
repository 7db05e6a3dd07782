/**
 * Turns one collected node state into Prometheus text exposition, with prom-client registering
 * every metric from the catalog. A fresh registry per collection: device counters are absolute
 * readings, so "inc by the reading" on a new counter is exactly "set".
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { EXPORTER_METRICS, GPU_METRICS, JOB_METRICS, NODE_METRICS, type MetricDef } from '../src/catalog/metrics.js';
import type { Attribution, JobIdentity, MigInstance } from './attribution/types.js';
import type { HostReading } from './host.js';
import { CLOCK_EVENT_REASONS, GPU_STATES, NVLINK_ERROR_TYPES, SKIP_REASONS, type GpuReading, type GpuSnapshot } from './types.js';

export interface SourceStatus {
  up: boolean;
  durationSeconds?: number;
  lastSuccessSeconds?: number;
  errors: Map<string, number>;
}

export interface NodeState {
  node: string;
  version: string;
  backend: string;
  /** undefined when the GPU source has never answered or its last collection failed. */
  gpus?: GpuSnapshot;
  attribution?: Attribution;
  host?: HostReading;
  expectedGpus?: number;
  sources: ReadonlyMap<string, SourceStatus>;
  /** GPU readings dropped as impossible since start, by the metric they would have fed. */
  invalidValues?: ReadonlyMap<string, number>;
}

type Labels = Record<string, string | number>;

/** The job label of a GPU process that runs outside any container (a host process). */
export const EXTERNAL_JOB = 'external';
/** The job label of a GPU process whose /proc entry could not be read. */
export const UNKNOWN_JOB = 'unknown';

class Builder {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Gauge | Counter>();

  set(def: MetricDef, labels: Labels, value: number | boolean | undefined): void {
    if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return;
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    const metric = this.metric(def);
    if (metric instanceof Counter) metric.inc(labels, Math.max(0, v));
    else metric.set(labels, v);
  }

  private metric(def: MetricDef): Gauge | Counter {
    let metric = this.metrics.get(def.name);
    if (!metric) {
      const opts = { name: def.name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
      metric = def.type === 'counter' ? new Counter(opts) : new Gauge(opts);
      this.metrics.set(def.name, metric);
    }
    return metric;
  }
}

export async function renderExposition(state: NodeState): Promise<string> {
  const b = new Builder();
  const node = state.node;
  b.set(EXPORTER_METRICS.buildInfo, { node, version: state.version, backend: state.backend }, 1);
  for (const [source, s] of state.sources) {
    b.set(EXPORTER_METRICS.sourceUp, { node, source }, s.up);
    b.set(EXPORTER_METRICS.collectionDuration, { node, source }, s.durationSeconds);
    b.set(EXPORTER_METRICS.lastSuccess, { node, source }, s.lastSuccessSeconds);
    for (const [reason, count] of s.errors) b.set(EXPORTER_METRICS.collectionErrors, { node, source, reason }, count);
  }
  b.set(NODE_METRICS.expectedGpus, { node }, state.expectedGpus);
  for (const [metric, count] of state.invalidValues ?? []) b.set(EXPORTER_METRICS.invalidValues, { node, metric }, count);
  if (state.gpus) {
    b.set(NODE_METRICS.gpus, { node }, state.gpus.gpus.length);
    for (const reason of SKIP_REASONS) {
      b.set(EXPORTER_METRICS.skippedGpus, { node, reason }, state.gpus.skippedGpus?.[reason] ?? 0);
    }
    for (const gpu of state.gpus.gpus) addGpu(b, node, gpu);
    addXid(b, node, state.gpus);
  }
  if (state.attribution && state.gpus) addAttribution(b, node, state.gpus, state.attribution);
  if (state.host) addHost(b, node, state.host);
  return b.registry.metrics();
}

function addGpu(b: Builder, node: string, g: GpuReading): void {
  const l: Labels = { node, gpu: g.index, uuid: g.uuid };
  const m = GPU_METRICS;
  b.set(m.info, { ...l, name: g.name ?? '', bus_id: g.busId ?? '', driver_version: g.driverVersion ?? '' }, 1);
  const state = g.state ?? 'ok';
  for (const s of GPU_STATES) b.set(m.state, { ...l, state: s }, s === state);
  b.set(m.utilization, l, g.utilizationRatio);
  b.set(m.memoryUtilization, l, g.memoryUtilizationRatio);
  b.set(m.memoryUsed, l, g.memoryUsedBytes);
  b.set(m.memoryTotal, l, g.memoryTotalBytes);
  b.set(m.memoryFree, l, g.memoryFreeBytes);
  b.set(m.memoryReserved, l, g.memoryReservedBytes);
  b.set(m.encoderUtilization, l, g.encoderUtilizationRatio);
  b.set(m.decoderUtilization, l, g.decoderUtilizationRatio);
  b.set(m.fanSpeed, l, g.fanSpeedRatio);
  b.set(m.pcieLinkGeneration, { ...l, kind: 'current' }, g.pcieLink?.generationCurrent);
  b.set(m.pcieLinkGeneration, { ...l, kind: 'max' }, g.pcieLink?.generationMax);
  b.set(m.pcieLinkWidth, { ...l, kind: 'current' }, g.pcieLink?.widthCurrent);
  b.set(m.pcieLinkWidth, { ...l, kind: 'max' }, g.pcieLink?.widthMax);
  b.set(m.temperature, l, g.temperatureCelsius);
  b.set(m.memoryTemperature, l, g.memoryTemperatureCelsius);
  b.set(m.powerUsage, l, g.powerUsageWatts);
  b.set(m.powerLimit, l, g.powerLimitWatts);
  b.set(m.powerDefaultLimit, l, g.powerDefaultLimitWatts);
  b.set(m.powerMinLimit, l, g.powerMinLimitWatts);
  b.set(m.powerMaxLimit, l, g.powerMaxLimitWatts);
  b.set(m.energy, l, g.energyJoules);
  b.set(m.smClock, l, g.smClockHertz);
  b.set(m.memoryClock, l, g.memoryClockHertz);
  b.set(m.performanceState, l, g.performanceState);
  for (const reason of CLOCK_EVENT_REASONS) b.set(m.clockEvent, { ...l, reason }, g.clockEventReasons?.[reason]);
  const e = g.ecc;
  b.set(m.ecc, { ...l, type: 'corrected', scope: 'volatile' }, e?.correctedVolatile);
  b.set(m.ecc, { ...l, type: 'corrected', scope: 'aggregate' }, e?.correctedAggregate);
  b.set(m.ecc, { ...l, type: 'uncorrected', scope: 'volatile' }, e?.uncorrectedVolatile);
  b.set(m.ecc, { ...l, type: 'uncorrected', scope: 'aggregate' }, e?.uncorrectedAggregate);
  b.set(m.remappedRows, { ...l, cause: 'correctable' }, g.remappedRows?.correctable);
  b.set(m.remappedRows, { ...l, cause: 'uncorrectable' }, g.remappedRows?.uncorrectable);
  b.set(m.remapPending, l, g.remappedRows?.pending);
  b.set(m.remapFailed, l, g.remappedRows?.failure);
  b.set(m.retiredPages, { ...l, cause: 'sbe' }, g.retiredPages?.singleBit);
  b.set(m.retiredPages, { ...l, cause: 'dbe' }, g.retiredPages?.doubleBit);
  b.set(m.retiredPagesPending, l, g.retiredPages?.pending);
  b.set(m.pcieReplays, l, g.pcieReplays);
  addNvLinks(b, l, g);
  addMig(b, l, g);
}

function addNvLinks(b: Builder, l: Labels, g: GpuReading): void {
  const m = GPU_METRICS;
  for (const n of g.nvlinks ?? []) {
    const link = { ...l, link: n.link };
    for (const type of NVLINK_ERROR_TYPES) b.set(m.nvlinkErrors, { ...link, type }, n.errors?.[type]);
    b.set(m.nvlinkTransmit, link, n.transmitBytes);
    b.set(m.nvlinkReceive, link, n.receiveBytes);
  }
}

function addMig(b: Builder, l: Labels, g: GpuReading): void {
  const m = GPU_METRICS;
  b.set(m.migMode, l, g.migMode);
  for (const d of g.migDevices ?? []) {
    const where = { ...l, gpu_instance_id: d.gpuInstanceId, compute_instance_id: d.computeInstanceId };
    b.set(m.migInfo, { ...where, mig_index: d.index, mig_uuid: d.uuid ?? '' }, 1);
    b.set(m.migMemoryUsed, where, d.memoryUsedBytes);
    b.set(m.migMemoryTotal, where, d.memoryTotalBytes);
  }
  for (const u of g.migInstanceUtilization ?? []) {
    b.set(m.migUtilization, { ...l, gpu_instance_id: u.gpuInstanceId }, u.utilizationRatio);
    b.set(m.migSmUtilization, { ...l, gpu_instance_id: u.gpuInstanceId }, u.smUtilizationRatio);
  }
}

/** The MIG instance labels, where the instance is known. */
function instanceLabels(instance: MigInstance | undefined): Labels {
  return instance ? { gpu_instance_id: instance.gpuInstanceId, compute_instance_id: instance.computeInstanceId } : {};
}

function addXid(b: Builder, node: string, snapshot: GpuSnapshot): void {
  if (!snapshot.xid) return;
  const indexByUuid = new Map(snapshot.gpus.map((g) => [g.uuid, g.index]));
  for (const [uuid, counts] of snapshot.xid) {
    const gpu = indexByUuid.get(uuid);
    if (gpu === undefined) continue;
    for (const [xid, count] of counts) b.set(GPU_METRICS.xid, { node, gpu, uuid, xid }, count);
  }
  for (const [uuid, times] of snapshot.xidLastEventSeconds ?? []) {
    const gpu = indexByUuid.get(uuid);
    if (gpu === undefined) continue;
    for (const [xid, seconds] of times) b.set(GPU_METRICS.xidLastEvent, { node, gpu, uuid, xid }, seconds);
  }
}

const jobLabels = (id: JobIdentity) => ({
  job: id.job,
  user: id.user ?? '',
  vc: id.vc ?? '',
  priority: id.priority ?? '',
});

function addAttribution(b: Builder, node: string, snapshot: GpuSnapshot, a: Attribution): void {
  const indexByUuid = new Map(snapshot.gpus.map((g) => [g.uuid, g.index]));
  const starts = new Map<string, { labels: Labels; start: number }>();
  for (const { uuid, identity, instance } of a.allocations) {
    const gpu = indexByUuid.get(uuid);
    if (gpu === undefined) continue;
    const labels = {
      node,
      gpu,
      uuid,
      ...jobLabels(identity),
      pod: identity.pod ?? '',
      namespace: identity.namespace ?? '',
      ...instanceLabels(instance),
    };
    b.set(JOB_METRICS.allocated, labels, 1);
    if (identity.startTimeSeconds !== undefined) {
      const seen = starts.get(identity.job);
      if (!seen || identity.startTimeSeconds < seen.start) {
        starts.set(identity.job, { labels: { node, ...jobLabels(identity) }, start: identity.startTimeSeconds });
      }
    }
  }
  for (const { labels, start } of starts.values()) b.set(JOB_METRICS.startTime, labels, start);
  const external = new Map<string, number>();
  for (const p of a.processes) {
    const gpu = indexByUuid.get(p.uuid);
    if (gpu === undefined) continue;
    // Never an empty job: with honor_labels an empty label would take the scrape job's name.
    const job = p.identity?.job ?? (p.unresolved ? UNKNOWN_JOB : EXTERNAL_JOB);
    const labels = { node, gpu, uuid: p.uuid, pid: p.pid, job, container: p.identity?.container ?? '', ...instanceLabels(p.instance) };
    b.set(GPU_METRICS.processMemory, labels, p.usedMemoryBytes);
    if (job === EXTERNAL_JOB) external.set(p.uuid, (external.get(p.uuid) ?? 0) + 1);
  }
  for (const g of snapshot.gpus) {
    if (g.processes !== undefined) b.set(GPU_METRICS.externalProcesses, { node, gpu: g.index, uuid: g.uuid }, external.get(g.uuid) ?? 0);
  }
}

function addHost(b: Builder, node: string, h: HostReading): void {
  const m = NODE_METRICS;
  b.set(m.cpuUtilization, { node }, h.cpuUtilizationRatio);
  b.set(m.load1, { node }, h.load1);
  b.set(m.memoryTotal, { node }, h.memoryTotalBytes);
  b.set(m.memoryAvailable, { node }, h.memoryAvailableBytes);
  for (const fs of h.filesystems) {
    const l = { node, mountpoint: fs.mountpoint, fstype: fs.fstype, device: fs.device };
    b.set(m.filesystemSize, l, fs.sizeBytes);
    b.set(m.filesystemAvailable, l, fs.availableBytes);
  }
  for (const n of h.network) {
    b.set(m.networkReceive, { node, interface: n.interface }, n.receiveBytes);
    b.set(m.networkTransmit, { node, interface: n.interface }, n.transmitBytes);
  }
}
