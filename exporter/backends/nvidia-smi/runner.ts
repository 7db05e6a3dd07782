/**
 * Running nvidia-smi: a long-lived streaming query (one-shot commands with a hard time limit are in
 * run-once.ts, exported from here too).
 *
 * Children are spawned directly (no shell) in their own process group, so that a kill also reaches
 * anything they started and nothing is left holding their output pipes open. Should the exporter
 * die without stopping them, a streaming child ends at its next write into the closed pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SourceError, type GpuReading } from '../../types.js';
import { EXCERPT_CHARS, excerpt, KILL_GRACE_MS, killGroup, spawnError, type ErrorListener, type SourceErrorReason } from './child-process.js';
import { parseQueryGpuLine } from './csv.js';

export { runOnce, type RunOnceOptions } from './run-once.js';
export type { ErrorListener, SourceErrorReason } from './child-process.js';

export interface StreamingQueryOptions {
  /** Path or name of the nvidia-smi binary. */
  binary: string;
  /** `--query-gpu` fields; must include `index` and `uuid`. */
  fields: readonly string[];
  /** Sampling interval passed as `-lms`. */
  intervalMs: number;
  /** Kill and restart the child after this long without a line. Default: max(5 × interval, 10 s). */
  stallTimeoutMs?: number;
  /** First restart delay, doubled after each failure up to `maxBackoffMs`. Default 1 s. */
  initialBackoffMs?: number;
  /** Default 60 s. */
  maxBackoffMs?: number;
  /** A child that has produced good lines for this long resets the delay. Default 60 s. */
  healthyAfterMs?: number;
  onError?: ErrorListener;
}

/** The newest reading of every GPU the stream reports, and when the stalest of them was read. */
export interface StreamedReadings {
  gpus: GpuReading[];
  at: number;
}

/** Longest partial line kept while waiting for its newline. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * Keeps one `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits -lms <N>` running,
 * restarting it with exponential back-off whenever it exits or goes silent.
 */
export class StreamingQuery {
  private readonly stallTimeoutMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly healthyAfterMs: number;
  private readonly byUuid = new Map<string, { reading: GpuReading; at: number }>();
  private child: ChildProcess | undefined;
  private childStartedAt = 0;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private running = false;
  private restartCount = 0;
  private errorCount = 0;

  constructor(private readonly options: StreamingQueryOptions) {
    this.stallTimeoutMs = options.stallTimeoutMs ?? Math.max(options.intervalMs * 5, 10_000);
    this.initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.healthyAfterMs = options.healthyAfterMs ?? 60_000;
    this.backoffMs = this.initialBackoffMs;
  }

  /** The `--query-gpu` fields this stream asks. */
  get fields(): readonly string[] {
    return this.options.fields;
  }

  /** Times the child has been started again after exiting or stalling. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Errors reported so far (exits, stalls, unreadable lines, spawn failures). */
  get errors(): number {
    return this.errorCount;
  }

  /** Process id of the current child, if one is running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.spawnChild();
  }

  /**
   * The newest reading per GPU, sorted by index, leaving out GPUs not heard from within the stall
   * timeout; undefined when there is none.
   */
  latest(now = Date.now()): StreamedReadings | undefined {
    const fresh = [...this.byUuid.values()].filter((entry) => now - entry.at <= this.stallTimeoutMs);
    if (fresh.length === 0) return undefined;
    return {
      gpus: fresh.map((entry) => entry.reading).sort((a, b) => a.index - b.index),
      at: Math.min(...fresh.map((entry) => entry.at)),
    };
  }

  /** Stop the child and all timers; resolves once the child is gone. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      setTimeout(resolve, KILL_GRACE_MS).unref();
    });
    killGroup(child);
    await gone;
  }

  private spawnChild(): void {
    const args = [`--query-gpu=${this.options.fields.join(',')}`, '--format=csv,noheader,nounits', '-lms', String(this.options.intervalMs)];
    const child = spawn(this.options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.childStartedAt = Date.now();
    let partialLine = '';
    let stderrTail = '';
    let ended = false;
    const end = (reason: SourceErrorReason, message: string) => {
      if (ended) return;
      ended = true;
      this.onChildEnded(child, reason, message);
    };

    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      // Lines still draining from a child that has exited count, unless a newer child took over.
      if (this.child !== child && this.child !== undefined) return;
      if (this.child === child) this.armStallTimer();
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      if (partialLine.length > MAX_LINE_CHARS) {
        this.reportError('parse', `streaming nvidia-smi wrote a line longer than ${MAX_LINE_CHARS} characters`);
        partialLine = '';
      }
      for (const line of lines) this.onLine(line);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-EXCERPT_CHARS);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      const spawnFailure = spawnError(this.options.binary, error);
      end(spawnFailure.reason, spawnFailure.message);
    });
    child.on('exit', (code, signal) => {
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      const said = excerpt(stderrTail);
      end('exit', `streaming ${this.options.binary} ${how}${said ? `: ${said}` : ''}`);
    });
    this.armStallTimer();
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let reading: GpuReading;
    try {
      reading = parseQueryGpuLine(line, this.options.fields);
    } catch (error) {
      const failure = error instanceof SourceError ? error : new SourceError('parse', String(error));
      this.reportError(failure.reason, failure.message);
      return;
    }
    const now = Date.now();
    this.byUuid.set(reading.uuid, { reading, at: now });
    if (now - this.childStartedAt >= this.healthyAfterMs) this.backoffMs = this.initialBackoffMs;
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    const child = this.child;
    this.stallTimer = setTimeout(() => {
      if (child === undefined || this.child !== child) return;
      killGroup(child);
      this.onChildEnded(child, 'timeout', `streaming nvidia-smi was silent for ${this.stallTimeoutMs} ms; restarted`);
    }, this.stallTimeoutMs);
    this.stallTimer.unref();
  }

  private onChildEnded(child: ChildProcess, reason: SourceErrorReason, message: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    clearTimeout(this.stallTimer);
    if (!this.running) return;
    this.reportError(reason, message);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.restartTimer = setTimeout(() => {
      if (!this.running) return;
      this.restartCount++;
      this.spawnChild();
    }, delay);
    this.restartTimer.unref();
  }

  private reportError(reason: SourceErrorReason, message: string): void {
    this.errorCount++;
    this.options.onError?.(reason, message);
  }
}
