/**
 * The whole exposition of the recorded busy H100 against a golden file, in the manner of
 * node_exporter's end-to-end test. Self-metrics that carry times are left out of the comparison.
 * After a deliberate change: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run test/golden-exposition.test.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const GOLDEN = new URL('./golden/exporter-q-busy.prom', import.meta.url);
const TIME_DEPENDENT = /^gpuwatch_exporter_(collection_duration_seconds|last_success_timestamp_seconds)\{/;

describe('golden exposition', () => {
  it('matches test/golden/exporter-q-busy.prom', async () => {
    const { code, stdout, stderr } = await runCli(['exporter', '--config', 'test/golden/exporter.yaml', '--once']);
    expect(code, stderr).toBe(0);
    const stable = stdout
      .split('\n')
      .filter((l) => !TIME_DEPENDENT.test(l))
      .join('\n')
      .replace(/version="[^"]*"/, 'version="X"');
    if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') await writeFile(GOLDEN, stable);
    expect(stable).toBe(await readFile(GOLDEN, 'utf8'));
  });
});
