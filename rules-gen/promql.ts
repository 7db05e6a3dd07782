/** Small helpers that write PromQL text: selectors, label lists, numbers and ranges. */
import { formatDuration, parseDuration } from '../src/config/duration.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

/** A PromQL string literal (PromQL accepts Go's escapes, which JSON's are a subset of). */
export function quote(value: string): string {
  return JSON.stringify(value);
}

export function selector(metric: string, matchers: readonly Matcher[] = []): string {
  if (matchers.length === 0) return metric;
  return `${metric}{${matchers.map((m) => `${m.label}${m.op}${quote(m.value)}`).join(', ')}}`;
}

/** `by (a, b)` */
export function by(labels: readonly string[]): string {
  return `by (${labels.join(', ')})`;
}

/** `on (a, b)` */
export function on(labels: readonly string[]): string {
  return `on (${labels.join(', ')})`;
}

/** An alternation that matches exactly the given values, e.g. `48|63|64`. */
export function anyOf(values: readonly (string | number)[]): string {
  return values.map((v) => String(v).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** A number as PromQL reads it. */
export function num(n: number): string {
  return String(n);
}

export function ms(durationText: string): number {
  const value = parseDuration(durationText);
  if (value === undefined) throw new Error(`not a duration: ${durationText}`);
  return value;
}

export function seconds(durationText: string): number {
  return ms(durationText) / 1000;
}

/** A range selector suffix, normalised (`90m` → `[1h30m]`). */
export function range(durationText: string): string {
  return `[${formatDuration(ms(durationText))}]`;
}
