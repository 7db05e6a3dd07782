/**
 * The C signature of every NVML function the backend calls, as declared in nvml.h, in koffi's
 * terms. Output parameters are marked so koffi copies the C values back into the JS arguments.
 */
import koffi, { type TypeObject } from 'koffi';
import {
  DeviceHandleType,
  EventDataType,
  EventSetHandleType,
  FieldValueType,
  GpmMetricsGetType,
  GpmSampleHandleType,
  GpmSupportType,
  MemoryV1Type,
  MemoryV2Type,
  PciInfoType,
  TemperatureV1Type,
  UtilizationType,
} from './ffi-types.js';

type TypeSpec = string | TypeObject | ReturnType<typeof koffi.out>;

const outUint = koffi.out(koffi.pointer('uint'));
const outInt = koffi.out(koffi.pointer('int'));
const outU64 = koffi.out(koffi.pointer('uint64'));
const outOf = (type: TypeObject) => koffi.out(koffi.pointer(type));
const inoutOf = (type: TypeObject) => koffi.inout(koffi.pointer(type));
const device = DeviceHandleType;

/** The kinds of running-process lists NVML keeps per GPU, as they appear in the function names. */
export const PROCESS_KINDS = ['Compute', 'Graphics', 'MPSCompute'] as const;
export type ProcessKind = (typeof PROCESS_KINDS)[number];
/** Newest first: _v3 (R510+), _v2 (R450-R470), unversioned (older; 16-byte nvmlProcessInfo_v1_t). */
export const PROCESS_CALL_VERSIONS = ['_v3', '_v2', ''] as const;
export type ProcessCallName = `nvmlDeviceGet${ProcessKind}RunningProcesses${(typeof PROCESS_CALL_VERSIONS)[number]}`;

function processCalls(): Record<ProcessCallName, readonly [TypeSpec, readonly TypeSpec[]]> {
  const signature = ['int', [device, koffi.inout(koffi.pointer('uint')), 'void *']] as const;
  const calls = {} as Record<ProcessCallName, readonly [TypeSpec, readonly TypeSpec[]]>;
  for (const kind of PROCESS_KINDS) {
    for (const version of PROCESS_CALL_VERSIONS) calls[`nvmlDeviceGet${kind}RunningProcesses${version}`] = signature;
  }
  return calls;
}

