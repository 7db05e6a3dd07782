/** One logger for every command: JSON lines on stderr (stdout stays free for `--once` output). */
import { pino, type Logger } from 'pino';

export function createLogger(name: string, level = process.env.GPUWATCH_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination(2));
}

export type { Logger };
