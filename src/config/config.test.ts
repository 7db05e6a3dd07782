import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';
import { loadConfig } from './load.js';
import { ConfigError } from './yaml-file.js';

const EXAMPLE = new URL('../../examples/gpuwatch.yaml', import.meta.url).pathname;

async function configIn(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-config-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return join(dir, 'gpuwatch.yaml');
}

const LAYOUT = `machine-sku:
  gpu8:
    computing-device: {type: nvidia.com/gpu, model: H100, count: 8}
machine-list:
  - {hostname: w0, hostip: 10.0.0.1, machine-type: gpu8, pai-worker: "true"}
`;

async function errorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('durations', () => {
  it('parses and formats Prometheus durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('ten')).toBeUndefined();
    expect(parseDuration('5 m')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});

describe('loadConfig', () => {
  it('loads the example cluster with its layout', async () => {
    const { config, clusters } = await loadConfig(EXAMPLE);
    expect(config.clusters[0]?.name).toBe('pai-small');
    const nodes = clusters[0]?.layoutData.nodes ?? [];
    expect(nodes.map((n) => [n.hostname, n.expectedGpus])).toEqual([
      ['pai-master', 0],
      ['pai-worker-0', 8],
      ['pai-worker-1', 8],
      ['pai-worker-2', 4],
    ]);
    expect(config.exporter.podResourcesRefresh).toBe('10s');
  });

  it('names file, line and field of an unknown field', async () => {
    const file = await configIn({
      'layout.yaml': LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - name: c1\n    layout: layout.yaml\nexporter:\n  intervall: 5s\n',
    });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toContain(`${file}:5:3: exporter.intervall: unknown key \`intervall\` — did you mean \`interval\`?`);
  });

  it('names file, line and field of a bad duration', async () => {
    const file = await configIn({
      'layout.yaml': LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - name: c1\n    layout: layout.yaml\nexporter:\n  interval: ten\n',
    });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toBe(`${file}:5:13: exporter.interval: not a duration ("ten"); use e.g. 30s, 5m, 1h`);
  });

  it('reports a missing layout file by its resolved path', async () => {
    const file = await configIn({ 'gpuwatch.yaml': 'clusters:\n  - name: c1\n    layout: nowhere.yaml\n' });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toMatch(/nowhere\.yaml: file not found$/);
  });

  it('reports a layout machine-type that no SKU defines, with its line', async () => {
    const file = await configIn({
      'layout.yaml': LAYOUT.replace('machine-type: gpu8', 'machine-type: gpu16'),
      'gpuwatch.yaml': 'clusters:\n  - name: c1\n    layout: layout.yaml\n',
    });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toMatch(/layout\.yaml:5:\d+: machine-list\.0\.machine-type: unknown machine-type "gpu16"/);
  });

  it('reports YAML syntax errors with their position', async () => {
    const file = await configIn({ 'gpuwatch.yaml': 'clusters:\n  - name: [c1\n' });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toMatch(/gpuwatch\.yaml:\d+:\d+: \(top level\): YAML syntax/);
  });

  it('rejects duplicate cluster names', async () => {
    const file = await configIn({
      'layout.yaml': LAYOUT,
      'gpuwatch.yaml': 'clusters:\n  - {name: c1, layout: layout.yaml}\n  - {name: c1, layout: layout.yaml}\n',
    });
    const err = await errorOf(loadConfig(file));
    expect(err.message).toContain('clusters: cluster names must be unique');
  });
});
