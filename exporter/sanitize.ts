/**
 * What every GPU reading goes through before it is exported, whichever backend read it:
 * - values no GPU can have (a ratio outside 0..1, a MIG instance's included, negative bytes, watts, hertz or counts, a
 *   temperature no sensor reports) are dropped and counted by metric, never exported as they are
 *   (device counters such as ECC, remapped rows and retired pages included: the nvidia-smi readers
 *   keep a negative count for this check instead of dropping it unseen);
 * - a second GPU with a UUID already seen is left out and counted (its series would collide with
 *   the first GPU's on every per-uuid join);
 * - a process listed twice on one GPU (and one GPU instance) becomes one entry with the larger memory
 *   figure (NVML lists a process that does both compute and graphics in both lists, each time with
 *   all its memory), so that neither entry overwrites the other's series and none is doubled.
 * Pure: the caller keeps the counts.
 */
import { withoutUndefined } from '../src/defined.js';
import { GPU_METRICS } from '../src/catalog/metrics.js';
import type { GpuProcess, GpuReading, GpuSnapshot, MigInstanceUtilization, SkippedGpus } from './types.js';

type Check = (value: number) => boolean;

const ratio: Check = (v) => v >= 0 && v <= 1;
const nonNegative: Check = (v) => v >= 0;
/** GPU sensors report roughly -40..125 °C; anything far outside is a misread, not a temperature. */
const celsius: Check = (v) => v >= -50 && v <= 200;
const pstate: Check = (v) => Number.isInteger(v) && v >= 0 && v <= 15;

/** Top-level numeric fields of a reading, the check they must pass, and the metric they feed. */
const FIELD_CHECKS: ReadonlyArray<[keyof GpuReading, Check, string]> = [
  ['utilizationRatio', ratio, GPU_METRICS.utilization.name],
  ['memoryUtilizationRatio', ratio, GPU_METRICS.memoryUtilization.name],
  ['memoryTotalBytes', nonNegative, GPU_METRICS.memoryTotal.name],
  ['memoryUsedBytes', nonNegative, GPU_METRICS.memoryUsed.name],
  ['memoryFreeBytes', nonNegative, GPU_METRICS.memoryFree.name],
  ['memoryReservedBytes', nonNegative, GPU_METRICS.memoryReserved.name],
  ['encoderUtilizationRatio', ratio, GPU_METRICS.encoderUtilization.name],
  ['decoderUtilizationRatio', ratio, GPU_METRICS.decoderUtilization.name],
  ['fanSpeedRatio', ratio, GPU_METRICS.fanSpeed.name],
  ['temperatureCelsius', celsius, GPU_METRICS.temperature.name],
  ['memoryTemperatureCelsius', celsius, GPU_METRICS.memoryTemperature.name],
  ['powerUsageWatts', nonNegative, GPU_METRICS.powerUsage.name],
  ['powerLimitWatts', nonNegative, GPU_METRICS.powerLimit.name],
  ['powerDefaultLimitWatts', nonNegative, GPU_METRICS.powerDefaultLimit.name],
  ['powerMinLimitWatts', nonNegative, GPU_METRICS.powerMinLimit.name],
  ['powerMaxLimitWatts', nonNegative, GPU_METRICS.powerMaxLimit.name],
  ['energyJoules', nonNegative, GPU_METRICS.energy.name],
  ['smClockHertz', nonNegative, GPU_METRICS.smClock.name],
  ['memoryClockHertz', nonNegative, GPU_METRICS.memoryClock.name],
  ['performanceState', pstate, GPU_METRICS.performanceState.name],
  ['pcieReplays', nonNegative, GPU_METRICS.pcieReplays.name],
];

/** Counts of dropped values by the metric they would have fed. */
export type InvalidValues = Map<string, number>;

export interface SanitizedSnapshot {
  snapshot: GpuSnapshot;
  /** Values dropped in this snapshot, by metric name. */
  invalid: InvalidValues;
}

