/**
 * The C types of nvml.h that cross the FFI boundary, declared for koffi.
 *
 * Types are anonymous on purpose: koffi keeps named types in one registry per process, and a
 * second evaluation of this module (a test runner re-importing it) would collide with the names.
 * Layouts are those of nvml.h on 64-bit Linux; the fake library in test/fake-nvml asserts the
 * same sizes at compile time.
 */
import koffi from 'koffi';

/** nvmlDevice_t: an opaque pointer, a bigint on the JS side. */
export const DeviceHandleType = koffi.pointer(koffi.opaque());

/** nvmlEventSet_t: an opaque pointer, a bigint on the JS side. */
export const EventSetHandleType = koffi.pointer(koffi.opaque());

export const UtilizationType = koffi.struct({ gpu: 'uint', memory: 'uint' });

/** nvmlMemory_t (v1): `used` includes memory reserved by the driver and firmware. */
export const MemoryV1Type = koffi.struct({ total: 'uint64', free: 'uint64', used: 'uint64' });

/** nvmlMemory_v2_t: `used` excludes `reserved`, as nvidia-smi shows it. */
export const MemoryV2Type = koffi.struct({
  version: 'uint',
  total: 'uint64',
  reserved: 'uint64',
  free: 'uint64',
  used: 'uint64',
});

/** nvmlTemperature_v1_t, for nvmlDeviceGetTemperatureV. */
export const TemperatureV1Type = koffi.struct({ version: 'uint', sensorType: 'int', temperature: 'int' });

/** nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v3. */
export const PciInfoType = koffi.struct({
  busIdLegacy: koffi.array('char', 16),
  domain: 'uint',
  bus: 'uint',
  device: 'uint',
  pciDeviceId: 'uint',
  pciSubSystemId: 'uint',
  busId: koffi.array('char', 32),
});

/** nvmlFieldValue_t; the nvmlValue_t union is kept as its 8 raw bytes and read per valueType. */
export const FieldValueType = koffi.struct({
  fieldId: 'uint',
  scopeId: 'uint',
  timestamp: 'int64',
  latencyUsec: 'int64',
  valueType: 'int',
  nvmlReturn: 'int',
  value: koffi.array('uint8', 8),
});

/** nvmlProcessInfo_t (the v2 layout that the *RunningProcesses_v3 and _v2 calls fill). */
export const ProcessInfoType = koffi.struct({
  pid: 'uint',
  usedGpuMemory: 'uint64',
  gpuInstanceId: 'uint',
  computeInstanceId: 'uint',
});

/** nvmlProcessInfo_v1_t, filled by the unversioned *RunningProcesses calls of drivers before R450. */
export const ProcessInfoV1Type = koffi.struct({ pid: 'uint', usedGpuMemory: 'uint64' });

/** nvmlGpmSample_t: an opaque pointer to a sample buffer that NVML allocates. */
export const GpmSampleHandleType = koffi.pointer(koffi.opaque());

/** nvmlGpmSupport_t, for nvmlGpmQueryDeviceSupport. */
export const GpmSupportType = koffi.struct({ version: 'uint', isSupportedDevice: 'uint' });

/** nvmlGpmMetric_t; its metricInfo (three name pointers, owned by NVML) is kept as raw pointers. */
export const GpmMetricType = koffi.struct({
  metricId: 'uint',
  nvmlReturn: 'int',
  value: 'double',
  shortName: 'void *',
  longName: 'void *',
  unit: 'void *',
});

/** How many metrics one nvmlGpmMetricsGet asks for (GRAPHICS_UTIL, SM_UTIL). */
export const GPM_METRIC_SLOTS = 2;

/**
 * nvmlGpmMetricsGet_t with room for GPM_METRIC_SLOTS metrics. nvml.h sizes `metrics` with
 * NVML_GPM_METRIC_MAX, which grows between releases (98, 210, 333): NVML reads and writes only the
 * first `numMetrics` entries, or every caller built against an older header would break.
 */
export const GpmMetricsGetType = koffi.struct({
  version: 'uint',
  numMetrics: 'uint',
  sample1: GpmSampleHandleType,
  sample2: GpmSampleHandleType,
  metrics: koffi.array(GpmMetricType, GPM_METRIC_SLOTS),
});

/** nvmlEventData_t as filled by nvmlEventSetWait_v2. */
export const EventDataType = koffi.struct({
  device: DeviceHandleType,
  eventType: 'uint64',
  eventData: 'uint64',
  gpuInstanceId: 'uint',
  computeInstanceId: 'uint',
});
