/**
 * Pure conversions from what koffi hands back for NVML outputs to plain JS values: C strings,
 * 64-bit integers, the nvmlValue_t union and process lists.
 */
import koffi from 'koffi';
import { NVML_VALUE_NOT_AVAILABLE_U64, NvmlValueType } from './constants.js';
import { ProcessInfoType } from './ffi-types.js';

export interface MemoryInfo {
  totalBytes: number;
  usedBytes: number;
}

export interface ComputeProcess {
  pid: number;
  /** Undefined where the driver answers NVML_VALUE_NOT_AVAILABLE (e.g. without permission). */
  usedMemoryBytes?: number;
}

/** The NUL-terminated text at the start of a buffer NVML filled. */
export function cString(buffer: Buffer): string {
  const end = buffer.indexOf(0);
  return buffer.subarray(0, end < 0 ? buffer.length : end).toString('utf8');
}

/**
 * koffi gives 64-bit integers as numbers when they fit, as bigints otherwise; NVML's
 * "not available" marker (all bits set) becomes undefined.
 */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return value === NVML_VALUE_NOT_AVAILABLE_U64 ? undefined : Number(value);
  return undefined;
}

export function toMemoryInfo(info: { total: unknown; used: unknown }): MemoryInfo | undefined {
  const totalBytes = toNumber(info.total);
  const usedBytes = toNumber(info.used);
  return totalBytes === undefined || usedBytes === undefined ? undefined : { totalBytes, usedBytes };
}

/** Reads an nvmlValue_t union (8 little-endian bytes) according to its nvmlValueType_t tag. */
export function decodeFieldValue(valueType: number, bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  switch (valueType) {
    case NvmlValueType.DOUBLE:
      return view.getFloat64(0, true);
    case NvmlValueType.UNSIGNED_INT:
      return view.getUint32(0, true);
    case NvmlValueType.SIGNED_INT:
      return view.getInt32(0, true);
    case NvmlValueType.UNSIGNED_SHORT:
      return view.getUint16(0, true);
    case NvmlValueType.UNSIGNED_LONG:
    case NvmlValueType.UNSIGNED_LONG_LONG:
      return Number(view.getBigUint64(0, true));
    case NvmlValueType.SIGNED_LONG_LONG:
      return Number(view.getBigInt64(0, true));
    default:
      return undefined;
  }
}

/** Decodes `count` nvmlProcessInfo_t entries from the buffer NVML filled. */
export function decodeProcesses(buffer: Buffer, count: number): ComputeProcess[] {
  const infos = koffi.decode(buffer, ProcessInfoType, count) as Array<{ pid: number; usedGpuMemory: unknown }>;
  return infos.map((info) => {
    const usedMemoryBytes = toNumber(info.usedGpuMemory);
    return usedMemoryBytes === undefined ? { pid: info.pid } : { pid: info.pid, usedMemoryBytes };
  });
}
