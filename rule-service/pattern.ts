/**
 * Rule patterns run so that no pattern can stall admission.
 *
 * A pattern is accepted only when V8's linear-time regular-expression engine (an automaton, RE2's
 * approach: no backtracking) can run it: that refuses lookarounds, backreferences and counted
 * repeats above about 16 (`{1,100}`), which OpenPAI user and VC names never need. Accepted
 * patterns run on V8's usual engine, told to hand a match over to the linear engine once it has
 * backtracked too much: ordinary patterns keep full speed, and a pathological one (`(a+)+$`,
 * `\w*\w*\w*x`) costs time proportional to its length × the name's length instead of exponential
 * time. With patterns of at most MAX_PATTERN_LENGTH characters and names of at most
 * MAX_MATCHED_LENGTH, one test costs well under a millisecond at the median and a few at worst (`bench/patterns.ts` measures it).
 *
 * The flags are process-wide and only change how a runaway match is finished, never its result.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Longest user or VC name admission accepts. */
export const MAX_MATCHED_LENGTH = 128;

/** Longest regular expression a rule field may stand for. */
export const MAX_PATTERN_LENGTH = 256;

/** Why `source` cannot be a rule pattern (syntax, length, needs backtracking), or undefined. */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
  if (source.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-time flag, switched on above with --enable-experimental-regexp-engine
    new RegExp(source, 'l');
  } catch {
    return 'needs a backtracking engine (a lookaround, a backreference, or a counted repeat above 16 such as {1,100}); rule patterns must run in linear time: drop the lookaround or backreference, write + or {n,} for long counts';
  }
  return undefined;
}

/** A pattern that passed `regexProblem`, ready to test names with. */
export function compilePattern(source: string): RegExp {
  const problem = regexProblem(source);
  if (problem) throw new Error(`/${source}/: ${problem}`);
  return new RegExp(source);
}
