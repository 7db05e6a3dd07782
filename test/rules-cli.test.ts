import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

describe('gpuwatch rules check (the real CLI)', () => {
  it('prints one JSON line with the decision on the seed table', async () => {
    const { code, stdout } = await runCli(['rules', 'check', '--rules', 'examples/rules.yaml', '--user', 'alice', '--priority', 'prod', '--gpus', '21']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(stdout)).toEqual({
      result: 'fail',
      priority: 'oppo',
      reasons: ['ordinary users may only submit oppo jobs', 'more than 20 GPUs will fail'],
      matched: [4, 3],
    });
  });

  it('exits 2 on bad input and says what was wrong', async () => {
    const { code, stderr } = await runCli(['rules', 'check', '--rules', 'examples/rules.yaml', '--user', 'alice', '--priority', 'urgent', '--gpus', '1']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/urgent/);
  });
});
