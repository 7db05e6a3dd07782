/**
 * NVML's GPM (GPU Performance Monitoring) calls, Hopper and newer GPUs on R520 and newer drivers:
 * a metric is computed between two samples of the same GPU (or MIG GPU instance), so the caller
 * keeps the previous sample. Each answers an NvmlResult in NVML's own units, like NvmlLibrary.
 */
import type { DeviceHandle, NvmlLibrary, NvmlResult } from './bindings.js';
import { NVML_GPM_METRICS_GET_VERSION, NVML_GPM_SUPPORT_VERSION, NvmlReturn } from './constants.js';
import { GPM_METRIC_SLOTS } from './ffi-types.js';

/** nvmlGpmSample_t as koffi hands it over. */
export type GpmSampleHandle = bigint;

/** Whether the GPU supports GPM (false on GPUs before Hopper). */
export function gpmSupported(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<boolean> {
  const support = { version: NVML_GPM_SUPPORT_VERSION, isSupportedDevice: 0 };
  return nvml.result('nvmlGpmQueryDeviceSupport', [handle, support], () => support.isSupportedDevice !== 0);
}

export function gpmSampleAlloc(nvml: NvmlLibrary): NvmlResult<GpmSampleHandle> {
  return nvml.out('nvmlGpmSampleAlloc', [], (sample: bigint[]) => sample[0]);
}

export function gpmSampleFree(nvml: NvmlLibrary, sample: GpmSampleHandle): number {
  return nvml.result('nvmlGpmSampleFree', [sample], () => true).rc;
}

/** Fills `sample` with the counters of GPU instance `gpuInstanceId` of the MIG-enabled GPU `handle`. */
export function gpmMigSample(nvml: NvmlLibrary, handle: DeviceHandle, gpuInstanceId: number, sample: GpmSampleHandle): NvmlResult<true> {
  return nvml.result('nvmlGpmMigSampleGet', [handle, gpuInstanceId, sample], () => true);
}

/**
 * The metrics `metricIds` (at most GPM_METRIC_SLOTS) between two samples, `earlier` first: each
 * metric's value where NVML computed it, by metric id.
 */
export function gpmMetrics(nvml: NvmlLibrary, earlier: GpmSampleHandle, later: GpmSampleHandle, metricIds: readonly number[]): NvmlResult<Map<number, number>> {
  if (metricIds.length > GPM_METRIC_SLOTS) throw new RangeError(`at most ${GPM_METRIC_SLOTS} GPM metrics per call`);
  const slot = (metricId: number) => ({ metricId, nvmlReturn: 0, value: 0, shortName: null, longName: null, unit: null });
  const metrics = Array.from({ length: GPM_METRIC_SLOTS }, (_, i) => slot(metricIds[i] ?? 0));
  const request = { version: NVML_GPM_METRICS_GET_VERSION, numMetrics: metricIds.length, sample1: earlier, sample2: later, metrics };
  return nvml.result('nvmlGpmMetricsGet', [request], () => {
    const values = new Map<number, number>();
    for (const metric of request.metrics.slice(0, metricIds.length)) {
      if (metric.nvmlReturn === NvmlReturn.SUCCESS && Number.isFinite(metric.value)) values.set(metric.metricId, metric.value);
    }
    return values;
  });
}
