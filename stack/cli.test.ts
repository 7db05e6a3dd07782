import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.js';
import { SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';

describe('gpuwatch stack (the real CLI)', () => {
  it('exits 2 naming the worker without a scenario, and starts nothing', async () => {
    const dir = await tempDirWith({
      'layout.yaml': SMALL_LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - {name: lab, layout: layout.yaml}\n',
      'scenarios/w0.yaml': '',
    });
    const result = await runCli(['stack', '--config', join(dir, 'gpuwatch.yaml')]);
    expect(result.stderr).toContain(`stack.scenarios: worker w1 has no replay scenario: create ${join(dir, 'scenarios', 'w1.yaml')}`);
    expect(result.code).toBe(2);
  });

  it('lists the command in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.stdout).toMatch(/stack \[options\]\s+Run the whole chain on this machine/);
  });
});
