/**
 * The second guard against slow patterns: run each pattern on adversarial inputs under a time limit
 * (node:vm can interrupt a running regular expression). It catches what the static check lets
 * through, such as polynomial blow-ups (`\w*\w*\w*\w*\w*x`).
 */
import { Script, createContext } from 'node:vm';

/** Longest user or VC name admission accepts; probes use inputs of this length. */
export const MAX_MATCHED_LENGTH = 128;

/** The longest a pattern may take on all its probe inputs together. */
export const PROBE_BUDGET_MS = 50;

const RUN = new Script('for (const [source, inputs] of work) { const re = new RegExp(source); for (const input of inputs) re.test(input); }');

/** Inputs likely to make a backtracking pattern fail slowly: long runs of the characters it names. */
export function probeInputs(source: string, length = MAX_MATCHED_LENGTH): string[] {
  const named = [...new Set(source.replace(/\\./g, '').match(/[\x20-\x7e]/g) ?? [])].filter((c) => !'()[]{}|*+?^$\\'.includes(c));
  const chars = [...new Set([...named.slice(0, 16), 'a', '0', '_', '-', '.', ' '])];
  const words = source.match(/[A-Za-z0-9_-]+/g)?.join('') ?? '';
  const fill = (unit: string) => unit.repeat(Math.ceil(length / Math.max(unit.length, 1))).slice(0, length - 1) + '\u0001';
  return [...chars.map(fill), ...(words === '' ? [] : [fill(words)]), fill(chars.join(''))];
}

/** The patterns among `sources` that ran past the budget on their probe inputs. */
export function slowPatterns(sources: readonly string[], budgetMs = PROBE_BUDGET_MS): Set<string> {
  const unique = [...new Set(sources)];
  if (unique.length === 0) return new Set();
  // One timed run for all of them (a timed run costs ~0.5 ms of set-up), then one by one only
  // when the whole batch ran out of time.
  if (runsWithin(unique, budgetMs + unique.length * 0.1)) return new Set();
  return new Set(unique.filter((source) => !runsWithin([source], budgetMs)));
}

function runsWithin(sources: string[], ms: number): boolean {
  const work = sources.map((source) => [source, probeInputs(source)] as const);
  try {
    RUN.runInContext(createContext({ work }), { timeout: Math.max(1, Math.round(ms)) });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return false;
    throw err;
  }
}
