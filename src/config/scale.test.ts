/** The `scale:` section: its defaults, and an error naming the field for each kind of bad value. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { ConfigError } from './yaml-file.js';

const LAYOUT = `machine-sku:
  gpu8:
    computing-device: {type: nvidia.com/gpu, model: H100, count: 8}
machine-list:
  - {hostname: w0, hostip: 10.0.0.1, machine-type: gpu8, pai-worker: "true"}
`;

async function load(scale: string) {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-scale-config-'));
  await writeFile(join(dir, 'layout.yaml'), LAYOUT);
  await writeFile(join(dir, 'gpuwatch.yaml'), `clusters:\n  - {name: c1, layout: layout.yaml}\n${scale}`);
  return loadConfig(join(dir, 'gpuwatch.yaml'));
}

async function errorOf(scale: string): Promise<string> {
  const err = await load(scale).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).message;
}

describe('the scale section', () => {
  it('is absent unless written, and defaults to one Prometheus shard, one router and the stack Alertmanager', async () => {
    expect((await load('')).config.scale).toBeUndefined();
    expect((await load('scale: {}\n')).config.scale).toEqual({
      engine: 'prometheus',
      shards: 1,
      alertmanagers: ['http://127.0.0.1:9093'],
      routers: 1,
      listenHost: '127.0.0.1',
      basePort: 19500,
    });
  });

  it('takes every field', async () => {
    const { scale } = (await load('scale: {engine: victoriametrics, shards: 4, routers: 2, alertmanagers: [http://a:9093, https://b/am], basePort: 30000}\n'))
      .config;
    expect(scale).toMatchObject({ engine: 'victoriametrics', shards: 4, routers: 2, alertmanagers: ['http://a:9093', 'https://b/am'], basePort: 30000 });
  });

  it.each([
    ['scale: {shards: 0}\n', 'scale.shards: at least 1 shard'],
    ['scale: {shards: 1.5}\n', 'scale.shards: expected a whole number of shards'],
    ['scale: {shards: two}\n', 'scale.shards: expected a whole number of shards, at least 1'],
    ['scale: {routers: 0}\n', 'scale.routers: at least 1 router'],
    ['scale: {engine: thanos}\n', 'scale.engine: expected one of prometheus, victoriametrics'],
    ['scale: {alertmanagers: []}\n', 'scale.alertmanagers: list at least one Alertmanager URL'],
    ['scale: {alertmanagers: [ftp://a:9093]}\n', 'scale.alertmanagers.0: expected an http:// or https:// URL'],
    ['scale: {alertmanagers: [http://a:9093, http://a:9093]}\n', 'scale.alertmanagers: Alertmanager URLs must be unique'],
    ['scale: {shards: 100, basePort: 65500}\n', 'scale.basePort: the topology needs 105 ports from 65500, past 65535; lower basePort'],
    ['scale: {shard: 2}\n', 'scale.shard: unknown key `shard` — did you mean `shards`?'],
  ])('rejects %j', async (scale, message) => {
    expect(await errorOf(scale)).toContain(message);
  });
});
