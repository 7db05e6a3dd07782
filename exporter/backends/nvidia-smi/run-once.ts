/**
 * Running nvidia-smi once, with a hard time limit: spawned directly (no shell) in its own process
 * group, so that a kill also reaches anything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SourceError } from '../../types.js';
import { EXCERPT_CHARS, excerpt, KILL_GRACE_MS, killGroup, spawnError } from './child-process.js';

/** Output beyond this is treated as a runaway child (an 8-GPU `-q -x` is ~250 KB). */
const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
export interface RunOnceOptions {
  timeoutMs: number;
  /** Aborting kills the child and rejects with 'unavailable'. */
  signal?: AbortSignal;
  maxOutputBytes?: number;
}

/**
 * Run `command args` and resolve with its stdout. Rejects with SourceError 'spawn' (cannot start),
 * 'timeout' (killed after `timeoutMs`; the promise settles once the child is reaped), 'exit'
 * (non-zero exit or killed by a signal, with an excerpt of what it printed) or 'io' (too much output).
 */
export function runOnce(command: string, args: readonly string[], options: RunOnceOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    if (options.signal?.aborted) {
      reject(new SourceError('unavailable', `${command} was cancelled before it started`));
      return;
    }
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const ending = childEnding(command, child, options, resolve, reject);
    const output = collectOutput(child, maxOutputBytes, () => ending.killFor(new SourceError('io', `${command} wrote more than ${maxOutputBytes} bytes`)));
    child.on('error', (error: NodeJS.ErrnoException) => ending.finish(spawnError(command, error)));
    // 'exit' rather than 'close' once killed: a grandchild could still hold the pipes open.
    child.on('exit', () => {
      if (ending.killedFor !== undefined) ending.finish(ending.killedFor);
    });
    child.on('close', (code, signal) => {
      if (ending.killedFor !== undefined) return ending.finish(ending.killedFor);
      const stdout = output.stdout();
      if (code === 0) return ending.finish(undefined, stdout);
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      const said = excerpt(output.stderr()) || excerpt(stdout);
      ending.finish(new SourceError('exit', `${command} ${how}${said ? `: ${said}` : ''}`));
    });
  });
}

interface ChildEnding {
  /** Settles the promise once: with the error, or with the output. */
  finish(error: SourceError | undefined, output?: string): void;
  /** Kills the child; the promise settles with `error` once it is gone (or after a grace period). */
  killFor(error: SourceError): void;
  /** Set when we killed the child: the error to report once it is gone. */
  readonly killedFor: SourceError | undefined;
}

/** How one run ends: the time limit, the abort signal, a kill, and settling the promise exactly once. */
function childEnding(
  command: string,
  child: ChildProcess,
  options: RunOnceOptions,
  resolve: (output: string) => void,
  reject: (error: SourceError) => void,
): ChildEnding {
  let settled = false;
  let killedFor: SourceError | undefined;
  let graceTimer: NodeJS.Timeout | undefined;

  const finish = (error: SourceError | undefined, output?: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (error !== undefined) reject(error);
    else resolve(output ?? '');
  };
  const killFor = (error: SourceError) => {
    if (killedFor !== undefined) return;
    killedFor = error;
    killGroup(child);
    // Settle even if the exit event never comes (e.g. an unkillable process in D state).
    graceTimer = setTimeout(() => finish(error), KILL_GRACE_MS);
  };
  const onAbort = () => killFor(new SourceError('unavailable', `${command} was cancelled`));
  const timer = setTimeout(() => killFor(new SourceError('timeout', `${command} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    finish,
    killFor,
    get killedFor() {
      return killedFor;
    },
  };
}

/** The child's stdout (up to `maxOutputBytes`, beyond which `onTooMuch` is called) and the start of its stderr. */
function collectOutput(child: ChildProcess, maxOutputBytes: number, onTooMuch: () => void): { stdout(): string; stderr(): string } {
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdoutBytes > maxOutputBytes) {
      onTooMuch();
      return;
    }
    stdout.push(chunk);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < EXCERPT_CHARS * 4) stderr += chunk;
  });
  return { stdout: () => Buffer.concat(stdout).toString('utf8'), stderr: () => stderr };
}
