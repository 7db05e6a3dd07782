/**
 * libnvidia-ml.so.1 through koffi: the NVML functions the exporter calls, each wrapped to return
 * an `NvmlResult` (the function that answered, its nvmlReturn_t, and the value in NVML's own
 * units). Interpreting return codes and converting units is read.ts's job.
 *
 * Only the few functions every NVML exports (signatures.ts, REQUIRED) are bound at load;
 * every other symbol is looked up on first use, and a missing one answers
 * NVML_ERROR_FUNCTION_NOT_FOUND instead of failing the load, so one binary runs on old and new
 * drivers alike.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { NVML_FI_DEV_MEMORY_TEMP, NVML_STRING_BUFFER_SIZE, NVML_TEMPERATURE_GPU, NvmlReturn, nvmlStructVersion } from './constants.js';
import { cString, decodeFieldValue, toMemoryInfo, toNumber, type MemoryInfo } from './decode.js';
import { MemoryV2Type, TemperatureV1Type } from './ffi-types.js';
import { REQUIRED, SIGNATURES, type NvmlFunctionName } from './signatures.js';

export const DEFAULT_NVML_LIBRARY = 'libnvidia-ml.so.1';

export type { ComputeProcess, MemoryInfo } from './decode.js';
export type { NvmlFunctionName } from './signatures.js';

/** nvmlDevice_t / nvmlEventSet_t as koffi hands them over: the pointer's address. */
export type DeviceHandle = bigint;
export type EventSetHandle = bigint;

/** What one NVML call answered. `value` is set only when `rc` is NVML_SUCCESS. */
export interface NvmlResult<T> {
  /** The C function that gave this answer (after any fallback). */
  readonly fn: string;
  readonly rc: number;
  readonly value?: T;
}

export interface RemappedRowsInfo {
  correctable: number;
  uncorrectable: number;
  pending: boolean;
  failure: boolean;
}

type KoffiFunction = ReturnType<LibraryHandle['func']>;
/** Return codes after which an older equivalent function is worth trying. */
export const FALLBACK_CODES: ReadonlySet<number> = new Set([NvmlReturn.FUNCTION_NOT_FOUND, NvmlReturn.ARGUMENT_VERSION_MISMATCH]);

export class NvmlLibrary {
  private readonly functions = new Map<NvmlFunctionName, KoffiFunction | null>();

  private constructor(
    readonly path: string,
    private readonly lib: LibraryHandle,
  ) {}

  /** Loads the library and binds the required functions; throws when either fails. */
  static load(path: string = DEFAULT_NVML_LIBRARY): NvmlLibrary {
    const nvml = new NvmlLibrary(path, koffi.load(path));
    for (const name of REQUIRED) {
      if (!nvml.has(name)) throw new Error(`${path} does not export ${name}`);
    }
    return nvml;
  }

  /** Whether the loaded library exports `name`. */
  has(name: NvmlFunctionName): boolean {
    return this.resolve(name) !== null;
  }

  init(): number {
    return this.call('nvmlInit_v2');
  }

  shutdown(): number {
    return this.call('nvmlShutdown');
  }

  errorString(rc: number): string {
    const text: unknown = this.required('nvmlErrorString')(rc);
    return typeof text === 'string' ? text : `NVML error ${rc}`;
  }

  driverVersion(): NvmlResult<string> {
    return this.text('nvmlSystemGetDriverVersion', []);
  }

  processName(pid: number): NvmlResult<string> {
    return this.text('nvmlSystemGetProcessName', [pid]);
  }

  deviceCount(): NvmlResult<number> {
    return this.out('nvmlDeviceGetCount_v2', [], (count: number[]) => count[0]);
  }

  handleByIndex(index: number): NvmlResult<DeviceHandle> {
    return this.out('nvmlDeviceGetHandleByIndex_v2', [index], (handle: bigint[]) => handle[0]);
  }

  name(handle: DeviceHandle): NvmlResult<string> {
    return this.text('nvmlDeviceGetName', [handle]);
  }

  uuid(handle: DeviceHandle): NvmlResult<string> {
    return this.text('nvmlDeviceGetUUID', [handle]);
  }

