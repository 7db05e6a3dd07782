/**
 * Per-MIG-instance utilization through NVML GPM. A GPM metric is a difference between two samples,
 * so the sampler keeps each GPU instance's last sample from one collection to the next: the value
 * read now covers the interval since the previous collection. The first collection after start (or
 * after an instance appears) has no earlier sample and reports nothing for that instance.
 *
 * Where GPM is missing (a GPU before Hopper, a driver before R520: NOT_SUPPORTED or no symbol) the
 * readings are absent, never 0.
 */
import type { MigInstanceUtilization } from '../../types.js';
import type { DeviceHandle, NvmlLibrary } from './bindings.js';
import * as calls from './calls-gpm.js';
import { NvmlGpmMetric } from './constants.js';
import { withoutUndefined } from '../../../src/defined.js';
import type { FieldReader } from './read.js';

const METRICS = [NvmlGpmMetric.GRAPHICS_UTIL, NvmlGpmMetric.SM_UTIL] as const;

const ratio = (percent: number | undefined) => (percent === undefined ? undefined : percent / 100);

export class GpmSampler {
  /** The last sample per GPU instance, keyed by GPU uuid and GPU instance id. */
  private readonly samples = new Map<string, calls.GpmSampleHandle>();
  private readonly readSinceSweep = new Set<string>();

  constructor(private readonly nvml: NvmlLibrary) {}

  /**
   * Samples every GPU instance of one MIG-enabled GPU and returns the utilization of those that
   * had a sample from the previous collection. Undefined where the GPU has no GPM or none had one.
   */
  read(handle: DeviceHandle, uuid: string, gpuInstanceIds: readonly number[], field: FieldReader): MigInstanceUtilization[] | undefined {
    if (gpuInstanceIds.length === 0 || field(calls.gpmSupported(this.nvml, handle)) !== true) return undefined;
    const readings: MigInstanceUtilization[] = [];
    for (const gpuInstanceId of new Set(gpuInstanceIds)) {
      const reading = this.readInstance(handle, `${uuid}/${gpuInstanceId}`, gpuInstanceId, field);
      if (reading !== undefined) readings.push(reading);
    }
    return readings.length > 0 ? readings : undefined;
  }

  /** Frees the samples of instances not read since the last sweep (gone, or their GPU unreadable). */
  sweep(): void {
    for (const [key, sample] of this.samples) {
      if (this.readSinceSweep.has(key)) continue;
      calls.gpmSampleFree(this.nvml, sample);
      this.samples.delete(key);
    }
    this.readSinceSweep.clear();
  }

  /** Frees every sample; before nvmlShutdown. */
  close(): void {
    this.readSinceSweep.clear();
    this.sweep();
  }

  private readInstance(handle: DeviceHandle, key: string, gpuInstanceId: number, field: FieldReader): MigInstanceUtilization | undefined {
    this.readSinceSweep.add(key);
    const earlier = this.samples.get(key);
    this.samples.delete(key);
    const later = this.takeSample(handle, gpuInstanceId, field);
    try {
      if (later === undefined || earlier === undefined) return undefined;
      const values = field(calls.gpmMetrics(this.nvml, earlier, later, METRICS));
      if (values === undefined || values.size === 0) return undefined;
      return withoutUndefined<MigInstanceUtilization>({
        gpuInstanceId,
        utilizationRatio: ratio(values.get(NvmlGpmMetric.GRAPHICS_UTIL)),
        smUtilizationRatio: ratio(values.get(NvmlGpmMetric.SM_UTIL)),
      });
    } finally {
      if (earlier !== undefined) calls.gpmSampleFree(this.nvml, earlier);
      if (later !== undefined) this.samples.set(key, later);
    }
  }

  /** A new sample of one GPU instance, or undefined (freed again) when it cannot be taken. */
  private takeSample(handle: DeviceHandle, gpuInstanceId: number, field: FieldReader): calls.GpmSampleHandle | undefined {
    const sample = field(calls.gpmSampleAlloc(this.nvml));
    if (sample === undefined) return undefined;
    let taken = false;
    try {
      taken = field(calls.gpmMigSample(this.nvml, handle, gpuInstanceId, sample)) === true;
    } finally {
      if (!taken) calls.gpmSampleFree(this.nvml, sample);
    }
    return taken ? sample : undefined;
  }
}
