/**
 * Keeping the NVLink readings of `nvidia-smi nvlink -s`, `-e` and `-gt d` fresh in the background,
 * at the slow interval (as `-q -x` is). Each command runs under the backend's time limit and is
 * killed when it runs past it. A failure keeps no reading back from the GPU: the previous NVLink
 * readings stay until they are stale, the failure is counted every time and logged once (until a
 * read succeeds again).
 */
import { SourceError, type NvLinkReading } from '../../types.js';
import { nvLinkReadings, parseNvLinkLines } from './nvlink.js';
import { runOnce, type ErrorListener } from './runner.js';

export interface NvLinkRefreshOptions {
  binary: string;
  timeoutMs: number;
  /** Aborting kills the command in flight. */
  signal: AbortSignal;
  onError?: ErrorListener;
}

/** The NVLink readings of every GPU with an active link, by UUID, and when they were read. */
interface NvLinkSnapshot {
  byUuid: Map<string, NvLinkReading[]>;
  at: number;
}

export class NvLinkRefresh {
  private snapshot: NvLinkSnapshot | undefined;
  private inFlight: Promise<void> | undefined;
  private startedAt = Number.NEGATIVE_INFINITY;
  private failing = false;

  constructor(private readonly options: NvLinkRefreshOptions) {}

  /** The read in flight, if any; it never rejects. */
  get pending(): Promise<void> | undefined {
    return this.inFlight;
  }

  refreshIfOlderThan(intervalMs: number): void {
    if (this.inFlight !== undefined || Date.now() - this.startedAt < intervalMs) return;
    this.startedAt = Date.now();
    this.inFlight = readNvLinks(this.options)
      .then((byUuid) => {
        this.snapshot = { byUuid, at: Date.now() };
        this.failing = false;
      })
      .catch((error: unknown) => this.reportFailure(error))
      .finally(() => {
        this.inFlight = undefined;
      });
  }

  /** The last readings, unless they are older than `maxAgeMs`. */
  current(maxAgeMs: number): Map<string, NvLinkReading[]> | undefined {
    const snapshot = this.snapshot;
    return snapshot !== undefined && Date.now() - snapshot.at <= maxAgeMs ? snapshot.byUuid : undefined;
  }

  private reportFailure(error: unknown): void {
    if (this.options.signal.aborted) return;
    const failure = error instanceof SourceError ? error : new SourceError('parse', String(error));
    this.options.onError?.(failure.reason, `cannot read the NVLink counters: ${failure.message}`, this.failing);
    this.failing = true;
  }
}

/** Runs the three commands one after the other and joins their answers. */
async function readNvLinks(options: NvLinkRefreshOptions): Promise<Map<string, NvLinkReading[]>> {
  const read = async (args: string[]) => {
    const text = await runOnce(options.binary, args, { timeoutMs: options.timeoutMs, signal: options.signal });
    return parseNvLinkLines(text, `nvidia-smi ${args.join(' ')}`);
  };
  const state = await read(['nvlink', '-s']);
  const errors = await read(['nvlink', '-e']);
  const data = await read(['nvlink', '-gt', 'd']);
  return nvLinkReadings(state, errors, data);
}
