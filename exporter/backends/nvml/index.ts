/**
 * The NVML backend: reads GPUs straight from libnvidia-ml.so.1 through koffi (microseconds per
 * GPU, against 25-150 ms for an nvidia-smi process per scrape) and counts XID events.
 *
 * Every NVML call runs on a worker thread (worker.ts, session.ts); this class only exchanges
 * messages with it, with a deadline on each, so a driver that hangs inside NVML can never freeze
 * the exporter's event loop.
 */
import type { GpuBackend, GpuSnapshot } from '../../types.js';
import { DEFAULT_XID_WAIT_TIMEOUT_MS } from './xid-watch.js';
import { checkRounds } from './measure.js';
import type { NvmlSessionOptions } from './session.js';
import { NvmlWorker } from './worker-client.js';

export { DEFAULT_NVML_LIBRARY } from './bindings.js';
export type { NvmlErrorHandler } from './read.js';

export const DEFAULT_NVML_TIMEOUT_MS = 10_000;
/** nvmlInit_v2 alone can take seconds per GPU on a node without persistence mode. */
export const DEFAULT_NVML_OPEN_TIMEOUT_MS = 60_000;
const MIN_CLOSE_GRACE_MS = 2_000;

export interface NvmlBackendOptions extends NvmlSessionOptions {
  /** Longest wait for one collection (or measurement) before it fails with reason `timeout` (default 10 s). */
  timeoutMs?: number;
  /** Longest wait for loading, initializing and enumerating at open (default 60 s). */
  openTimeoutMs?: number;
}

export class NvmlBackend implements GpuBackend {
  readonly name = 'nvml' as const;

  private constructor(
    private readonly worker: NvmlWorker,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Starts the worker thread, which loads NVML, initializes it and finds the GPUs. Throws
   * SourceError('library') when the library cannot be loaded or initialized, so a caller can
   * fall back to nvidia-smi, and SourceError('timeout') when that does not finish in time.
   */
  static async open(options: NvmlBackendOptions = {}): Promise<NvmlBackend> {
    const { onError, timeoutMs, openTimeoutMs, ...settings } = options;
    const xidWaitMs = settings.xidWaitTimeoutMs ?? DEFAULT_XID_WAIT_TIMEOUT_MS;
    const worker = await NvmlWorker.start(settings, {
      onError,
      openTimeoutMs: openTimeoutMs ?? DEFAULT_NVML_OPEN_TIMEOUT_MS,
      // Closing waits for the current event wait to end; a worker slower than that is stuck.
      closeGraceMs: Math.max(MIN_CLOSE_GRACE_MS, xidWaitMs + 500),
    });
    return new NvmlBackend(worker, timeoutMs ?? DEFAULT_NVML_TIMEOUT_MS);
  }

  /**
   * Every GPU, read on the worker thread. Rejects with SourceError('timeout') when the worker does
   * not answer within the timeout, and at once while an earlier read is still stuck in NVML.
   */
  async collect(): Promise<GpuSnapshot> {
    return (await this.worker.request({ type: 'collect' }, this.timeoutMs)) as GpuSnapshot;
  }

  /** The median microseconds of one full GPU read over `rounds` rounds, timed on the worker thread. */
  async measureReadCost(rounds: number): Promise<number> {
    checkRounds(rounds);
    return (await this.worker.request({ type: 'measure', rounds }, this.timeoutMs)) as number;
  }

  /**
   * True while the worker thread is stuck inside an NVML call that timed out. Node joins worker
   * threads when the process exits, so `process.exit` then blocks until that call returns; a
   * shutdown that must not wait has to end the process by other means (a signal).
   */
  get stuck(): boolean {
    return this.worker.stuck;
  }

  /**
   * Stops the XID watch and shuts NVML down (within one event wait). A worker stuck inside NVML
   * is terminated after about 2 s instead. Safe to call twice.
   */
  close(): Promise<void> {
    return this.worker.close();
  }
}

/** Median microseconds of one full GPU read (every field), for comparing with nvidia-smi on a node. */
export function measureReadCost(backend: NvmlBackend, rounds: number): Promise<number> {
  return backend.measureReadCost(rounds);
}
