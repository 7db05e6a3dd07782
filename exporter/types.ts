/**
 * The exporter's data model: what every GPU backend returns, in base units.
 *
 * A field that the device or tool reports as N/A, [N/A] or [Not Supported] is left
 * `undefined` (absent), never 0: an absent series and a zero series mean different things
 * to an alert rule.
 */
import type { ClockEventReason } from '../src/catalog/clock-event-reasons.js';

/** Per-process GPU use as the driver sees it (nvidia-smi `<processes>` or NVML compute processes). */
export interface GpuProcess {
  pid: number;
  /** Process name as reported by the driver, when given. */
  name?: string;
  /** GPU memory held by the process, bytes. */
  usedMemoryBytes?: number;
  /** MIG: the GPU instance and compute instance the process runs in (absent outside MIG mode). */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

/** PCIe link generation and width (lanes), as trained now and at most. */
export interface PcieLink {
  generationCurrent?: number;
  generationMax?: number;
  widthCurrent?: number;
  widthMax?: number;
}

/** NVLink error kinds, as NVML's nvmlNvLinkErrorCounter_t names them. */
export const NVLINK_ERROR_TYPES = ['replay', 'recovery', 'crc_flit', 'crc_data'] as const;
export type NvLinkErrorType = (typeof NVLINK_ERROR_TYPES)[number];

/** One active NVLink of a GPU: lifetime error counts and data bytes moved. */
export interface NvLinkReading {
  link: number;
  errors?: Partial<Record<NvLinkErrorType, number>>;
  transmitBytes?: number;
  receiveBytes?: number;
}

export interface EccCounts {
  correctedVolatile?: number;
  correctedAggregate?: number;
  uncorrectedVolatile?: number;
  uncorrectedAggregate?: number;
}

export interface RemappedRows {
  /** Rows remapped because of correctable errors. */
  correctable?: number;
  /** Rows remapped because of uncorrectable errors. */
  uncorrectable?: number;
  /** A remap is pending (takes effect at the next GPU reset). */
  pending?: boolean;
  /** A remap failed (the GPU should be drained and serviced). */
  failure?: boolean;
}

export interface RetiredPages {
  /** Pages retired for multiple single-bit ECC errors. */
  singleBit?: number;
  /** Pages retired for a double-bit ECC error. */
  doubleBit?: number;
  pending?: boolean;
}

/** One MIG device (a compute instance inside a GPU instance) of a GPU in MIG mode. */
export interface MigDevice {
  /** Its slot among the GPU's MIG devices (NVML's MIG device index, nvidia-smi's `<index>`). */
  index: number;
  gpuInstanceId: number;
  computeInstanceId: number;
  /** `MIG-…`, where the source gives it. */
  uuid?: string;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
}

/** One MIG GPU instance's utilization over the last collection interval (NVML GPM, between two samples). */
export interface MigInstanceUtilization {
  gpuInstanceId: number;
  /** Share of the interval the instance's graphics/compute engine was busy (GPM GRAPHICS_UTIL). */
  utilizationRatio?: number;
  /** Average share of the instance's SMs that were busy (GPM SM_UTIL). */
  smUtilizationRatio?: number;
}

/**
 * Whether the driver can read the GPU: `ok`, or the state that keeps it from answering (NVML's
 * RESET_REQUIRED, NOT_READY and UNKNOWN answers). A GPU in any state but `ok` carries its identity
 * only, no readings.
 */
export const GPU_STATES = ['ok', 'reset_required', 'not_ready', 'unknown_error'] as const;
export type GpuState = (typeof GPU_STATES)[number];

/**
 * One GPU as read at one moment. Only `index` and `uuid` are required.
 * Ratios are 0..1, memory in bytes, clocks in hertz, power in watts, energy in joules.
 */
export interface GpuReading {
  index: number;
  uuid: string;
  name?: string;
  busId?: string;
  driverVersion?: string;
  /** Set when the source can tell; a GPU read normally is `ok`. */
  state?: GpuState;
  utilizationRatio?: number;
  memoryUtilizationRatio?: number;
  memoryTotalBytes?: number;
  memoryUsedBytes?: number;
  memoryFreeBytes?: number;
  /** Framebuffer memory the driver and firmware keep for themselves. */
  memoryReservedBytes?: number;
  encoderUtilizationRatio?: number;
  decoderUtilizationRatio?: number;
  /** Fan speed as a share of its maximum; absent on passively cooled boards. */
  fanSpeedRatio?: number;
  pcieLink?: PcieLink;
  temperatureCelsius?: number;
  memoryTemperatureCelsius?: number;
  powerUsageWatts?: number;
  /** The power limit in force (enforced). */
  powerLimitWatts?: number;
  powerDefaultLimitWatts?: number;
  powerMinLimitWatts?: number;
  powerMaxLimitWatts?: number;
  /** Energy consumed since the driver was loaded. */
  energyJoules?: number;
  smClockHertz?: number;
  memoryClockHertz?: number;
  /** Performance state number (P0 = 0 … P15 = 15). */
  performanceState?: number;
  /**
   * Clock-event (throttle) reasons, one entry per reason the source knows about, true when active.
   * Keys are snake_case reason names shared by all backends, see CLOCK_EVENT_REASONS.
   */
  clockEventReasons?: Partial<Record<ClockEventReason, boolean>>;
  ecc?: EccCounts;
  remappedRows?: RemappedRows;
  retiredPages?: RetiredPages;
  pcieReplays?: number;
  /** Active NVLinks; absent where the GPU has none or the source does not tell. */
  nvlinks?: NvLinkReading[];
  /** Compute, graphics and MPS processes on this GPU. `undefined` when the source does not list processes. */
  processes?: GpuProcess[];
  /** MIG mode is on (true) or off (false); absent where the GPU or source cannot tell. */
  migMode?: boolean;
  /** In MIG mode: its MIG devices. The whole GPU's utilization is then absent: the driver gives none. */
  migDevices?: MigDevice[];
  /** In MIG mode, where NVML GPM works: per GPU instance, utilization since the previous collection. */
  migInstanceUtilization?: MigInstanceUtilization[];
}

/** The reason names and NVML's bits for them live in the shared catalog (policies name them too). */
export { CLOCK_EVENT_REASON_BITS, CLOCK_EVENT_REASONS, type ClockEventReason } from '../src/catalog/clock-event-reasons.js';

/** A source-specific failure with a short machine-readable reason (used as a metric label). */
export class SourceError extends Error {
  constructor(
    readonly reason: 'timeout' | 'spawn' | 'exit' | 'parse' | 'unavailable' | 'library' | 'io',
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/** XID events seen since the backend started: counts per (gpu uuid, xid code). */
export type XidCounts = Map<string, Map<number, number>>;

/** Why a GPU the source listed was left out of a reading. */
export const SKIP_REASONS = ['no_uuid', 'duplicate_uuid'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
/** GPUs left out of one reading, by reason. */
export type SkippedGpus = Partial<Record<SkipReason, number>>;

/** What one collection of a GPU backend yields. */
export interface GpuSnapshot {
  gpus: GpuReading[];
  /** GPUs the source listed but that this reading leaves out, by reason. */
  skippedGpus?: SkippedGpus;
  /** Cumulative XID counts per GPU, when the backend can watch events (NVML). */
  xid?: XidCounts;
  /** Unix seconds of the last XID event per GPU and XID code, alongside `xid`. */
  xidLastEventSeconds?: XidCounts;
}

/**
 * A GPU backend. `collect` must resolve or reject within the backend's own time limit:
 * it is never allowed to hang the exporter.
 */
export interface GpuBackend {
  readonly name: 'nvml' | 'nvidia-smi' | 'replay';
  collect(): Promise<GpuSnapshot>;
  close(): Promise<void>;
}
