/**
 * One GPU read through NVML, mapped to the shared GpuReading in base units.
 *
 * Each field is one NVML call. A call the device does not support (or that needs privileges we
 * lack, or that this driver's library lacks) leaves its field absent. Any other failure also
 * leaves the field absent and is reported through `onError`, so one broken counter never hides
 * the rest of the GPU. A GPU that has fallen off the bus (GPU_IS_LOST) fails the whole read; one
 * that needs a reset, is not ready or answers UNKNOWN is reported in that state, identity only.
 */
import { compact, withoutUndefined } from '../../../src/defined.js';
import {
  CLOCK_EVENT_REASON_BITS,
  CLOCK_EVENT_REASONS,
  SourceError,
  type ClockEventReason,
  type EccCounts,
  type GpuProcess,
  type GpuReading,
  type GpuState,
  type RetiredPages,
} from '../../types.js';
import type { DeviceHandle, NvmlLibrary, NvmlResult } from './bindings.js';
import { runningProcesses } from './calls-processes.js';
import type { GpmSampler } from './read-gpm.js';
import { readMig } from './read-mig.js';
import { readMore } from './read-more.js';
import { PROCESS_KINDS } from './signatures.js';
import { NVML_PSTATE_UNKNOWN, NvmlClock, NvmlEccCounter, NvmlMemoryError, NvmlPageRetirementCause, NvmlReturn } from './constants.js';

/** Receives failures that do not fail a whole read, as (metric label reason, message). */
export type NvmlErrorHandler = (reason: SourceError['reason'], message: string) => void;

export interface ReadContext {
  /** System-wide, read once when the backend opens. */
  driverVersion?: string;
  /** Told about a field that failed for a reason other than "not supported". */
  onError?: NvmlErrorHandler;
  /** Keeps GPM samples between collections; without it no per-MIG-instance utilization is read. */
  gpm?: GpmSampler;
}

/** Answers that mean "this GPU, driver or user cannot have this value": absent, not an error. */
const ABSENT_CODES: ReadonlySet<number> = new Set([NvmlReturn.NOT_SUPPORTED, NvmlReturn.NO_PERMISSION, NvmlReturn.FUNCTION_NOT_FOUND]);

const MEGA = 1_000_000;

/**
 * Answers after which the GPU gives no readings at all until it is reset or ready again: the GPU
 * is reported in that state with its identity only, rather than with one error per field.
 */
const STATE_CODES: ReadonlyMap<number, GpuState> = new Map([
  [NvmlReturn.RESET_REQUIRED, 'reset_required'],
  [NvmlReturn.NOT_READY, 'not_ready'],
  [NvmlReturn.UNKNOWN, 'unknown_error'],
]);

