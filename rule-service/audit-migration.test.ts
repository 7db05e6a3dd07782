/** The rule service's audit rows written before `at` became epoch ms read back the same after the migration. */
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/storage/database.js';
import { migrateToLatest, MigrationError } from '../src/storage/migrate.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import { readAudit, recordAudit } from './audit.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';

const FIRST_ONLY = { ...RULE_SERVICE_MIGRATIONS, migrations: { '0001_rules_actions_audit': RULE_SERVICE_MIGRATIONS.migrations['0001_rules_actions_audit']! } };

/** Rows as the rule service wrote them with 0001's schema: `at` an ISO string. */
const OLD_ROWS = [
  { at: '2026-11-30T08:15:00.000Z', actor: 'cli', event: 'rules.import', subject: 'rules', detail: '{"mode":"replace","count":2}' },
  { at: '2026-11-30T09:00:00.250Z', actor: 'api', event: 'action.kill', subject: 'bob~idle', detail: '{"status":"done"}' },
];

describe.each([
  ['sqlite', async () => ({ url: 'sqlite::memory:', drop: async () => undefined })],
  ['mysql (MariaDB on 127.0.0.1)', async (): Promise<Pick<ThrowawayDatabase, 'url' | 'drop'>> => createThrowawayMysqlDatabase()],
])('the audit migration on %s', (_name, create) => {
  let target: Pick<ThrowawayDatabase, 'url' | 'drop'> | undefined;
  let opened: ReturnType<typeof openDatabase<any>> | undefined;

  const openAtFirstMigration = async () => {
    target = await create();
    opened = openDatabase<any>(target.url);
    await migrateToLatest(opened.db as Kysely<unknown>, FIRST_ONLY);
    return opened.db as Kysely<any>;
  };

  afterEach(async () => {
    await opened?.close();
    await target?.drop();
  });

  it('keeps every old entry, its id and its time, and new entries follow', async () => {
    const db = await openAtFirstMigration();
    await db.insertInto('rule_audit').values(OLD_ROWS).execute();
    const ids = (await db.selectFrom('rule_audit').select(['id']).orderBy('id').execute()).map((r) => Number(r.id));
    const before = OLD_ROWS.map((row, i) => ({ ...row, id: ids[i]!, detail: JSON.parse(row.detail) as unknown })).reverse();

    expect(await migrateToLatest(db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS)).toEqual(['0002_audit_at_epoch_ms']);
    expect(await readAudit(db)).toEqual(before);
    const raw = await db.selectFrom('rule_audit').select(['at']).orderBy('id').execute();
    expect(raw.map((r) => Number(r.at))).toEqual([Date.parse(OLD_ROWS[0]!.at), Date.parse(OLD_ROWS[1]!.at)]);

    await recordAudit(db, { actor: 'api', event: 'rule.create', subject: 'rule:7', detail: { id: 7 } }, new Date('2026-12-01T10:00:00.000Z'));
    const [newest] = await readAudit(db, { limit: 1 });
    expect(newest).toMatchObject({ at: '2026-12-01T10:00:00.000Z', subject: 'rule:7', detail: { id: 7 } });
    expect(newest!.id).toBeGreaterThan(before[0]!.id);
    expect((await readAudit(db, { subject: 'bob~idle' })).map((e) => e.event)).toEqual(['action.kill']);
  });

  it('stops, naming the row, at an old time it cannot read', async () => {
    const db = await openAtFirstMigration();
    await db
      .insertInto('rule_audit')
      .values({ ...OLD_ROWS[0]!, at: 'yesterday' })
      .execute();
    const migrating = migrateToLatest(db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS);
    await expect(migrating).rejects.toThrow(MigrationError);
    await expect(migrating).rejects.toThrow(/rule_audit row 1: "at" is not an ISO time \("yesterday"\)/);
  });
});
