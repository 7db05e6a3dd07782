/**
 * The generated files for examples/gpuwatch.yaml against golden copies in dashboards/golden/, so a
 * change in output is always deliberate and visible in review.
 * After a deliberate change: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run dashboards/golden.test.ts
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { generateDashboards } from './index.js';

const EXAMPLE = fileURLToPath(new URL('../examples/gpuwatch.yaml', import.meta.url));
const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('golden dashboards', () => {
  it('match dashboards/golden/ for the example config', async () => {
    const files = generateDashboards(await loadConfig(EXAMPLE));
    if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') {
      for (const [path, text] of files) {
        await mkdir(dirname(join(GOLDEN, path)), { recursive: true });
        await writeFile(join(GOLDEN, path), text);
      }
    }
    expect(await filesUnder(GOLDEN)).toEqual([...files.keys()].sort());
    for (const [path, text] of files) expect(text, path).toBe(await readFile(join(GOLDEN, path), 'utf8'));
  });
});
