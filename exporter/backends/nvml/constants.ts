/**
 * Numbers from NVIDIA's nvml.h that the NVML backend needs: return codes, enum values, bit masks
 * and versioned-struct tags. Kept in one place so each can be checked against the header.
 */

/** nvmlReturn_t values the backend tells apart. */
export const NvmlReturn = {
  SUCCESS: 0,
  UNINITIALIZED: 1,
  INVALID_ARGUMENT: 2,
  NOT_SUPPORTED: 3,
  NO_PERMISSION: 4,
  NOT_FOUND: 6,
  INSUFFICIENT_SIZE: 7,
  DRIVER_NOT_LOADED: 9,
  TIMEOUT: 10,
  LIBRARY_NOT_FOUND: 12,
  FUNCTION_NOT_FOUND: 13,
  GPU_IS_LOST: 15,
  RESET_REQUIRED: 16,
  ARGUMENT_VERSION_MISMATCH: 25,
  NOT_READY: 27,
  UNKNOWN: 999,
} as const;

/** nvmlTemperatureSensors_t */
export const NVML_TEMPERATURE_GPU = 0;

/** nvmlClockType_t */
export const NvmlClock = { GRAPHICS: 0, SM: 1, MEM: 2, VIDEO: 3 } as const;

/** nvmlMemoryErrorType_t */
export const NvmlMemoryError = { CORRECTED: 0, UNCORRECTED: 1 } as const;

/** nvmlEccCounterType_t: volatile counts reset with the driver, aggregate ones persist. */
export const NvmlEccCounter = { VOLATILE: 0, AGGREGATE: 1 } as const;

/** nvmlPageRetirementCause_t */
export const NvmlPageRetirementCause = { MULTIPLE_SINGLE_BIT_ECC_ERRORS: 0, DOUBLE_BIT_ECC_ERROR: 1 } as const;

/** nvmlPstates_t: P0..P15, and this value when the driver does not know. */
export const NVML_PSTATE_UNKNOWN = 32;

/** nvmlFieldId for nvmlDeviceGetFieldValues: memory (HBM) temperature, °C. */
export const NVML_FI_DEV_MEMORY_TEMP = 82;

/** nvmlValueType_t, the type tag of a field value's union. */
export const NvmlValueType = {
  DOUBLE: 0,
  UNSIGNED_INT: 1,
  UNSIGNED_LONG: 2,
  UNSIGNED_LONG_LONG: 3,
  SIGNED_LONG_LONG: 4,
  SIGNED_INT: 5,
  UNSIGNED_SHORT: 6,
} as const;

/** nvmlEventTypeXidCriticalError: the event mask bit for XID errors. */
export const NVML_EVENT_TYPE_XID_CRITICAL_ERROR = 0x8;

/** NVML_GPM_SUPPORT_VERSION and NVML_GPM_METRICS_GET_VERSION: plain 1, not NVML_STRUCT_VERSION tags. */
export const NVML_GPM_SUPPORT_VERSION = 1;
export const NVML_GPM_METRICS_GET_VERSION = 1;

/** nvmlGpmMetricId_t values read per MIG GPU instance; each answers a percent, 0.0-100.0. */
export const NvmlGpmMetric = { GRAPHICS_UTIL: 1, SM_UTIL: 2 } as const;

/** NVML_VALUE_NOT_AVAILABLE for unsigned long long outputs, e.g. a process's used memory. */
export const NVML_VALUE_NOT_AVAILABLE_U64 = 0xffff_ffff_ffff_ffffn;

/** Output buffers sized as nvml.h's largest *_V2_BUFFER_SIZE constants (name, uuid: 96). */
export const NVML_STRING_BUFFER_SIZE = 96;

/** NVML_STRUCT_VERSION(data, ver): the struct's size with the version in the top byte. */
export function nvmlStructVersion(size: number, version: number): number {
  return (size | (version << 24)) >>> 0;
}