  busId(handle: DeviceHandle): NvmlResult<string> {
    const pci: { busId?: string } = {};
    return this.result('nvmlDeviceGetPciInfo_v3', [handle, pci], () => pci.busId);
  }

  /** Percent of the last sample period the GPU (and its memory controller) was busy. */
  utilization(handle: DeviceHandle): NvmlResult<{ gpu: number; memory: number }> {
    const rates = { gpu: 0, memory: 0 };
    return this.result('nvmlDeviceGetUtilizationRates', [handle, rates], () => rates);
  }

  /** Memory in bytes: the v2 call where the driver has it, where `used` leaves out reserved memory. */
  memory(handle: DeviceHandle): NvmlResult<MemoryInfo> {
    return this.withFallback(
      () => {
        const info = { version: nvmlStructVersion(MemoryV2Type.size, 2), total: 0, reserved: 0, free: 0, used: 0 };
        return this.result('nvmlDeviceGetMemoryInfo_v2', [handle, info], () => toMemoryInfo(info));
      },
      () => {
        const info = { total: 0, free: 0, used: 0 };
        return this.result('nvmlDeviceGetMemoryInfo', [handle, info], () => toMemoryInfo(info));
      },
    );
  }

  /** GPU die temperature, °C: nvmlDeviceGetTemperatureV, else the deprecated nvmlDeviceGetTemperature. */
  temperature(handle: DeviceHandle): NvmlResult<number> {
    return this.withFallback(
      () => {
        const reading = {
          version: nvmlStructVersion(TemperatureV1Type.size, 1),
          sensorType: NVML_TEMPERATURE_GPU,
          temperature: 0,
        };
        return this.result('nvmlDeviceGetTemperatureV', [handle, reading], () => reading.temperature);
      },
      () => this.out('nvmlDeviceGetTemperature', [handle, NVML_TEMPERATURE_GPU], (t: number[]) => t[0]),
    );
  }

  /** Memory temperature, °C, through the field-values API (there is no sensor enum for it). */
  memoryTemperature(handle: DeviceHandle): NvmlResult<number> {
    const field = {
      fieldId: NVML_FI_DEV_MEMORY_TEMP,
      scopeId: 0,
      timestamp: 0,
      latencyUsec: 0,
      valueType: 0,
      nvmlReturn: 0,
      value: new Uint8Array(8),
    };
    const fn = 'nvmlDeviceGetFieldValues';
    const call = this.result(fn, [handle, 1, field], () => field);
    if (call.rc !== NvmlReturn.SUCCESS) return { fn, rc: call.rc };
    if (field.nvmlReturn !== NvmlReturn.SUCCESS) return { fn, rc: field.nvmlReturn };
    const value = decodeFieldValue(field.valueType, field.value);
    return value === undefined ? { fn, rc: NvmlReturn.NOT_SUPPORTED } : { fn, rc: NvmlReturn.SUCCESS, value };
  }

  /** Board power draw, milliwatts. */
  powerUsage(handle: DeviceHandle): NvmlResult<number> {
    return this.out('nvmlDeviceGetPowerUsage', [handle], (mw: number[]) => mw[0]);
  }

  /** The power limit in force, milliwatts. */
  enforcedPowerLimit(handle: DeviceHandle): NvmlResult<number> {
    return this.out('nvmlDeviceGetEnforcedPowerLimit', [handle], (mw: number[]) => mw[0]);
  }

  /** Energy since the driver was loaded, millijoules. */
  totalEnergy(handle: DeviceHandle): NvmlResult<number> {
    return this.out('nvmlDeviceGetTotalEnergyConsumption', [handle], (mj: unknown[]) => toNumber(mj[0]));
  }

  /** Current clock of one domain (nvmlClockType_t), MHz. */
  clock(handle: DeviceHandle, type: number): NvmlResult<number> {
    return this.out('nvmlDeviceGetClockInfo', [handle, type], (mhz: number[]) => mhz[0]);
  }

  performanceState(handle: DeviceHandle): NvmlResult<number> {
    return this.out('nvmlDeviceGetPerformanceState', [handle], (p: number[]) => p[0]);
  }

