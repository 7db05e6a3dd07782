/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1,000 WAL pages: that one commit copies the pages back and syncs the database file, and
 * with better-sqlite3 (synchronous) the whole event loop waits for it — the router's webhook p99 went
 * from 13 to 25 ms at 1,000 alerts/s because of it. So the main connection turns the automatic
 * checkpoint off, and this checker looks at the WAL file every second: once it has grown past
 * `walBytes` and changed since the last checkpoint, a worker thread with its own connection runs a
 * PASSIVE checkpoint, which neither waits for nor blocks the writer. The worker starts only when a
 * checkpoint is first needed. Should it fail, the main connection gets its automatic checkpoint back.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../worker-entry.js';

export interface CheckpointWorkerData {
  file: string;
  busyTimeoutMs: number;
}

export type CheckpointReply = { ok: true; busy: boolean; walFrames: number; checkpointedFrames: number } | { ok: false; error: string };

export interface WalCheckpointerOptions {
  /** How often the WAL file is looked at. */
  intervalMs?: number;
  /** The WAL size from which it is checkpointed (SQLite's own default: 1,000 pages of 4 KiB). */
  walBytes?: number;
  busyTimeoutMs?: number;
  /** The checkpointer has stopped for good: the caller turns SQLite's automatic checkpoint back on. */
  onFallback(reason: string): void;
  onCheckpoint?(reply: Extract<CheckpointReply, { ok: true }>): void;
  /** The WAL file was looked at (whether or not that started a checkpoint). */
  onLook?(): void;
}

export class WalCheckpointer {
  private worker: Worker | undefined;
  private inFlight = false;
  private stopped = false;
  private checkpointedAt = -1;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.timer = setInterval(() => void this.tick(), options.intervalMs ?? 1_000);
    this.timer.unref();
  }

  /** Stops the checks and the worker (its connection closes with it). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private async tick(): Promise<void> {
    if (this.inFlight || this.stopped) return;
    const wal = await stat(`${this.file}-wal`).catch(() => undefined);
    this.options.onLook?.();
    // Stopped while the file was being looked at: start no worker for a closed database.
    if (this.stopped || !wal || wal.size < (this.options.walBytes ?? 4 * 1024 * 1024) || wal.mtimeMs === this.checkpointedAt) return;
    this.inFlight = true;
    this.checkpointedAt = wal.mtimeMs;
    try {
      this.workerOrStart().postMessage('checkpoint');
    } catch (error) {
      this.fail(`cannot start the checkpoint worker: ${(error as Error).message}`);
    }
  }

  private workerOrStart(): Worker {
    if (this.worker) return this.worker;
    const data: CheckpointWorkerData = { file: this.file, busyTimeoutMs: this.options.busyTimeoutMs ?? 2_000 };
    const worker = new Worker(workerEntry(import.meta.url, 'sqlite-checkpoint-worker'), { workerData: data });
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => {
      this.inFlight = false;
      if (reply.ok) this.options.onCheckpoint?.(reply);
      else this.fail(`checkpoint failed: ${reply.error}`);
    });
    worker.on('error', (error) => this.fail(`the checkpoint worker failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.stopped) this.fail(`the checkpoint worker exited with ${code}`);
    });
    this.worker = worker;
    return worker;
  }

  private fail(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.options.onFallback(reason);
  }
}
