/**
 * Combining the two nvidia-smi views of a GPU: the streamed `--query-gpu` reading (fresh, fast
 * fields) and the periodic `-q -x` reading (slower fields: processes, PCIe replays, and anything
 * the stream could not give).
 */
import type { GpuReading } from '../../types.js';
import { compact } from '../../../src/defined.js';

/** The members of `value` that are present. */
function present<T extends object>(value: T): Partial<T> {
  return compact(value) ?? {};
}

/** Member-by-member merge of a nested group; `fresh` wins where it has a value. */
function mergeGroup<T extends object>(slow: T | undefined, fresh: T | undefined): T | undefined {
  if (slow === undefined || fresh === undefined) return fresh ?? slow;
  return { ...slow, ...present(fresh) };
}

/** `fresh` wins wherever it has a value; `slow` fills the rest. */
export function mergeReading(fresh: GpuReading, slow: GpuReading | undefined): GpuReading {
  if (slow === undefined) return fresh;
  const merged: GpuReading = {
    ...slow,
    ...present(fresh),
    clockEventReasons: mergeGroup(slow.clockEventReasons, fresh.clockEventReasons),
    ecc: mergeGroup(slow.ecc, fresh.ecc),
    remappedRows: mergeGroup(slow.remappedRows, fresh.remappedRows),
    retiredPages: mergeGroup(slow.retiredPages, fresh.retiredPages),
  };
  return compact(merged) ?? merged;
}

/**
 * Join streamed and XML readings by UUID. GPUs known to only one side are kept as they are; the
 * result is ordered by GPU index.
 */
export function mergeReadings(fresh: readonly GpuReading[], slow: readonly GpuReading[]): GpuReading[] {
  const slowByUuid = new Map(slow.map((reading) => [reading.uuid, reading]));
  const merged = fresh.map((reading) => mergeReading(reading, slowByUuid.get(reading.uuid)));
  const freshUuids = new Set(fresh.map((reading) => reading.uuid));
  for (const reading of slow) {
    if (!freshUuids.has(reading.uuid)) merged.push(reading);
  }
  return merged.sort((a, b) => a.index - b.index);
}
