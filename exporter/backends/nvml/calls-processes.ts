/** The running-process lists of a GPU, with the driver-version fallbacks. */
import { FALLBACK_CODES, type DeviceHandle, type NvmlLibrary, type NvmlResult } from './bindings.js';
import { NvmlReturn } from './constants.js';
import { decodeProcesses, processInfoSize, type ComputeProcess } from './decode.js';
import { PROCESS_CALL_VERSIONS, type ProcessCallName, type ProcessKind } from './signatures.js';

const MAX_PROCESS_LIST_ATTEMPTS = 4;

/**
 * One kind of running processes (compute, graphics, MPS compute): the _v3 call, else _v2, else the
 * unversioned call of drivers before R450 (a 16-byte entry without instance ids).
 */
export function runningProcesses(nvml: NvmlLibrary, handle: DeviceHandle, kind: ProcessKind): NvmlResult<ComputeProcess[]> {
  let result: NvmlResult<ComputeProcess[]> = { fn: '', rc: NvmlReturn.FUNCTION_NOT_FOUND };
  for (const version of PROCESS_CALL_VERSIONS) {
    result = processList(nvml, `nvmlDeviceGet${kind}RunningProcesses${version}`, handle, version === '');
    if (!FALLBACK_CODES.has(result.rc)) return result;
  }
  return result;
}

/** Asks for the count, then grows the buffer while the list grows under it. */
function processList(nvml: NvmlLibrary, fn: ProcessCallName, handle: DeviceHandle, v1: boolean): NvmlResult<ComputeProcess[]> {
  const entrySize = processInfoSize(v1);
  let capacity = 0;
  for (let attempt = 0; attempt < MAX_PROCESS_LIST_ATTEMPTS; attempt++) {
    const count = [capacity];
    const buffer = capacity > 0 ? Buffer.alloc(capacity * entrySize) : null;
    const result = nvml.result(fn, [handle, count, buffer], () => count[0] ?? 0);
    if (result.rc === NvmlReturn.INSUFFICIENT_SIZE) {
      capacity = (count[0] ?? 0) + 4; // headroom for processes starting between the calls
      continue;
    }
    if (result.rc !== NvmlReturn.SUCCESS) return { fn, rc: result.rc };
    const found = Math.min(count[0] ?? 0, capacity);
    return { fn, rc: NvmlReturn.SUCCESS, value: buffer && found > 0 ? decodeProcesses(buffer, found, v1) : [] };
  }
  return { fn, rc: NvmlReturn.INSUFFICIENT_SIZE };
}
