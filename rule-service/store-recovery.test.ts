/**
 * The rule store heals itself: a SQLite file damaged and then restored from a backup, and a
 * MariaDB database dropped and created again empty, are both back in use without a restart.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createThrowawayMysqlDatabase } from '../src/storage/testing/throwaway-mysql.js';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, loadSeed, SEED_RULES_YAML, startTestService } from '../test/rule-service-support.js';

const admit = (service: RunningRuleService) => http(`${service.url}/api/v1/admission`, { body: { user: 'alice', priority: 'prod', gpus: 4, held: {} } });

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 8_000): Promise<T> {
  const until = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    value = await probe();
  }
  return value;
}

describe('store recovery', () => {
  it('SQLite: a file replaced while the service runs (damaged, then restored from a backup) is opened again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-recovery-'));
    const file = join(dir, 'rules.db');
    const backup = join(dir, 'backup.db');
    const service = await startTestService({ db: `sqlite://${file}`, storeRetryMs: 200, healthIntervalMs: 200 });
    try {
      await loadSeed(service);
      await sql`vacuum into ${backup}`.execute(service.db);
      // A rule added after the backup: once the backup is restored it must be gone.
      await http(`${service.url}/api/v1/rules`, { body: { user: '^alice$', result: 'fail', description: 'added after the backup' }, token: API_TOKEN });
      expect((await admit(service)).json).toMatchObject({ result: 'fail', reasons: ['added after the backup'] });

      const garbage = join(dir, 'garbage.db');
      await writeFile(garbage, Buffer.alloc(64 * 1024, 0x5a));
      await rename(garbage, file);
      await rm(`${file}-wal`, { force: true });
      await rm(`${file}-shm`, { force: true });
      const broken = await eventually(
        () => admit(service),
        (a) => a.json.store === 'unavailable',
      );
      expect(broken.json).toMatchObject({ result: 'retain', store: 'unavailable' });

      await rename(backup, file);
      const back = await eventually(
        () => admit(service),
        (a) => a.json.store === 'ok',
      );
      expect(back.json).toMatchObject({ result: 'oppo', reasons: ['ordinary users may only submit oppo jobs'], store: 'ok' });
      expect((await http(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('MariaDB: a database dropped and created again empty gets its schema back, without a restart', async () => {
    const db = await createThrowawayMysqlDatabase();
    const service = await startTestService({ db: db.url, storeRetryMs: 200, healthIntervalMs: 200 });
    try {
      await loadSeed(service);
      expect((await admit(service)).json).toMatchObject({ result: 'oppo', store: 'ok' });
      await sql`drop database ${sql.id(db.name)}`.execute(service.db);
      await sql`create database ${sql.id(db.name)} character set utf8mb4 collate utf8mb4_bin`.execute(service.db);

      const back = await eventually(
        () => admit(service),
        (a) => a.json.store === 'ok' && a.json.result === 'retain',
      );
      // The recreated database is empty: no rules, so the job is kept, and the store is healthy.
      expect(back.json).toMatchObject({ result: 'retain', matched: [], store: 'ok' });
      const reloaded = await http(`${service.url}/api/v1/rules`, {
        method: 'PUT',
        token: API_TOKEN,
        headers: { 'content-type': 'text/yaml' },
        body: SEED_RULES_YAML,
      });
      expect(reloaded.status).toBe(200);
      expect((await admit(service)).json).toMatchObject({ result: 'oppo', store: 'ok' });
    } finally {
      await service.close();
      await db.drop();
    }
  });
});