/** The snapshot with impossible values, duplicate GPUs and duplicate processes dealt with. */
export function sanitizeSnapshot(snapshot: GpuSnapshot): SanitizedSnapshot {
  const invalid: InvalidValues = new Map();
  const drop = (metric: string) => invalid.set(metric, (invalid.get(metric) ?? 0) + 1);
  const seen = new Set<string>();
  let duplicates = 0;
  const gpus: GpuReading[] = [];
  for (const gpu of [...snapshot.gpus].sort((a, b) => a.index - b.index)) {
    if (seen.has(gpu.uuid)) {
      duplicates++;
      continue;
    }
    seen.add(gpu.uuid);
    gpus.push(sanitizeReading(gpu, drop));
  }
  const skippedGpus: SkippedGpus = { ...snapshot.skippedGpus };
  if (duplicates > 0) skippedGpus.duplicate_uuid = (skippedGpus.duplicate_uuid ?? 0) + duplicates;
  const hasSkipped = Object.keys(skippedGpus).length > 0;
  return { snapshot: { ...snapshot, gpus, ...(hasSkipped ? { skippedGpus } : {}) }, invalid };
}

type Drop = (metric: string) => void;

function sanitizeReading(gpu: GpuReading, drop: Drop): GpuReading {
  const clean: GpuReading = { ...gpu };
  for (const [key, check, metric] of FIELD_CHECKS) {
    const value = clean[key];
    if (typeof value === 'number' && !check(value)) {
      delete clean[key];
      drop(metric);
    }
  }
  const m = GPU_METRICS;
  const counts = (group: object | undefined, metric: string | ((member: string) => string)) => group && nonNegativeMembers(group, metric, drop);
  clean.ecc = counts(clean.ecc, m.ecc.name);
  clean.remappedRows = counts(clean.remappedRows, m.remappedRows.name);
  clean.retiredPages = counts(clean.retiredPages, m.retiredPages.name);
  clean.pcieLink = counts(clean.pcieLink, (member) => (member.startsWith('width') ? m.pcieLinkWidth.name : m.pcieLinkGeneration.name));
  const nvlinkMetric = (member: string) => (member === 'receiveBytes' ? m.nvlinkReceive.name : m.nvlinkTransmit.name);
  clean.nvlinks = clean.nvlinks?.map((link) => ({ ...nonNegativeMembers(link, nvlinkMetric, drop), errors: counts(link.errors, m.nvlinkErrors.name) }));
  const migMetric = (member: string) => (member === 'memoryTotalBytes' ? m.migMemoryTotal.name : m.migMemoryUsed.name);
  clean.migDevices = clean.migDevices?.map((device) => nonNegativeMembers(device, migMetric, drop));
  clean.migInstanceUtilization = clean.migInstanceUtilization?.map((instance) => validInstanceUtilization(instance, drop));
  if (clean.processes) clean.processes = mergeProcesses(clean.processes, drop);
  return withoutUndefined(clean);
}

/** One MIG instance's utilization without ratios outside 0..1, each counted under its metric. */
function validInstanceUtilization(instance: MigInstanceUtilization, drop: Drop): MigInstanceUtilization {
  const clean = { ...instance };
  if (clean.utilizationRatio !== undefined && !ratio(clean.utilizationRatio)) {
    delete clean.utilizationRatio;
    drop(GPU_METRICS.migUtilization.name);
  }
  if (clean.smUtilizationRatio !== undefined && !ratio(clean.smUtilizationRatio)) {
    delete clean.smUtilizationRatio;
    drop(GPU_METRICS.migSmUtilization.name);
  }
  return clean;
}

/**
 * `group` without its negative numeric members, each counted under `metric`, or under the metric
 * `metric` names for that member when the members feed different metrics.
 */
function nonNegativeMembers<T extends object>(group: T, metric: string | ((member: string) => string), drop: Drop): T {
  const clean: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(group)) {
    if (typeof value === 'number' && !(value >= 0)) drop(typeof metric === 'string' ? metric : metric(key));
    else clean[key] = value;
  }
  return clean as T;
}

/** One entry per (pid, GPU instance, compute instance), keeping the larger memory figure. */
export function mergeProcesses(processes: readonly GpuProcess[], drop: Drop = () => {}): GpuProcess[] {
  const byKey = new Map<string, GpuProcess>();
  for (const process of processes) {
    const entry = { ...process };
    if (entry.usedMemoryBytes !== undefined && !(entry.usedMemoryBytes >= 0)) {
      delete entry.usedMemoryBytes;
      drop(GPU_METRICS.processMemory.name);
    }
    const key = `${entry.pid}/${entry.gpuInstanceId ?? ''}/${entry.computeInstanceId ?? ''}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, entry);
      continue;
    }
    if (entry.usedMemoryBytes !== undefined) seen.usedMemoryBytes = Math.max(seen.usedMemoryBytes ?? 0, entry.usedMemoryBytes);
    seen.name ??= entry.name;
  }
  return [...byKey.values()];
}
