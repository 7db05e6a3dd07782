/**
 * The main thread's side of the NVML worker: starts it, sends one request at a time and gives up
 * waiting after a deadline. A worker stuck inside a native NVML call cannot be interrupted, so a
 * late request keeps the worker marked busy (later requests fail at once instead of queueing
 * behind it) until NVML returns, and closing terminates a worker that does not stop in time.
 */
import { Worker } from 'node:worker_threads';
import { settlesWithin } from '../../../src/storage/timeout.js';
import { workerEntry } from '../../../src/worker-entry.js';
import { SourceError } from '../../types.js';
import { fromFailure, type FromWorker, type ToWorker, type WorkerSettings } from './protocol.js';
import type { NvmlErrorHandler } from './read.js';

export interface NvmlWorkerOptions {
  onError?: NvmlErrorHandler;
  /** How long loading, initializing and enumerating may take before opening fails. */
  openTimeoutMs: number;
  /** How long a closing worker may take to stop on its own before it is terminated. */
  closeGraceMs: number;
}

/** A request as the caller gives it; the id is added here. */
type WorkerRequest = Exclude<ToWorker, { type: 'close' }>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Waiter {
  resolve(value: unknown): void;
  reject(error: SourceError): void;
  timer: NodeJS.Timeout;
}

/** The request id of the opening handshake (`ready` or `open-failed`). */
const OPEN_ID = 0;

export class NvmlWorker {
  private nextId = OPEN_ID + 1;
  /** The request the worker has not answered yet; its waiter is gone once the caller gave up. */
  private inFlight: { id: number; waiter?: Waiter } | undefined;
  /** Set once the worker is closed or died: every later request fails with it. */
  private failure: SourceError | undefined;
  private ready = false;
  private hasExited = false;
  private closing: Promise<void> | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly options: NvmlWorkerOptions,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: FromWorker) => this.receive(message));
    worker.on('error', (error) => this.fail(this.deathError(`failed: ${error.message}`)));
    worker.on('exit', (code) => {
      this.hasExited = true;
      this.fail(this.deathError(`exited with code ${code}`));
      this.inFlight = undefined;
    });
  }

  /** Starts the worker and waits until it has opened NVML; throws what opening failed with. */
  static async start(settings: WorkerSettings, options: NvmlWorkerOptions): Promise<NvmlWorker> {
    let worker: Worker;
    try {
      worker = new Worker(workerEntry(import.meta.url, 'worker'), { workerData: settings });
    } catch (error) {
      throw new SourceError('library', `cannot start the NVML worker thread: ${(error as Error).message}`);
    }
    const client = new NvmlWorker(worker, options);
    try {
      await client.await(OPEN_ID, options.openTimeoutMs, 'NVML did not finish opening');
    } catch (error) {
      const stuck = error instanceof SourceError && error.reason === 'timeout';
      await client.stop(stuck ? 0 : options.closeGraceMs);
      throw error;
    }
    client.ready = true;
    return client;
  }

  /**
   * Sends one request and resolves with the worker's answer. Rejects with SourceError('timeout')
   * after `timeoutMs`, and at once while an earlier request is still unanswered.
   */
  request(body: WithoutId<WorkerRequest>, timeoutMs: number): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlight) return Promise.reject(new SourceError('timeout', 'previous NVML read still running'));
    const message = { ...body, id: this.nextId++ } as WorkerRequest;
    const answer = this.await(message.id, timeoutMs, 'NVML did not answer');
    this.worker.postMessage(message);
    return answer;
  }

  /**
   * True while the thread is still inside a request nobody waits for any more (one that timed
   * out, or was cut short by close): NVML is stuck in a native call.
   */
  get stuck(): boolean {
    return !this.hasExited && this.inFlight !== undefined && this.inFlight.waiter === undefined;
  }

  /** Asks the worker to shut NVML down; terminates it when it has not exited after the grace time. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const running = !this.failure;
      this.fail(new SourceError('unavailable', 'the NVML backend is closed'));
      if (running) this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      await this.stop(this.options.closeGraceMs);
    })();
    return this.closing;
  }

  private await(id: number, timeoutMs: number, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The worker stays busy with this request until it answers; only the caller stops waiting.
        if (this.inFlight?.id === id) this.inFlight.waiter = undefined;
        reject(new SourceError('timeout', `${what} within ${timeoutMs} ms (stuck in a library call)`));
      }, timeoutMs);
      this.inFlight = { id, waiter: { resolve, reject, timer } };
    });
  }

  private receive(message: FromWorker): void {
    switch (message.type) {
      case 'error':
        this.options.onError?.(message.reason, message.message);
        return;
      case 'ready':
        return this.settle(OPEN_ID, (waiter) => waiter.resolve(undefined));
      case 'open-failed':
        return this.settle(OPEN_ID, (waiter) => waiter.reject(fromFailure(message.failure)));
      case 'reply':
        return this.settle(message.id, (waiter) => (message.ok ? waiter.resolve(message.value) : waiter.reject(fromFailure(message.failure))));
    }
  }

  /** Ends the in-flight request `id`, handing its answer to the caller if it is still waiting. */
  private settle(id: number, answer: (waiter: Waiter) => void): void {
    if (this.inFlight?.id !== id) return;
    const { waiter } = this.inFlight;
    this.inFlight = undefined;
    if (!waiter) return;
    clearTimeout(waiter.timer);
    answer(waiter);
  }

  /** From now on every request fails with `error`; a caller still waiting gets it at once. */
  private fail(error: SourceError): void {
    this.failure ??= error;
    const inFlight = this.inFlight;
    const waiter = inFlight?.waiter;
    if (!inFlight || !waiter) return;
    inFlight.waiter = undefined; // the request itself runs on until the worker answers or exits
    clearTimeout(waiter.timer);
    waiter.reject(this.failure);
  }

  private deathError(what: string): SourceError {
    // Before it is ready, a dead worker means NVML cannot be used here: a caller falls back.
    return new SourceError(this.ready ? 'unavailable' : 'library', `the NVML worker thread ${what}`);
  }

  /** Waits up to `graceMs` for the thread to exit, then terminates it without waiting further. */
  private async stop(graceMs: number): Promise<void> {
    if (await settlesWithin(this.exited, graceMs)) return;
    // A thread inside a native call only ends when the call returns. Unreferenced, it no longer
    // keeps the event loop alive (though process exit still joins it: see NvmlBackend.stuck).
    this.worker.terminate().catch(() => undefined);
    this.worker.unref();
  }
}
