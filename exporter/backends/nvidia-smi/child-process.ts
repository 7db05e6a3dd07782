/** What running nvidia-smi once and streaming it share: killing a child's process group, and the errors it ends with. */
import type { ChildProcess } from 'node:child_process';
import { SourceError } from '../../types.js';

/** Longest stderr/stdout excerpt quoted in an error message. */
export const EXCERPT_CHARS = 300;
/** How long to wait for a SIGKILLed child to be reaped before giving up on it. */
export const KILL_GRACE_MS = 2_000;

export type SourceErrorReason = SourceError['reason'];
/**
 * Told of every failure; `repeat` is true when it repeats the failure reported just before (to be
 * counted, but not logged again).
 */
export type ErrorListener = (reason: SourceErrorReason, message: string, repeat?: boolean) => void;

/** Kill a child and its process group. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

export function spawnError(command: string, error: NodeJS.ErrnoException): SourceError {
  const why = error.code === 'ENOENT' ? 'not found' : error.code === 'EACCES' ? 'not executable' : error.message;
  return new SourceError('spawn', `cannot start ${command}: ${why}`);
}

export function excerpt(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > EXCERPT_CHARS ? `${trimmed.slice(0, EXCERPT_CHARS)}…` : trimmed;
}
