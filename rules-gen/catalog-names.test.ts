/** rules-gen names metrics through the catalog's constants, so a renamed metric cannot drift from the rules. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = new URL('.', import.meta.url).pathname;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => sources(join(dir, e.name))));
  const own = entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.includes('support'))
    .map((e) => join(dir, e.name));
  return [...own, ...nested.flat()];
}

describe('metric names in rules-gen', () => {
  it('come from src/catalog/metrics.ts, never from string literals', async () => {
    const literals: string[] = [];
    for (const file of await sources(DIR)) {
      const code = (await readFile(file, 'utf8')).split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l));
      for (const line of code) for (const m of line.matchAll(/['"`](gpuwatch_[a-z_]+)['"`]/g)) literals.push(`${file.slice(DIR.length)}: ${m[1]}`);
    }
    expect(literals).toEqual([]);
  });
});
