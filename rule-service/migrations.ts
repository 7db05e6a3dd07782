/** The rule service's schema, as migrations run at start (SQLite and MySQL alike). */
import type { Kysely, Migration } from 'kysely';
import { MigrationError, type MigrationSet } from '../src/storage/migrate.js';

const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('rules')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('user', 'text', (c) => c.notNull())
      .addColumn('vc', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('requested', 'text', (c) => c.notNull())
      .addColumn('occupied', 'text', (c) => c.notNull())
      .addColumn('occupied_high', 'text', (c) => c.notNull())
      .addColumn('result', 'varchar(16)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('rule_revision')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('rule_revision').values({ id: 1, revision: 0 }).execute();
    await db.schema
      .createTable('rule_actions')
      .ifNotExists()
      .addColumn('idempotency_key', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('job', 'varchar(512)', (c) => c.notNull())
      .addColumn('action', 'varchar(16)', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('http_status', 'integer', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('rule_audit')
      .ifNotExists()
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)', (c) => c.notNull())
      .addColumn('event', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'varchar(512)', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rule_audit_subject').ifNotExists().on('rule_audit').column('subject').execute();
  },
};

const COPY_BATCH = 500;

/** Epoch ms of an ISO time written by 0001's rows; a row that holds anything else stops the migration. */
function epochMsOf(row: { id: number; at: string }): number {
  const ms = Date.parse(row.at);
  if (Number.isNaN(ms)) throw new MigrationError(`rule_audit row ${row.id}: "at" is not an ISO time ("${row.at}")`);
  return ms;
}

/**
 * The audit log's `at` as epoch ms (bigint), the router's representation: rebuilt into a new
 * table (SQLite cannot change a column's type), rows copied with their ids, then renamed.
 */
const auditAtEpochMs: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('rule_audit_epoch_ms')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'varchar(255)', (c) => c.notNull())
      .addColumn('event', 'varchar(64)', (c) => c.notNull())
      .addColumn('subject', 'varchar(512)', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    for (let after = 0; ;) {
      const rows = await db.selectFrom('rule_audit').selectAll().where('id', '>', after).orderBy('id').limit(COPY_BATCH).execute();
      if (rows.length === 0) break;
      await db
        .insertInto('rule_audit_epoch_ms')
        .values(rows.map((r) => ({ ...r, id: Number(r.id), at: epochMsOf({ id: Number(r.id), at: String(r.at) }) })))
        .execute();
      after = Number(rows.at(-1)?.id);
    }
    await db.schema.dropTable('rule_audit').execute();
    await db.schema.alterTable('rule_audit_epoch_ms').renameTo('rule_audit').execute();
    await db.schema.createIndex('rule_audit_subject').on('rule_audit').column('subject').execute();
  },
};

export const RULE_SERVICE_MIGRATIONS: MigrationSet = {
  tableName: 'rule_service_migrations',
  migrations: { '0001_rules_actions_audit': initial, '0002_audit_at_epoch_ms': auditAtEpochMs },
};
