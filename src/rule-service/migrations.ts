/** The rule service's schema, as migrations run at start (SQLite and MySQL alike). */
import type { Kysely, Migration } from 'kysely';
import type { MigrationSet } from '../storage/migrate.js';

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

export const RULE_SERVICE_MIGRATIONS: MigrationSet = {
  tableName: 'rule_service_migrations',
  migrations: { '0001_rules_actions_audit': initial },
};
