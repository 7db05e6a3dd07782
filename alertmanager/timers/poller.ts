/**
 * Runs a piece of work again and again: at least every `intervalMs`, sooner when kicked (new work
 * was committed, a timer is due soon), never two runs at once. A failed run is logged and the next
 * one comes at the usual interval.
 */
import type { Logger } from '../../src/log.js';

/** The work returns how soon it wants to run again (ms), or undefined for the usual interval. */
export type PollWork = () => Promise<number | undefined>;

export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private plannedAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** The earliest moment asked for while a run was going on. */
  private requestedAt = Number.POSITIVE_INFINITY;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly work: PollWork,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick(0);
  }

  /** Run within `delayMs` (0: as soon as possible). */
  kick(delayMs = 0): void {
    if (this.stopped) return;
    const delay = Math.max(0, Math.min(delayMs, this.intervalMs));
    const at = Date.now() + delay;
    if (this.running) {
      this.requestedAt = Math.min(this.requestedAt, at);
      return;
    }
    if (at >= this.plannedAt) return;
    clearTimeout(this.timer);
    this.plannedAt = at;
    this.timer = setTimeout(() => void this.run(), delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async run(): Promise<void> {
    this.plannedAt = Number.POSITIVE_INFINITY;
    this.timer = undefined;
    let next: number | undefined;
    this.running = (async () => {
      try {
        next = await this.work();
      } catch (err) {
        this.log.warn({ err: (err as Error).message, loop: this.name }, 'background run failed; trying again later');
      }
    })();
    await this.running;
    this.running = undefined;
    const requested = this.requestedAt;
    this.requestedAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    this.kick(Math.min(next ?? this.intervalMs, requested - now));
  }
}
