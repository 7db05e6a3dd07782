/**
 * Prometheus, Alertmanager and the other engines as child processes: found on PATH (Debian's
 * packages), started with their output passed to the log, ready once their ready path (Prometheus'
 * and Alertmanager's /-/ready, VictoriaMetrics' /health, …) answers, stopped with SIGTERM (then
 * SIGKILL after 10 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../src/log.js';

export interface External {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The first of `names` on PATH, or undefined. */
export async function findOnPath(names: readonly string[], path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const name of names) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      const found = await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      );
      if (found) return candidate;
    }
  }
  return undefined;
}

export interface ExternalOptions {
  /** Working directory (default: this process's). */
  cwd?: string;
  /** The path that answers 2xx once the process serves (default /-/ready). */
  readyPath?: string;
  readyTimeoutMs?: number;
}

export async function startExternal(
  name: string,
  binary: string,
  args: string[],
  listen: string,
  log: Logger,
  options: ExternalOptions = {},
): Promise<External> {
  const { cwd, readyPath = '/-/ready', readyTimeoutMs = 60_000 } = options;
  // A process group of its own: Ctrl-C in the terminal reaches the stack only, which then stops
  // its parts in order (Prometheus before Alertmanager before the router) instead of all at once.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(cwd ? { cwd } : {}) });
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      log.debug({ process: name }, line);
    });
  }
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`));
  });
  const url = `http://${listen}`;
  let stopping = false;
  const stop = () => {
    stopping = true;
    return stopChild(child);
  };
  const deadline = Date.now() + readyTimeoutMs;
  let why: string | undefined;
  void exited.then((w) => (why = w));
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (why !== undefined) throw new Error(`${name} ${why}: ${tail.join('\n')}`);
    const ready = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      void exited.then((w) => {
        if (!stopping) log.error({ process: name, last: tail.slice(-5) }, `${name} ${w}`);
      });
      return { name, url, child, stop };
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready at ${url} after ${readyTimeoutMs / 1000} s: ${tail.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} never became ready`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
