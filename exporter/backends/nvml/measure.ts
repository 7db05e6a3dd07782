/**
 * Times full GPU reads, for sizing the scrape interval and for comparing against nvidia-smi on a
 * real node. Runs where the reads run: inside the backend's worker thread.
 */
import type { GpuReading } from '../../types.js';

/** Anything that reads every GPU synchronously (the worker's NVML session). */
export interface GpuReader {
  readGpus(): GpuReading[];
}

/** Rejects a round count that cannot give a median; shared by both sides of the worker. */
export function checkRounds(rounds: number): void {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
}

/**
 * Reads every GPU `rounds` times and returns the median cost of reading one GPU (all fields),
 * in microseconds. Each round's time is divided by the number of GPUs read in it.
 */
export function medianReadMicros(reader: GpuReader, rounds: number): number {
  checkRounds(rounds);
  const perGpuMicros: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    const readings = reader.readGpus();
    const elapsedMicros = Number(process.hrtime.bigint() - started) / 1000;
    if (readings.length > 0) perGpuMicros.push(elapsedMicros / readings.length);
  }
  return median(perGpuMicros);
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}