  /** Clock event reason bit mask: the NVML 12.2+ name first, else the deprecated "throttle" one. */
  clocksEventReasons(handle: DeviceHandle): NvmlResult<number> {
    const read = (fn: NvmlFunctionName) => () => this.out(fn, [handle], (mask: unknown[]) => toNumber(mask[0]));
    return this.withFallback(read('nvmlDeviceGetCurrentClocksEventReasons'), read('nvmlDeviceGetCurrentClocksThrottleReasons'));
  }

  eccErrors(handle: DeviceHandle, errorType: number, counterType: number): NvmlResult<number> {
    return this.out('nvmlDeviceGetTotalEccErrors', [handle, errorType, counterType], (n: unknown[]) => toNumber(n[0]));
  }

  remappedRows(handle: DeviceHandle): NvmlResult<RemappedRowsInfo> {
    const [correctable, uncorrectable, pending, failure] = [[0], [0], [0], [0]] as const;
    return this.result('nvmlDeviceGetRemappedRows', [handle, correctable, uncorrectable, pending, failure], () => ({
      correctable: correctable[0],
      uncorrectable: uncorrectable[0],
      pending: pending[0] !== 0,
      failure: failure[0] !== 0,
    }));
  }

  /** Number of pages retired for a cause; asks for the count only (no address buffer). */
  retiredPageCount(handle: DeviceHandle, cause: number): NvmlResult<number> {
    const fn = 'nvmlDeviceGetRetiredPages';
    const count = [0];
    const result = this.result(fn, [handle, cause, count, null], () => count[0]);
    // With no buffer, "buffer too small" still reports the count we asked for.
    return result.rc === NvmlReturn.INSUFFICIENT_SIZE ? { fn, rc: NvmlReturn.SUCCESS, value: count[0] } : result;
  }

  retiredPagesPending(handle: DeviceHandle): NvmlResult<boolean> {
    return this.out('nvmlDeviceGetRetiredPagesPendingStatus', [handle], (p: number[]) => p[0] !== 0);
  }

  pcieReplayCounter(handle: DeviceHandle): NvmlResult<number> {
    return this.out('nvmlDeviceGetPcieReplayCounter', [handle], (n: number[]) => n[0]);
  }

  /** The bound function, or null where this driver's library does not export it (looked up once). */
  resolve(name: NvmlFunctionName): KoffiFunction | null {
    let fn = this.functions.get(name);
    if (fn === undefined) {
      const [result, parameters] = SIGNATURES[name];
      try {
        fn = this.lib.func(name, result, [...parameters]);
      } catch {
        fn = null; // not exported by this driver's library
      }
      this.functions.set(name, fn);
    }
    return fn;
  }

  private required(name: NvmlFunctionName): KoffiFunction {
    const fn = this.resolve(name);
    if (!fn) throw new Error(`${this.path} does not export ${name}`);
    return fn;
  }

  private call(name: NvmlFunctionName, ...args: unknown[]): number {
    return this.required(name)(...args) as number;
  }

  /**
   * Calls `name` with `args`; on success the value comes from `read` (which sees the outputs).
   * Public for the calls kept in calls-more.ts.
   */
  result<T>(name: NvmlFunctionName, args: unknown[], read: () => T | undefined): NvmlResult<T> {
    const fn = this.resolve(name);
    if (!fn) return { fn: name, rc: NvmlReturn.FUNCTION_NOT_FOUND };
    const rc = fn(...args) as number;
    return rc === NvmlReturn.SUCCESS ? { fn: name, rc, value: read() } : { fn: name, rc };
  }

  /** For functions whose last parameter is one output value. */
  out<T, O>(name: NvmlFunctionName, args: unknown[], read: (output: O[]) => T | undefined): NvmlResult<T> {
    const output: O[] = [null as O];
    return this.result(name, [...args, output], () => read(output));
  }

  /** For functions that fill a caller's char buffer: `args` come before the (buffer, length) pair. */
  private text(name: NvmlFunctionName, args: unknown[]): NvmlResult<string> {
    const buffer = Buffer.alloc(NVML_STRING_BUFFER_SIZE);
    return this.result(name, [...args, buffer, buffer.length], () => cString(buffer));
  }

  private withFallback<T>(preferred: () => NvmlResult<T>, older: () => NvmlResult<T>): NvmlResult<T> {
    const first = preferred();
    return FALLBACK_CODES.has(first.rc) ? older() : first;
  }
}
