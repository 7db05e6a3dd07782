/**
 * Counts XID critical-error events per (GPU uuid, XID code).
 *
 * nvmlEventSetWait_v2 blocks until an event arrives or its timeout passes, so it runs on a
 * worker thread through koffi's async call, one short wait after another. The event loop is
 * never blocked, and `stop` returns within one wait timeout.
 */
import type { XidCounts } from '../../types.js';
import type { DeviceHandle, EventSetHandle, NvmlLibrary } from './bindings.js';
import { eventSetCreate, eventSetFree, eventSetWait, registerEvents } from './calls-events.js';
import type { NvmlErrorHandler } from './read.js';
import { NVML_EVENT_TYPE_XID_CRITICAL_ERROR, NvmlReturn } from './constants.js';

export const DEFAULT_XID_WAIT_TIMEOUT_MS = 1000;

export interface WatchedDevice {
  handle: DeviceHandle;
  uuid: string;
}

export interface XidWatchOptions {
  /** How long one wait may block; bounds how long `stop` takes. */
  waitTimeoutMs?: number;
  onError?: NvmlErrorHandler;
}

export class XidWatcher {
  private readonly counts: XidCounts = new Map();
  /** Unix seconds of the last event per (uuid, xid). */
  private readonly lastSeen: XidCounts = new Map();
  private readonly uuidByHandle = new Map<DeviceHandle, string>();
  private readonly waitTimeoutMs: number;
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private wakeFromPause: (() => void) | undefined;

  private constructor(
    private readonly nvml: NvmlLibrary,
    private readonly set: EventSetHandle,
    private readonly options: XidWatchOptions,
  ) {
    this.waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_XID_WAIT_TIMEOUT_MS;
  }

  /**
   * Creates the event set and starts waiting. Returns undefined when this driver or platform
   * cannot deliver events (then the backend reports no XID counts at all, rather than zeros).
   */
  static start(nvml: NvmlLibrary, devices: readonly WatchedDevice[], options: XidWatchOptions = {}): XidWatcher | undefined {
    const created = eventSetCreate(nvml);
    if (created.rc !== NvmlReturn.SUCCESS || created.value === undefined) {
      if (created.rc !== NvmlReturn.NOT_SUPPORTED && created.rc !== NvmlReturn.FUNCTION_NOT_FOUND) {
        options.onError?.('library', failure(nvml, 'nvmlEventSetCreate', created.rc));
      }
      return undefined;
    }
    const watcher = new XidWatcher(nvml, created.value, options);
    watcher.watch(devices);
    if (watcher.uuidByHandle.size === 0) {
      eventSetFree(nvml, created.value);
      return undefined;
    }
    watcher.loop = watcher.run();
    return watcher;
  }

  /** Registers devices not registered yet (after the backend found new GPUs). */
  watch(devices: readonly WatchedDevice[]): void {
    for (const device of devices) {
      if (this.uuidByHandle.has(device.handle)) continue;
      const registered = registerEvents(this.nvml, device.handle, NVML_EVENT_TYPE_XID_CRITICAL_ERROR, this.set);
      if (registered.rc === NvmlReturn.SUCCESS) {
        this.uuidByHandle.set(device.handle, device.uuid);
      } else if (registered.rc !== NvmlReturn.NOT_SUPPORTED) {
        const what = `nvmlDeviceRegisterEvents (${device.uuid})`;
        this.options.onError?.('library', failure(this.nvml, what, registered.rc));
      }
    }
  }

  /** A copy of the counts so far, safe to keep while more events arrive. */
  snapshot(): XidCounts {
    return copy(this.counts);
  }

  /** A copy of the Unix seconds of the last event per GPU and XID code. */
  lastEvents(): XidCounts {
    return copy(this.lastSeen);
  }

  /** Ends the wait loop (within one wait timeout) and frees the event set. */
  async stop(): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    this.wakeFromPause?.();
    await this.loop;
    eventSetFree(this.nvml, this.set);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let result;
      try {
        result = await eventSetWait(this.nvml, this.set, this.waitTimeoutMs);
      } catch (error) {
        this.options.onError?.('library', `nvmlEventSetWait_v2 could not be called: ${String(error)}`);
        await this.pause();
        continue;
      }
      if (result.rc === NvmlReturn.SUCCESS && result.value) {
        if (result.value.eventType & NVML_EVENT_TYPE_XID_CRITICAL_ERROR) {
          this.count(result.value.device, result.value.eventData);
        }
      } else if (result.rc !== NvmlReturn.TIMEOUT) {
        const reason = result.rc === NvmlReturn.GPU_IS_LOST ? 'unavailable' : 'library';
        this.options.onError?.(reason, failure(this.nvml, 'nvmlEventSetWait_v2', result.rc));
        await this.pause(); // a wait that fails at once would otherwise spin
      }
    }
  }

  private count(device: DeviceHandle, xid: number): void {
    const uuid = this.uuidByHandle.get(device) ?? this.nvml.uuid(device).value ?? 'unknown';
    const byXid = this.counts.get(uuid) ?? new Map<number, number>();
    byXid.set(xid, (byXid.get(xid) ?? 0) + 1);
    this.counts.set(uuid, byXid);
    const times = this.lastSeen.get(uuid) ?? new Map<number, number>();
    times.set(xid, Date.now() / 1000);
    this.lastSeen.set(uuid, times);
  }

  /** Sleeps one wait timeout, cut short by `stop`. */
  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeFromPause = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.waitTimeoutMs);
      this.wakeFromPause = done;
    });
  }
}

function copy(byGpu: XidCounts): XidCounts {
  return new Map([...byGpu].map(([uuid, byXid]) => [uuid, new Map(byXid)]));
}

function failure(nvml: NvmlLibrary, what: string, rc: number): string {
  return `${what} failed: ${nvml.errorString(rc)} (${rc})`;
}
