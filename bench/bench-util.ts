/** Helpers the rule-evaluation benchmarks share: a child process run to its end, sleeps, medians, a directory's size, size options. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export { runToEnd as run } from '../src/testing/run-to-end.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

/** Bytes of the files under `dir` (what `du -b` counts, less the directories themselves). */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export const MB = 2 ** 20;

/**
 * Numeric options from the command line (`--nodes 500`) or the environment (`GPUWATCH_BENCH_NODES=500`),
 * the command line winning; `names` maps each option to its result key.
 */
export function numericOptions<K extends string>(names: Record<string, K>, argv = process.argv.slice(2)): Partial<Record<K, number>> {
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(Object.keys(names).map((n) => [n, { type: 'string' }])), strict: true });
  const out: Partial<Record<K, number>> = {};
  for (const [flag, key] of Object.entries(names) as [string, K][]) {
    const text = (values as Record<string, string | undefined>)[flag] ?? process.env[`GPUWATCH_BENCH_${flag.toUpperCase().replace(/-/g, '_')}`];
    if (text === undefined) continue;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag}: expected a positive number, got ${text}`);
    out[key] = n;
  }
  return out;
}