/** Thrown by a field read whose answer says the whole GPU cannot be read now. */
class GpuNotReadable extends Error {
  constructor(
    readonly state: GpuState,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads every field of one GPU. Throws SourceError('unavailable') when the GPU is lost or cannot
 * even be identified; a GPU that needs a reset (or is not ready) comes back with its identity and
 * `state` only.
 */
export function readGpu(nvml: NvmlLibrary, handle: DeviceHandle, index: number, context: ReadContext = {}): GpuReading {
  const field = <T>(result: NvmlResult<T>, alsoAbsent?: number): T | undefined => fieldValue(nvml, result, index, context, alsoAbsent);
  let identity: GpuReading;
  try {
    identity = readIdentity(nvml, handle, index, context, field);
  } catch (error) {
    if (error instanceof GpuNotReadable) throw new SourceError('unavailable', error.message);
    throw error;
  }
  try {
    const measurements = readMeasurements(nvml, handle, field);
    const instanceIds = measurements.migDevices?.map((device) => device.gpuInstanceId) ?? [];
    const migInstanceUtilization = context.gpm?.read(handle, identity.uuid, instanceIds, field);
    return withoutUndefined<GpuReading>({ ...identity, ...measurements, migInstanceUtilization });
  } catch (error) {
    if (error instanceof GpuNotReadable) return { ...identity, state: error.state };
    throw error;
  }
}

function readIdentity(nvml: NvmlLibrary, handle: DeviceHandle, index: number, context: ReadContext, field: FieldReader): GpuReading {
  const uuid = field(nvml.uuid(handle));
  if (uuid === undefined) {
    throw new SourceError('library', `GPU ${index}: no UUID from NVML, the GPU cannot be identified`);
  }
  return withoutUndefined<GpuReading>({
    index,
    uuid,
    name: field(nvml.name(handle)),
    busId: field(nvml.busId(handle)),
    driverVersion: context.driverVersion,
  });
}

function readMeasurements(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): Partial<GpuReading> {
  const utilization = field(nvml.utilization(handle));
  const memory = field(nvml.memory(handle));
  const powerMilliwatts = field(nvml.powerUsage(handle));
  const powerLimitMilliwatts = field(nvml.enforcedPowerLimit(handle));
  const energyMillijoules = field(nvml.totalEnergy(handle));
  const smClockMhz = field(nvml.clock(handle, NvmlClock.SM));
  const memoryClockMhz = field(nvml.clock(handle, NvmlClock.MEM));
  const performanceState = field(nvml.performanceState(handle));
  const reasons = field(nvml.clocksEventReasons(handle));
  const remapped = field(nvml.remappedRows(handle));
  return {
    utilizationRatio: utilization && utilization.gpu / 100,
    memoryUtilizationRatio: utilization && utilization.memory / 100,
    memoryTotalBytes: memory?.totalBytes,
    memoryUsedBytes: memory?.usedBytes,
    memoryFreeBytes: memory?.freeBytes,
    memoryReservedBytes: memory?.reservedBytes,
    temperatureCelsius: field(nvml.temperature(handle)),
    memoryTemperatureCelsius: field(nvml.memoryTemperature(handle)),
    powerUsageWatts: powerMilliwatts === undefined ? undefined : powerMilliwatts / 1000,
    powerLimitWatts: powerLimitMilliwatts === undefined ? undefined : powerLimitMilliwatts / 1000,
    energyJoules: energyMillijoules === undefined ? undefined : energyMillijoules / 1000,
    smClockHertz: smClockMhz === undefined ? undefined : smClockMhz * MEGA,
    memoryClockHertz: memoryClockMhz === undefined ? undefined : memoryClockMhz * MEGA,
    performanceState: performanceState === NVML_PSTATE_UNKNOWN ? undefined : performanceState,
    clockEventReasons: reasons === undefined ? undefined : clockEventReasonsFromMask(reasons),
    ecc: readEcc(nvml, handle, field),
    remappedRows: remapped && { ...remapped },
    retiredPages: readRetiredPages(nvml, handle, field),
    pcieReplays: field(nvml.pcieReplayCounter(handle)),
    processes: readProcesses(nvml, handle, field),
    ...readMig(nvml, handle, field),
    ...readMore(nvml, handle, field),
  };
}

/** Expands an nvmlClocksEventReason bit mask into one boolean per known reason. */
export function clockEventReasonsFromMask(mask: number): Record<ClockEventReason, boolean> {
  const reasons = {} as Record<ClockEventReason, boolean>;
  for (const reason of CLOCK_EVENT_REASONS) reasons[reason] = (mask & CLOCK_EVENT_REASON_BITS[reason]) !== 0;
  return reasons;
}

export type FieldReader = <T>(result: NvmlResult<T>, alsoAbsent?: number) => T | undefined;

function fieldValue<T>(nvml: NvmlLibrary, result: NvmlResult<T>, index: number, context: ReadContext, alsoAbsent?: number): T | undefined {
  if (result.rc === NvmlReturn.SUCCESS) return result.value;
  if (result.rc === NvmlReturn.GPU_IS_LOST) {
    throw new SourceError('unavailable', `GPU ${index} is lost (${result.fn}: ${nvml.errorString(result.rc)})`);
  }
  const state = STATE_CODES.get(result.rc);
  if (state !== undefined) {
    throw new GpuNotReadable(state, `GPU ${index}: ${result.fn} answered ${nvml.errorString(result.rc)} (${result.rc})`);
  }
  if (!ABSENT_CODES.has(result.rc) && result.rc !== alsoAbsent) {
    const message = `GPU ${index}: ${result.fn} failed: ${nvml.errorString(result.rc)} (${result.rc})`;
    context.onError?.('library', message);
  }
  return undefined;
}

function readEcc(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): EccCounts | undefined {
  const count = (errorType: number, counterType: number) => field(nvml.eccErrors(handle, errorType, counterType));
  return compact<EccCounts>({
    correctedVolatile: count(NvmlMemoryError.CORRECTED, NvmlEccCounter.VOLATILE),
    correctedAggregate: count(NvmlMemoryError.CORRECTED, NvmlEccCounter.AGGREGATE),
    uncorrectedVolatile: count(NvmlMemoryError.UNCORRECTED, NvmlEccCounter.VOLATILE),
    uncorrectedAggregate: count(NvmlMemoryError.UNCORRECTED, NvmlEccCounter.AGGREGATE),
  });
}

/** Page retirement predates row remapping; A100/H100 answer NOT_SUPPORTED here. */
function readRetiredPages(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): RetiredPages | undefined {
  return compact<RetiredPages>({
    singleBit: field(nvml.retiredPageCount(handle, NvmlPageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS)),
    doubleBit: field(nvml.retiredPageCount(handle, NvmlPageRetirementCause.DOUBLE_BIT_ECC_ERROR)),
    pending: field(nvml.retiredPagesPending(handle)),
  });
}

/**
 * Compute, graphics and MPS processes together (nvidia-smi lists all three), each through the
 * newest call this driver has. Undefined only when no list can be read at all.
 */
function readProcesses(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): GpuProcess[] | undefined {
  const lists = PROCESS_KINDS.map((kind) => field(runningProcesses(nvml, handle, kind)));
  if (lists.every((list) => list === undefined)) return undefined;
  const processes = lists.flatMap((list) => list ?? []);
  // A process that exited since the list was taken, or lives in a PID namespace we cannot see,
  // has no name: NOT_FOUND is expected there.
  return processes.map((process) => withoutUndefined<GpuProcess>({ ...process, name: field(nvml.processName(process.pid), NvmlReturn.NOT_FOUND) }));
}
