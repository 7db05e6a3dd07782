/**
 * NVML calls beyond the core readings: MIG, video engines, fan, PCIe link, power-limit bounds and
 * NVLink. Each answers an NvmlResult in NVML's own units, like the methods of NvmlLibrary.
 */
import type { DeviceHandle, NvmlLibrary, NvmlResult } from './bindings.js';
import { NvmlReturn } from './constants.js';
import { decodeFieldValue } from './decode.js';

/** MIG mode now (1 enabled, 0 disabled). */
export function migMode(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<number> {
  const current = [0];
  const pending = [0];
  return nvml.result('nvmlDeviceGetMigMode', [handle, current, pending], () => current[0]);
}

export function maxMigDeviceCount(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetMaxMigDeviceCount', [handle], (n: number[]) => n[0]);
}

/** The MIG device at `index` of a MIG-enabled GPU; NOT_FOUND where that slot holds none. */
export function migDeviceHandle(nvml: NvmlLibrary, handle: DeviceHandle, index: number): NvmlResult<DeviceHandle> {
  return nvml.out('nvmlDeviceGetMigDeviceHandleByIndex', [handle, index], (h: bigint[]) => h[0]);
}

export function gpuInstanceId(nvml: NvmlLibrary, migHandle: DeviceHandle): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetGpuInstanceId', [migHandle], (n: number[]) => n[0]);
}

export function computeInstanceId(nvml: NvmlLibrary, migHandle: DeviceHandle): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetComputeInstanceId', [migHandle], (n: number[]) => n[0]);
}

/** Video encoder or decoder busy percent over its sampling period. */
export function videoUtilization(nvml: NvmlLibrary, handle: DeviceHandle, engine: 'Encoder' | 'Decoder'): NvmlResult<number> {
  const percent = [0];
  const periodUs = [0];
  return nvml.result(`nvmlDeviceGet${engine}Utilization`, [handle, percent, periodUs], () => percent[0]);
}

/** Fan speed, percent of its maximum. */
export function fanSpeed(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetFanSpeed', [handle], (n: number[]) => n[0]);
}

export type PcieLinkCall =
  'nvmlDeviceGetCurrPcieLinkGeneration' | 'nvmlDeviceGetMaxPcieLinkGeneration' | 'nvmlDeviceGetCurrPcieLinkWidth' | 'nvmlDeviceGetMaxPcieLinkWidth';

export function pcieLink(nvml: NvmlLibrary, handle: DeviceHandle, call: PcieLinkCall): NvmlResult<number> {
  return nvml.out(call, [handle], (n: number[]) => n[0]);
}

/** Default power limit, milliwatts. */
export function defaultPowerLimit(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetPowerManagementDefaultLimit', [handle], (mw: number[]) => mw[0]);
}

/** Lowest and highest settable power limit, milliwatts. */
export function powerLimitConstraints(nvml: NvmlLibrary, handle: DeviceHandle): NvmlResult<{ min: number; max: number }> {
  const min = [0];
  const max = [0];
  return nvml.result('nvmlDeviceGetPowerManagementLimitConstraints', [handle, min, max], () => ({ min: min[0]!, max: max[0]! }));
}

/** Whether NVLink `link` is active (nvmlEnableState_t: 1 enabled). */
export function nvLinkActive(nvml: NvmlLibrary, handle: DeviceHandle, link: number): NvmlResult<boolean> {
  return nvml.out('nvmlDeviceGetNvLinkState', [handle, link], (state: number[]) => state[0] === 1);
}

/** One nvmlNvLinkErrorCounter_t counter of one link. */
export function nvLinkErrorCounter(nvml: NvmlLibrary, handle: DeviceHandle, link: number, counter: number): NvmlResult<number> {
  return nvml.out('nvmlDeviceGetNvLinkErrorCounter', [handle, link, counter], (n: unknown[]) => Number(n[0]));
}

/** A per-link field value (scopeId = link), e.g. NVLink data throughput in KiB. */
export function linkFieldValue(nvml: NvmlLibrary, handle: DeviceHandle, fieldId: number, link: number): NvmlResult<number> {
  const field = { fieldId, scopeId: link, timestamp: 0, latencyUsec: 0, valueType: 0, nvmlReturn: 0, value: new Uint8Array(8) };
  const fn = 'nvmlDeviceGetFieldValues';
  const call = nvml.result(fn, [handle, 1, field], () => field);
  if (call.rc !== NvmlReturn.SUCCESS) return { fn, rc: call.rc };
  if (field.nvmlReturn !== NvmlReturn.SUCCESS) return { fn, rc: field.nvmlReturn };
  const value = decodeFieldValue(field.valueType, field.value);
  return value === undefined ? { fn, rc: NvmlReturn.NOT_SUPPORTED } : { fn, rc: NvmlReturn.SUCCESS, value };
}
