/** How every long-running command ends: on SIGINT or SIGTERM, stop once, then exit 0. */
import type { Logger } from './log.js';

export interface ShutdownOptions {
  message?: string;
  /** Runs when stopping takes longer than `afterMs` (e.g. a GPU read stuck in the driver). */
  stuck?: { afterMs: number; then: () => void };
}

export function exitOnSignals(log: Logger, stop: () => Promise<void>, options: ShutdownOptions = {}): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, options.message ?? 'stopping');
    if (options.stuck) setTimeout(options.stuck.then, options.stuck.afterMs).unref();
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
