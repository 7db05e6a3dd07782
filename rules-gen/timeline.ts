/**
 * Input series for the generated promtool tests, on a one-minute grid (the tests' evaluation
 * interval): a series is a list of segments, each a run of samples.
 */
import { formatDuration } from '../src/config/duration.js';
import { ms } from './promql.js';

export const STEP_MS = 60_000;
export const STEP = '1m';

/** Grid steps that cover a duration (rounded up). */
export function stepsOf(durationText: string): number {
  return Math.ceil(ms(durationText) / STEP_MS);
}

/** The eval_time of grid step `n`. */
export function at(step: number): string {
  return formatDuration(step * STEP_MS);
}

export type Segment =
  /** `count` samples starting at `value`, growing by `increment` per step. */
  | { value: number; count: number; increment?: number }
  /** `count` steps without a sample. */
  | { missing: number }
  /** A staleness marker: the series ended. */
  | { stale: true };

export function runOf(value: number, count: number, increment = 0): Segment {
  return { value, count, increment };
}

/** promtool's expanding notation for the segments, e.g. `0+0x4 1+1x9 stale`. */
export function values(segments: readonly Segment[]): string {
  return segments
    .filter((s) => !('count' in s) || s.count > 0)
    .filter((s) => !('missing' in s) || s.missing > 0)
    .map((s) => {
      if ('stale' in s) return 'stale';
      if ('missing' in s) return `_x${s.missing}`;
      return s.count === 1 ? String(s.value) : `${s.value}${(s.increment ?? 0) < 0 ? '' : '+'}${s.increment ?? 0}x${s.count - 1}`;
    })
    .join(' ');
}

/** `metric{a="b",...}` with the labels in the given order. */
export function seriesText(metric: string, labels: Readonly<Record<string, string>>): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${metric}{${inner}}`;
}
