import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretReader } from './secret-file.js';
import { ConfigError } from './yaml-file.js';

describe('secretReader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gpuwatch-secret-'));
    await writeFile(join(dir, 'token'), '  s3cret\n');
    await writeFile(join(dir, 'empty'), '\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const secret = () => secretReader({ base: dir, source: 'gpuwatch.yaml', section: 'router' });

  it('gives the inline value without a file, and the trimmed file relative to the base otherwise', async () => {
    expect(await secret()('inline', undefined, 'apiTokenFile')).toBe('inline');
    expect(await secret()(undefined, undefined, 'apiTokenFile')).toBeUndefined();
    expect(await secret()(undefined, 'token', 'apiTokenFile')).toBe('s3cret');
  });

  it('names the config file, the field and the path of a missing or empty file', async () => {
    const missing = await secret()(undefined, 'nope', 'web.users.0.tokenFile').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).message).toBe(`gpuwatch.yaml: router.web.users.0.tokenFile: ${join(dir, 'nope')}: file not found`);
    expect((missing as ConfigError).problems).toEqual([
      { file: 'gpuwatch.yaml', field: 'router.web.users.0.tokenFile', message: `${join(dir, 'nope')}: file not found` },
    ]);
    await expect(secret()(undefined, 'empty', 'apiTokenFile')).rejects.toThrow(`gpuwatch.yaml: router.apiTokenFile: ${join(dir, 'empty')}: the file is empty`);
  });
});
