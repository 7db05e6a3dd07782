/** `gpuwatch generate`: writing, the --check drift report, and exit codes. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { runGenerate } from './cli.js';
import { RULES_FILE } from './generate.js';
import { EXAMPLE_CONFIG, SMALL_LAYOUT, tempDirWith } from './testing/test-support.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe('runGenerate', () => {
  it('writes the files, then --check finds nothing to report', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-generate-'));
    const first = capture();
    expect(await runGenerate({ config: EXAMPLE_CONFIG, out: dir }, first.io)).toBe(0);
    expect(first.out.stdout).toContain(`wrote ${dir}/prometheus/rules.yml`);
    expect(first.out.stdout).toContain(`wrote ${dir}/grafana/`);
    const check = capture();
    expect(await runGenerate({ config: EXAMPLE_CONFIG, out: dir, check: true }, check.io)).toBe(0);
    expect(check.out.stdout).toBe('');
    const again = capture();
    expect(await runGenerate({ config: EXAMPLE_CONFIG, out: dir }, again.io)).toBe(0);
    expect(again.out.stdout).toBe('');
  });

  it('--check exits 1 with a diff of a hand edit, a missing file and a stale file, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-generate-'));
    await runGenerate({ config: EXAMPLE_CONFIG, out: dir }, capture().io);
    const rules = join(dir, RULES_FILE);
    const edited = (await readFile(rules, 'utf8')).replace('> 85', '> 95');
    await writeFile(rules, edited);
    await rm(join(dir, 'alertmanager/alertmanager.yml'));
    await writeFile(join(dir, 'prometheus/old-rules.yml'), 'groups: []\n');
    const { out, io } = capture();
    expect(await runGenerate({ config: EXAMPLE_CONFIG, out: dir, check: true }, io)).toBe(1);
    expect(out.stdout).toContain(`--- ${dir}/prometheus/rules.yml\n+++ prometheus/rules.yml (generated)\n@@ `);
    expect(out.stdout).toMatch(/\n-.*gpuwatch_gpu_temperature_celsius\) > 95\n\+.*gpuwatch_gpu_temperature_celsius\) > 85\n/);
    expect(out.stdout).toContain('--- /dev/null\n+++ alertmanager/alertmanager.yml (generated)');
    expect(out.stdout).toContain(`Only in ${dir}: prometheus/old-rules.yml (no longer generated; remove it)`);
    expect(out.stderr).toContain('(1 changed, 1 missing, 1 no longer generated)');
    expect(await readFile(rules, 'utf8')).toBe(edited);
  });

  it('throws the ConfigError for a bad config (the CLI exits 2 on it)', async () => {
    const dir = await tempDirWith({
      'layout.yaml': SMALL_LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - {name: c1, layout: layout.yaml}\npolicies:\n  gpuTemperature: {severity: 5}\n',
    });
    await expect(runGenerate({ config: join(dir, 'gpuwatch.yaml'), out: join(dir, 'out') }, capture().io)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('layouts with machines gpuwatch does not monitor', () => {
  const layout = (worker0: string, worker1: string) =>
    `machine-sku:\n  gpu8: {computing-device: {type: nvidia.com/gpu, count: 8}}\nmachine-list:\n` +
    `  - {hostname: w0, hostip: 10.0.0.1, machine-type: gpu8${worker0}}\n  - {hostname: w1, hostip: 10.0.0.2, machine-type: gpu8${worker1}}\n`;
  const config = 'clusters:\n  - {name: c1, layout: layout.yaml}\n';

  it('warns about a GPU machine without pai-worker: "true", naming the file and the machine', async () => {
    const dir = await tempDirWith({ 'layout.yaml': layout(', pai-worker: "true"', ''), 'gpuwatch.yaml': config });
    const { out, io } = capture();
    expect(await runGenerate({ config: join(dir, 'gpuwatch.yaml'), out: join(dir, 'out') }, io)).toBe(0);
    expect(out.stderr).toContain(`warning: ${join(dir, 'layout.yaml')}: machine-list[1] w1 (machine-type gpu8, 8 GPUs) has no pai-worker: "true"`);
  });

  it('refuses a layout without any worker', async () => {
    const dir = await tempDirWith({ 'layout.yaml': layout('', ''), 'gpuwatch.yaml': config });
    const run = runGenerate({ config: join(dir, 'gpuwatch.yaml'), out: join(dir, 'out') }, capture().io);
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(runGenerate({ config: join(dir, 'gpuwatch.yaml'), out: join(dir, 'out') }, capture().io)).rejects.toThrow(
      `${join(dir, 'layout.yaml')}: machine-list: no machine of cluster c1 has pai-worker: "true" (machines: w0, w1)`,
    );
  });
});

describe('gpuwatch generate (the real CLI)', () => {
  it('exits 2 naming file, line and field of a bad config, and 1 when --check finds drift', async () => {
    const dir = await tempDirWith({
      'layout.yaml': SMALL_LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - {name: c1, layout: layout.yaml}\npolicies:\n  nodeDown:\n    for: soon\n',
    });
    const bad = await runCli(['generate', '--config', join(dir, 'gpuwatch.yaml'), '--out', join(dir, 'out')]);
    expect(bad.stderr).toContain(`${join(dir, 'gpuwatch.yaml')}:5:10: policies.nodeDown.for: not a duration ("soon")`);
    expect(bad.code).toBe(2);
    const drift = await runCli(['generate', '--config', EXAMPLE_CONFIG, '--out', join(dir, 'empty'), '--check']);
    expect(drift.stdout).toContain('+++ prometheus/rules.yml (generated)');
    expect(drift.code).toBe(1);
  });
});
