/**
 * A child process that comes back: started like every external part (stack/external.ts) and, when
 * it exits without being asked to (a crash, an OOM kill, SIGKILL), started again after a short
 * pause with the same command line. At most `maxRestarts` within `windowMs`: a process that keeps
 * dying is left down and said so in the log, not restarted forever.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../src/log.js';
import { startExternal, type External, type ExternalOptions } from './external.js';

export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  delayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 60_000, delayMs: 1_000 };

export interface SupervisedSpec {
  name: string;
  binary: string;
  args: string[];
  listen: string;
  options?: ExternalOptions;
}

export interface Supervised {
  name: string;
  url: string;
  /** The process running now (a new one after each restart). */
  readonly child: ChildProcess;
  /** How many times it was started again. */
  readonly restarts: number;
  stop(): Promise<void>;
}

export async function startSupervised(spec: SupervisedSpec, log: Logger, policy: RestartPolicy = DEFAULT_RESTART_POLICY): Promise<Supervised> {
  let current: External = await startExternal(spec.name, spec.binary, spec.args, spec.listen, log, spec.options);
  let stopping = false;
  let restarts = 0;
  const recent: number[] = [];
  let restarting: Promise<void> | undefined;

  const restart = async (): Promise<void> => {
    for (let attempt = 0; attempt <= policy.maxRestarts && !stopping; attempt++) {
      const now = Date.now();
      while (recent.length > 0 && (recent[0] ?? now) < now - policy.windowMs) recent.shift();
      if (recent.length >= policy.maxRestarts) {
        log.error({ process: spec.name }, `${spec.name} exited ${policy.maxRestarts} times within ${policy.windowMs / 1000} s: left down`);
        return;
      }
      recent.push(now);
      await new Promise((r) => setTimeout(r, policy.delayMs));
      if (stopping) return;
      try {
        current = await startExternal(spec.name, spec.binary, spec.args, spec.listen, log, spec.options);
        restarts++;
        log.warn({ process: spec.name, restarts }, `${spec.name} is back`);
        watch(current);
        return;
      } catch (err) {
        log.error({ process: spec.name, err: (err as Error).message }, `${spec.name} did not start again`);
      }
    }
  };

  const watch = (external: External) => {
    external.child.once('exit', (code, signal) => {
      if (stopping) return;
      log.warn({ process: spec.name }, `${spec.name} exited (${signal ?? `code ${code}`}); starting it again`);
      restarting = restart();
    });
  };
  watch(current);

  return {
    name: spec.name,
    url: current.url,
    get child() {
      return current.child;
    },
    get restarts() {
      return restarts;
    },
    stop: async () => {
      stopping = true;
      await restarting;
      await current.stop();
    },
  };
}