/** Return type and parameters of every function used, as in nvml.h. */
export const SIGNATURES = {
  nvmlInit_v2: ['int', []],
  nvmlShutdown: ['int', []],
  nvmlErrorString: ['const char *', ['int']],
  nvmlSystemGetDriverVersion: ['int', ['void *', 'uint']],
  nvmlSystemGetProcessName: ['int', ['uint', 'void *', 'uint']],
  nvmlDeviceGetCount_v2: ['int', [outUint]],
  nvmlDeviceGetHandleByIndex_v2: ['int', ['uint', koffi.out(koffi.pointer(device))]],
  nvmlDeviceGetName: ['int', [device, 'void *', 'uint']],
  nvmlDeviceGetUUID: ['int', [device, 'void *', 'uint']],
  nvmlDeviceGetPciInfo_v3: ['int', [device, outOf(PciInfoType)]],
  nvmlDeviceGetUtilizationRates: ['int', [device, outOf(UtilizationType)]],
  nvmlDeviceGetMemoryInfo_v2: ['int', [device, inoutOf(MemoryV2Type)]],
  nvmlDeviceGetMemoryInfo: ['int', [device, outOf(MemoryV1Type)]],
  nvmlDeviceGetTemperatureV: ['int', [device, inoutOf(TemperatureV1Type)]],
  nvmlDeviceGetTemperature: ['int', [device, 'int', outUint]],
  nvmlDeviceGetFieldValues: ['int', [device, 'int', inoutOf(FieldValueType)]],
  nvmlDeviceGetPowerUsage: ['int', [device, outUint]],
  nvmlDeviceGetEnforcedPowerLimit: ['int', [device, outUint]],
  nvmlDeviceGetTotalEnergyConsumption: ['int', [device, outU64]],
  nvmlDeviceGetClockInfo: ['int', [device, 'int', outUint]],
  nvmlDeviceGetPerformanceState: ['int', [device, outInt]],
  nvmlDeviceGetCurrentClocksEventReasons: ['int', [device, outU64]],
  nvmlDeviceGetCurrentClocksThrottleReasons: ['int', [device, outU64]],
  nvmlDeviceGetTotalEccErrors: ['int', [device, 'int', 'int', outU64]],
  nvmlDeviceGetRemappedRows: ['int', [device, outUint, outUint, outUint, outUint]],
  nvmlDeviceGetRetiredPages: ['int', [device, 'int', koffi.inout(koffi.pointer('uint')), 'void *']],
  nvmlDeviceGetRetiredPagesPendingStatus: ['int', [device, outInt]],
  nvmlDeviceGetPcieReplayCounter: ['int', [device, outUint]],
  ...processCalls(),
  nvmlDeviceGetMigMode: ['int', [device, outUint, outUint]],
  nvmlDeviceGetMaxMigDeviceCount: ['int', [device, outUint]],
  nvmlDeviceGetMigDeviceHandleByIndex: ['int', [device, 'uint', koffi.out(koffi.pointer(device))]],
  nvmlDeviceGetGpuInstanceId: ['int', [device, outUint]],
  nvmlDeviceGetComputeInstanceId: ['int', [device, outUint]],
  nvmlDeviceGetEncoderUtilization: ['int', [device, outUint, outUint]],
  nvmlDeviceGetDecoderUtilization: ['int', [device, outUint, outUint]],
  nvmlDeviceGetFanSpeed: ['int', [device, outUint]],
  nvmlDeviceGetCurrPcieLinkGeneration: ['int', [device, outUint]],
  nvmlDeviceGetMaxPcieLinkGeneration: ['int', [device, outUint]],
  nvmlDeviceGetCurrPcieLinkWidth: ['int', [device, outUint]],
  nvmlDeviceGetMaxPcieLinkWidth: ['int', [device, outUint]],
  nvmlDeviceGetPowerManagementDefaultLimit: ['int', [device, outUint]],
  nvmlDeviceGetPowerManagementLimitConstraints: ['int', [device, outUint, outUint]],
  nvmlDeviceGetNvLinkState: ['int', [device, 'uint', outInt]],
  nvmlDeviceGetNvLinkErrorCounter: ['int', [device, 'uint', 'int', outU64]],
  nvmlEventSetCreate: ['int', [koffi.out(koffi.pointer(EventSetHandleType))]],
  nvmlDeviceRegisterEvents: ['int', [device, 'uint64', EventSetHandleType]],
  nvmlEventSetWait_v2: ['int', [EventSetHandleType, outOf(EventDataType), 'uint']],
  nvmlEventSetFree: ['int', [EventSetHandleType]],
  nvmlGpmQueryDeviceSupport: ['int', [device, inoutOf(GpmSupportType)]],
  nvmlGpmSampleAlloc: ['int', [koffi.out(koffi.pointer(GpmSampleHandleType))]],
  nvmlGpmSampleFree: ['int', [GpmSampleHandleType]],
  nvmlGpmMigSampleGet: ['int', [device, 'uint', GpmSampleHandleType]],
  nvmlGpmMetricsGet: ['int', [inoutOf(GpmMetricsGetType)]],
} as const satisfies Record<string, readonly [TypeSpec, readonly TypeSpec[]]>;

export type NvmlFunctionName = keyof typeof SIGNATURES;

/** Present in every libnvidia-ml the backend supports; a library without them is not NVML. */
export const REQUIRED: readonly NvmlFunctionName[] = [
  'nvmlInit_v2',
  'nvmlShutdown',
  'nvmlErrorString',
  'nvmlDeviceGetCount_v2',
  'nvmlDeviceGetHandleByIndex_v2',
  'nvmlDeviceGetUUID',
];
