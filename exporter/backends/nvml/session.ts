/**
 * One initialized NVML: the loaded library, the enumerated GPUs and the XID watch, read with
 * synchronous FFI calls. It runs inside the backend's worker thread (worker.ts), so a driver that
 * hangs in one of these calls stalls that thread only, never the exporter's event loop.
 */
import { SourceError, type GpuReading, type GpuSnapshot } from '../../types.js';
import { DEFAULT_NVML_LIBRARY, NvmlLibrary, type DeviceHandle } from './bindings.js';
import { NvmlReturn } from './constants.js';
import { readGpu, type NvmlErrorHandler } from './read.js';
import { GpmSampler } from './read-gpm.js';
import { XidWatcher } from './xid-watch.js';

export interface NvmlSessionOptions {
  /** Path or soname of the NVML library; default `libnvidia-ml.so.1` (found through the loader path). */
  libraryPath?: string;
  /** Told about failures that do not fail a whole collection (one field, one lost GPU, event waits). */
  onError?: NvmlErrorHandler;
  /** Watch XID events (default true). */
  watchXid?: boolean;
  /** Longest single event wait, in ms (default 1000); `close` takes at most about this long. */
  xidWaitTimeoutMs?: number;
}

/** One enumerated GPU: a handle, or the answer that kept us from getting one. */
interface DeviceSlot {
  index: number;
  handle?: DeviceHandle;
  rc: number;
}

export class NvmlSession {
  private devices: DeviceSlot[] = [];
  private watcher: XidWatcher | undefined;
  private readonly gpm: GpmSampler;
  private closed = false;

  private constructor(
    private readonly nvml: NvmlLibrary,
    private readonly driverVersion: string | undefined,
    private readonly options: NvmlSessionOptions,
  ) {
    this.gpm = new GpmSampler(nvml);
  }

  /**
   * Loads NVML, initializes it and finds the GPUs. Throws SourceError('library') when the library
   * cannot be loaded or initialized, so a caller can fall back to nvidia-smi.
   */
  static open(options: NvmlSessionOptions = {}): NvmlSession {
    const path = options.libraryPath ?? DEFAULT_NVML_LIBRARY;
    let nvml: NvmlLibrary;
    try {
      nvml = NvmlLibrary.load(path);
    } catch (error) {
      throw new SourceError('library', `cannot load NVML library ${path}: ${errorText(error)}`);
    }
    const rc = nvml.init();
    if (rc !== NvmlReturn.SUCCESS) {
      throw new SourceError('library', `nvmlInit_v2 failed for ${path}: ${nvml.errorString(rc)} (${rc})`);
    }
    const session = new NvmlSession(nvml, nvml.driverVersion().value, options);
    try {
      session.refreshDevices();
      if (options.watchXid ?? true) session.startXidWatch();
    } catch (error) {
      nvml.shutdown();
      throw error;
    }
    return session;
  }

  /** Every GPU now, plus the XID counts so far when events are watched. */
  collect(): GpuSnapshot {
    if (this.closed) throw new SourceError('unavailable', 'the NVML backend is closed');
    const gpus = this.readGpus(this.gpm);
    this.gpm.sweep();
    return this.watcher ? { gpus, xid: this.watcher.snapshot(), xidLastEventSeconds: this.watcher.lastEvents() } : { gpus };
  }

  /**
   * Reads every GPU now. A lost GPU is reported through `onError` and left out; when no GPU can
   * be read at all the first error is thrown. Per-MIG-instance utilization only with `gpm`
   * (collections): a measurement's reads must not move the samples collections compare against.
   */
  readGpus(gpm?: GpmSampler): GpuReading[] {
    this.refreshDevices();
    const readings: GpuReading[] = [];
    const failures: SourceError[] = [];
    for (const slot of this.devices) {
      try {
        if (slot.handle === undefined) throw this.enumerationError(slot);
        const context = { driverVersion: this.driverVersion, onError: this.options.onError, gpm };
        readings.push(readGpu(this.nvml, slot.handle, slot.index, context));
      } catch (error) {
        if (!(error instanceof SourceError)) throw error;
        failures.push(error);
      }
    }
    if (readings.length === 0 && failures[0]) throw failures[0];
    for (const failure of failures) this.options.onError?.(failure.reason, failure.message);
    return readings;
  }

  /** Stops the XID watch (within one wait timeout) and shuts NVML down. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watcher?.stop();
    this.watcher = undefined;
    this.gpm.close();
    this.nvml.shutdown();
  }

  /** Re-enumerates when the GPU count changed or a GPU had no handle last time. */
  private refreshDevices(): void {
    const count = this.nvml.deviceCount();
    if (count.rc !== NvmlReturn.SUCCESS || count.value === undefined) {
      const reason = count.rc === NvmlReturn.GPU_IS_LOST ? 'unavailable' : 'library';
      throw new SourceError(reason, `nvmlDeviceGetCount_v2 failed: ${this.nvml.errorString(count.rc)} (${count.rc})`);
    }
    if (count.value !== this.devices.length || this.devices.some((slot) => slot.handle === undefined)) {
      this.enumerate(count.value);
    }
  }

  private enumerate(count: number): void {
    this.devices = Array.from({ length: count }, (_, index) => {
      const handle = this.nvml.handleByIndex(index);
      return { index, handle: handle.value, rc: handle.rc };
    });
    this.watcher?.watch(this.watchable());
  }

  private startXidWatch(): void {
    this.watcher = XidWatcher.start(this.nvml, this.watchable(), {
      waitTimeoutMs: this.options.xidWaitTimeoutMs,
      onError: this.options.onError,
    });
  }

  /** GPUs with a handle and a UUID: the ones XID events can be attributed to. */
  private watchable(): { handle: DeviceHandle; uuid: string }[] {
    return this.devices.flatMap((slot) => {
      const uuid = slot.handle === undefined ? undefined : this.nvml.uuid(slot.handle).value;
      return slot.handle !== undefined && uuid !== undefined ? [{ handle: slot.handle, uuid }] : [];
    });
  }

  private enumerationError(slot: DeviceSlot): SourceError {
    const reason = slot.rc === NvmlReturn.GPU_IS_LOST ? 'unavailable' : 'library';
    const text = `${this.nvml.errorString(slot.rc)} (${slot.rc})`;
    return new SourceError(reason, `GPU ${slot.index}: nvmlDeviceGetHandleByIndex_v2 failed: ${text}`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
