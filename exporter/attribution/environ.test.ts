import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPaiIdentity, parseEnviron, readEnviron } from './environ.js';

/** /proc/<pid>/environ as the kernel writes it: NUL after every entry. */
const environ = (...entries: string[]): Buffer => Buffer.from(entries.map((e) => `${e}\0`).join(''));

describe('parseEnviron', () => {
  it('splits NUL-separated entries at the first `=`', () => {
    const env = parseEnviron(environ('PATH=/usr/bin:/bin', 'OPTS=a=b=c', 'EMPTY=', 'HOME=/root'));
    expect([...env]).toEqual([
      ['PATH', '/usr/bin:/bin'],
      ['OPTS', 'a=b=c'],
      ['EMPTY', ''],
      ['HOME', '/root'],
    ]);
  });

  it('skips entries without a name and keeps the first of duplicate keys', () => {
    const env = parseEnviron(environ('=oops', 'no-equals-sign', 'A=1', 'A=2'));
    expect([...env]).toEqual([['A', '1']]);
  });

  it('reads an empty environment (kernel threads, zombies)', () => {
    expect(parseEnviron(Buffer.alloc(0)).size).toBe(0);
  });

  it('keeps UTF-8 values', () => {
    expect(parseEnviron(environ('PAI_USER_NAME=zhāng')).get('PAI_USER_NAME')).toBe('zhāng');
  });
});

const env = (vars: Record<string, string>): Map<string, string> => new Map(Object.entries(vars));

describe('openPaiIdentity', () => {
  it('takes the `user~job` id of current OpenPAI releases', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'alice~resnet50-bs256', PAI_USER_NAME: 'alice', PAI_VIRTUAL_CLUSTER: 'default' }))).toEqual({
      job: 'alice~resnet50-bs256',
      user: 'alice',
      vc: 'default',
    });
  });

  it('builds `user~job` for older releases that set the bare job name', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'bert-pretrain', PAI_USER_NAME: 'bob', PAI_VIRTUAL_CLUSTER: 'nlp' }))).toEqual({
      job: 'bob~bert-pretrain',
      user: 'bob',
      vc: 'nlp',
    });
  });

  it('takes the user from the job id when PAI_USER_NAME is missing', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'carol~sweep-7' }))).toEqual({ job: 'carol~sweep-7', user: 'carol' });
  });

  it('keeps a bare job name when no user is known', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'orphan' }))).toEqual({ job: 'orphan' });
  });

  it('reads the optional priority', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'dan~j', PAI_JOB_PRIORITY: 'prod' }))?.priority).toBe('prod');
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'dan~j' }))).not.toHaveProperty('priority');
  });

  it('treats empty values as absent', () => {
    expect(openPaiIdentity(env({ PAI_JOB_NAME: '  ' }))).toBeUndefined();
    expect(openPaiIdentity(env({ PAI_JOB_NAME: 'erin~j', PAI_VIRTUAL_CLUSTER: '', PAI_USER_NAME: '' }))).toEqual({
      job: 'erin~j',
      user: 'erin',
    });
  });

  it('is undefined outside OpenPAI', () => {
    expect(openPaiIdentity(env({ PATH: '/bin', HOSTNAME: 'trainer-0' }))).toBeUndefined();
  });
});

describe('readEnviron', () => {
  const root = mkdtempSync(join(tmpdir(), 'gpuwatch-environ-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads <procRoot>/<pid>/environ', async () => {
    mkdirSync(join(root, '42'));
    writeFileSync(join(root, '42', 'environ'), environ('PAI_JOB_NAME=f~g'));
    expect((await readEnviron(root, 42))?.get('PAI_JOB_NAME')).toBe('f~g');
  });

  it('is undefined, without throwing, for a process that exited', async () => {
    await expect(readEnviron(root, 999999)).resolves.toBeUndefined();
  });

  it('is undefined, without throwing, when the file cannot be read', async () => {
    // A directory in place of the file fails with EISDIR, as an unreadable file fails with EACCES.
    mkdirSync(join(root, '43', 'environ'), { recursive: true });
    await expect(readEnviron(root, 43)).resolves.toBeUndefined();
  });
});
