/** Time as the router sees it: injected everywhere so tests can drive SLAs, rotations and timers. */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  set(at: number | Date | string): void {
    this.current = typeof at === 'number' ? at : new Date(at).getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
