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

  it('--scale: exits 2 naming the missing scale: section, or router.db when several routers would share a SQLite file', async () => {
    const config = 'clusters:\n  - {name: lab, layout: layout.yaml}\n';
    const dir = await tempDirWith({ 'layout.yaml': SMALL_LAYOUT, 'gpuwatch.yaml': config, 'scaled.yaml': `${config}scale: {routers: 2}\n` });
    const none = await runCli(['stack', '--scale', '--config', join(dir, 'gpuwatch.yaml')]);
    expect(none.stderr).toContain('scale: gpuwatch stack --scale runs the topology of a scale: section, and this config has none');
    expect(none.code).toBe(2);
    const sqlite = await runCli(['stack', '--scale', '--config', join(dir, 'scaled.yaml')]);
    expect(sqlite.stderr).toContain('router.db: scale.routers is 2: the routers share one database, so set router.db to a mysql:// URL');
    expect(sqlite.code).toBe(2);
  });

  it('lists the command in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.stdout).toMatch(/stack \[options\]\s+Run the whole chain on this machine/);
    expect((await runCli(['stack', '--help'])).stdout).toMatch(/--scale\s+run the config's scale: topology/);
  });
});
