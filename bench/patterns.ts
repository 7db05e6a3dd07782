/**
 * How long one rule pattern takes on the name that makes a backtracking engine fail slowest:
 * patterns with nested and polynomial repeats, on a name of the longest length admission accepts
 * (the cases rule-service/rule-validation.test.ts checks for their answers). Goal: every match
 * within a few milliseconds, because V8 hands a runaway match over to its linear-time engine.
 *
 * Run directly: `npx tsx bench/patterns.ts`.
 */
import { performance } from 'node:perf_hooks';
import { MAX_MATCHED_LENGTH } from '../rule-service/pattern.js';
import { compileRule, normalizeRule } from '../rule-service/rule.js';

/** Pattern and the unit its adversarial name repeats. */
const CASES: ReadonlyArray<readonly [string, string]> = [
  ['(a+)+$', 'a'],
  ['(.*)*x', 'a'],
  ['(a|ab)*c', 'ab'],
  ['^(\\w+\\s?)+$', 'a'],
  ['([a-z]+\\d*)+!$', 'a1'],
  ['\\w*\\w*\\w*\\w*\\w*\\w*\\w*x', 'a'],
];

export interface PatternBenchRow {
  pattern: string;
  matches: number;
  p50Ms: number;
  maxMs: number;
}

/** A name of the longest accepted length that the pattern fails on only at its last character. */
const adversarial = (unit: string) => unit.repeat(MAX_MATCHED_LENGTH).slice(0, MAX_MATCHED_LENGTH - 1) + '!';

export function benchPatterns(matches = 200): { rows: PatternBenchRow[]; goalMs: number } {
  const rows = CASES.map(([source, unit]) => {
    const pattern = compileRule({ id: 1, ...normalizeRule({ user: source }) }).user;
    if (pattern === undefined) throw new Error(`/${source}/ did not compile`);
    const name = adversarial(unit);
    const times: number[] = [];
    for (let i = 0; i < matches; i++) {
      const started = performance.now();
      pattern.test(name);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { pattern: source, matches, p50Ms: times[Math.floor(times.length / 2)] ?? NaN, maxMs: times.at(-1) ?? NaN };
  });
  return { rows, goalMs: 5 };
}

export function printPatterns(result: { rows: PatternBenchRow[]; goalMs: number }): void {
  console.table(
    result.rows.map((r) => ({ pattern: r.pattern, matches: r.matches, 'p50 ms': Number(r.p50Ms.toFixed(3)), 'max ms': Number(r.maxMs.toFixed(3)) })),
  );
  const met = result.rows.every((r) => r.p50Ms <= result.goalMs);
  console.log(`goal p50 ≤ ${result.goalMs} ms per match on a ${MAX_MATCHED_LENGTH}-character name: ${met ? 'met' : 'MISSED'}`);
}

if (import.meta.url === `file://${process.argv[1]}`) printPatterns(benchPatterns());
