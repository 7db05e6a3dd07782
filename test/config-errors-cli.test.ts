/** Config mistakes as a user meets them: the real CLI on files with a YAML syntax error or a mistyped key. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';

async function generateWith(config: string) {
  const dir = await tempDirWith({ 'layout.yaml': SMALL_LAYOUT, 'gpuwatch.yaml': config });
  const file = join(dir, 'gpuwatch.yaml');
  return { file, result: await runCli(['generate', '--config', file, '--out', join(dir, 'out')]) };
}

const syntaxLines = (stderr: string) => stderr.split('\n').filter((l) => l.includes('YAML syntax'));

describe('a YAML syntax error in gpuwatch.yaml (the real CLI)', () => {
  it('is reported once, where it is, not again for every line that follows', async () => {
    const { file, result } = await generateWith(
      'clusters:\n  - name: lab\n    layout: layout.yaml\npolicies:\n  jobLowUtilization:\n    threshold: 0.1\n   for: 30m\n    window: 1h\n    exempt:\n      users: [admin]\n',
    );
    expect(syntaxLines(result.stderr)).toEqual([`${file}:7:4: (top level): YAML syntax: All mapping items must start at the same column`]);
    expect(result.code).toBe(2);
  });

  it('points at the opening quote of an unterminated string', async () => {
    const { file, result } = await generateWith('clusters:\n  - name: "lab\n    layout: layout.yaml\npolicies: {}\n');
    expect(syntaxLines(result.stderr)).toEqual([`${file}:2:11: (top level): YAML syntax: Missing closing "quote`]);
    expect(result.code).toBe(2);
  });

  it('points at the bracket of an unclosed flow sequence', async () => {
    const { file, result } = await generateWith('clusters:\n  - name: lab\n    layout: layout.yaml\nalertmanager:\n  groupBy: [cluster, alertname\n');
    expect(syntaxLines(result.stderr)).toHaveLength(1);
    expect(syntaxLines(result.stderr)[0]).toMatch(new RegExp(`^${file}:5:12: \\(top level\\): YAML syntax: Flow sequence .* end with a \\]$`));
    expect(result.code).toBe(2);
  });
});

describe('an unknown key in gpuwatch.yaml (the real CLI)', () => {
  it('names the key, where it is, and the nearest known key', async () => {
    const { file, result } = await generateWith(
      'clusters:\n  - name: lab\n    layout: layout.yaml\npolicies:\n  gpuTemperature:\n    treshold: 85\nexporter:\n  intervall: 5s\n',
    );
    expect(result.stderr).toContain(`${file}:6:5: policies.gpuTemperature.treshold: unknown key \`treshold\` — did you mean \`threshold\`?`);
    expect(result.stderr).toContain(`${file}:8:3: exporter.intervall: unknown key \`intervall\` — did you mean \`interval\`?`);
    expect(result.code).toBe(2);
  });

  it('suggests a key inside a list item, and nothing when no known key is close', async () => {
    const { file, result } = await generateWith('clusters:\n  - name: lab\n    layuot: layout.yaml\n    colour: red\n');
    expect(result.stderr).toContain(`${file}:3:5: clusters.0.layuot: unknown key \`layuot\` — did you mean \`layout\`?`);
    expect(result.stderr).toContain(`${file}:4:5: clusters.0.colour: unknown key \`colour\`\n`);
    expect(result.code).toBe(2);
  });
});
