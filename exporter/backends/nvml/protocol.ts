/**
 * The messages between the NVML backend (main thread) and its worker thread. Everything here
 * survives structured cloning: plain objects, numbers, strings and Maps (the XID counts are a Map
 * of Maps, which postMessage copies as such). Errors travel as (reason, message), because a cloned
 * Error loses its class and its `reason`.
 */
import { SourceError, type GpuSnapshot } from '../../types.js';

/** What the worker needs to open NVML (the error handler stays on the main thread). */
export interface WorkerSettings {
  libraryPath?: string;
  watchXid?: boolean;
  xidWaitTimeoutMs?: number;
}

/** Each request kind and the value its successful reply carries. */
export interface ReplyValues {
  collect: GpuSnapshot;
  measure: number;
}
export type RequestKind = keyof ReplyValues;

export type ToWorker = { type: 'collect'; id: number } | { type: 'measure'; id: number; rounds: number } | { type: 'close' };

export interface Failure {
  reason: SourceError['reason'];
  message: string;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'open-failed'; failure: Failure }
  /** A failure that does not fail a request (the reader's `onError`). */
  | { type: 'error'; reason: SourceError['reason']; message: string }
  | { type: 'reply'; id: number; ok: true; value: ReplyValues[RequestKind] }
  | { type: 'reply'; id: number; ok: false; failure: Failure };

/** Any thrown value as a Failure; only a SourceError keeps its own reason. */
export function toFailure(error: unknown): Failure {
  if (error instanceof SourceError) return { reason: error.reason, message: error.message };
  return { reason: 'library', message: error instanceof Error ? error.message : String(error) };
}

export function fromFailure(failure: Failure): SourceError {
  return new SourceError(failure.reason, failure.message);
}
