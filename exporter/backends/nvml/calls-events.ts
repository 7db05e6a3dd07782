/**
 * NVML's event API, for the XID watch (xid-watch.ts): an event set, the devices registered on it,
 * and the blocking wait. Each answers an NvmlResult, like the methods of NvmlLibrary.
 */
import type { DeviceHandle, EventSetHandle, NvmlLibrary, NvmlResult } from './bindings.js';
import { NvmlReturn } from './constants.js';
import { toNumber } from './decode.js';

export interface NvmlEvent {
  device: DeviceHandle;
  eventType: number;
  eventData: number;
}

export function eventSetCreate(nvml: NvmlLibrary): NvmlResult<EventSetHandle> {
  return nvml.out('nvmlEventSetCreate', [], (set: bigint[]) => set[0]);
}

export function registerEvents(nvml: NvmlLibrary, handle: DeviceHandle, eventTypes: number, set: EventSetHandle): NvmlResult<void> {
  return nvml.result('nvmlDeviceRegisterEvents', [handle, eventTypes, set], () => undefined);
}

/**
 * Waits up to `timeoutMs` for an event on a worker thread (koffi's async call), so the event
 * loop keeps running while NVML blocks. NVML_ERROR_TIMEOUT means nothing happened.
 */
export async function eventSetWait(nvml: NvmlLibrary, set: EventSetHandle, timeoutMs: number): Promise<NvmlResult<NvmlEvent>> {
  const fn = 'nvmlEventSetWait_v2';
  const wait = nvml.resolve(fn);
  if (!wait) return { fn, rc: NvmlReturn.FUNCTION_NOT_FOUND };
  const data: { device?: bigint | null; eventType?: unknown; eventData?: unknown } = {};
  const rc = await new Promise<number>((resolve, reject) => {
    wait.async(set, data, timeoutMs, (error: unknown, answer: number) => (error ? reject(error) : resolve(answer)));
  });
  if (rc !== NvmlReturn.SUCCESS) return { fn, rc };
  const value = {
    device: data.device ?? 0n,
    eventType: toNumber(data.eventType) ?? 0,
    eventData: toNumber(data.eventData) ?? 0,
  };
  return { fn, rc, value };
}

export function eventSetFree(nvml: NvmlLibrary, set: EventSetHandle): number {
  const free = nvml.resolve('nvmlEventSetFree');
  return free ? (free(set) as number) : NvmlReturn.FUNCTION_NOT_FOUND;
}
