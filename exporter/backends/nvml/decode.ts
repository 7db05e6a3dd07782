/**
 * Pure conversions from what koffi hands back for NVML outputs to plain JS values: C strings,
 * 64-bit integers, the nvmlValue_t union and process lists.
 */
import koffi from 'koffi';
import { NVML_VALUE_NOT_AVAILABLE_U64, NvmlValueType } from './constants.js';
import { ProcessInfoType, ProcessInfoV1Type } from './ffi-types.js';

export interface MemoryInfo {
  totalBytes: number;
  usedBytes: number;
  freeBytes?: number;
  /** Only from nvmlMemory_v2_t. */
  reservedBytes?: number;
}

export interface ComputeProcess {
  pid: number;
  /** Undefined where the driver answers NVML_VALUE_NOT_AVAILABLE (e.g. without permission). */
  usedMemoryBytes?: number;
  /** MIG: the instances the process runs in; absent outside MIG mode and from the v1 struct. */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/** nvmlProcessInfo_t's gpuInstanceId/computeInstanceId outside MIG mode. */
const NO_INSTANCE = 0xffff_ffff;

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

export function toMemoryInfo(info: { total: unknown; used: unknown; free?: unknown; reserved?: unknown }): MemoryInfo | undefined {
  const totalBytes = toNumber(info.total);
  const usedBytes = toNumber(info.used);
  if (totalBytes === undefined || usedBytes === undefined) return undefined;
  const memory: MemoryInfo = { totalBytes, usedBytes };
  const freeBytes = toNumber(info.free);
  const reservedBytes = toNumber(info.reserved);
  if (freeBytes !== undefined) memory.freeBytes = freeBytes;
  if (reservedBytes !== undefined) memory.reservedBytes = reservedBytes;
  return memory;
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

interface ProcessInfo {
  pid: number;
  usedGpuMemory: unknown;
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/** The size of one process entry: nvmlProcessInfo_t, or nvmlProcessInfo_v1_t for `v1`. */
export function processInfoSize(v1: boolean): number {
  return (v1 ? ProcessInfoV1Type : ProcessInfoType).size;
}

/** Decodes `count` nvmlProcessInfo_t (or, for `v1`, nvmlProcessInfo_v1_t) entries NVML filled. */
export function decodeProcesses(buffer: Buffer, count: number, v1 = false): ComputeProcess[] {
  const infos = koffi.decode(buffer, v1 ? ProcessInfoV1Type : ProcessInfoType, count) as ProcessInfo[];
  return infos.map((info) => {
    const process: ComputeProcess = { pid: info.pid };
    const usedMemoryBytes = toNumber(info.usedGpuMemory);
    if (usedMemoryBytes !== undefined) process.usedMemoryBytes = usedMemoryBytes;
    if (info.gpuInstanceId !== undefined && info.gpuInstanceId !== NO_INSTANCE) process.gpuInstanceId = info.gpuInstanceId;
    if (info.computeInstanceId !== undefined && info.computeInstanceId !== NO_INSTANCE) {
      process.computeInstanceId = info.computeInstanceId;
    }
    return process;
  });
}
