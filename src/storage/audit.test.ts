import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditTable } from './audit.js';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from './testing/throwaway-mysql.js';

interface NotesAuditDb {
  notes_audit: AuditTable;
}

const migrations = {
  tableName: 'notes_audit_migrations',
  migrations: {
    '0001_notes_audit': {
      up: async (db: Kysely<any>) => {
        await db.schema
          .createTable('notes_audit')
          .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'varchar(255)', (c) => c.notNull())
          .addColumn('event', 'varchar(64)', (c) => c.notNull())
          .addColumn('subject', 'varchar(512)', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
      },
    },
  },
};

describe.each([
  ['sqlite', async () => ({ url: 'sqlite::memory:', drop: async () => undefined })],
  ['mysql (MariaDB on 127.0.0.1)', async (): Promise<Pick<ThrowawayDatabase, 'url' | 'drop'>> => createThrowawayMysqlDatabase()],
])('an audit log on %s', (_name, create) => {
  const log = new AuditLog('notes_audit');
  let target: Pick<ThrowawayDatabase, 'url' | 'drop'>;
  let opened: ReturnType<typeof openDatabase<NotesAuditDb>>;

  beforeAll(async () => {
    target = await create();
    opened = openDatabase<NotesAuditDb>(target.url);
    await migrateToLatest(opened.db as Kysely<unknown>, migrations);
  });

  afterAll(async () => {
    await opened?.close();
    await target?.drop();
  });

  it('reads back what it recorded, newest first, with epoch-ms times and the JSON detail', async () => {
    await log.record(opened.db, 1_700_000_000_123, { actor: 'ana', event: 'note.create', subject: 'note:1', detail: { words: 3 } });
    await opened.db.transaction().execute((trx) => log.record(trx, 1_700_000_000_456, { actor: 'bo', event: 'note.delete', subject: 'note:1' }));
    await log.record(opened.db, 1_700_000_000_789, { actor: 'ana', event: 'note.create', subject: 'note:2' });
    const all = await log.read(opened.db);
    expect(all.map((r) => [r.at, r.actor, r.event, r.subject, r.detail])).toEqual([
      [1_700_000_000_789, 'ana', 'note.create', 'note:2', null],
      [1_700_000_000_456, 'bo', 'note.delete', 'note:1', null],
      [1_700_000_000_123, 'ana', 'note.create', 'note:1', { words: 3 }],
    ]);
    expect(all[0]!.id).toBeGreaterThan(all[1]!.id);
  });

  it('filters by subject and event and honours the limit', async () => {
    expect((await log.read(opened.db, { subject: 'note:1' })).map((r) => r.event)).toEqual(['note.delete', 'note.create']);
    expect((await log.read(opened.db, { event: 'note.create', limit: 1 })).map((r) => r.subject)).toEqual(['note:2']);
  });

  it('cuts an actor or subject longer than its column instead of failing the write', async () => {
    await log.record(opened.db, 1, { actor: 'a'.repeat(300), event: 'note.long', subject: 's'.repeat(600) });
    const [entry] = await log.read(opened.db, { event: 'note.long' });
    expect(entry?.actor).toHaveLength(255);
    expect(entry?.subject).toHaveLength(512);
  });
});
