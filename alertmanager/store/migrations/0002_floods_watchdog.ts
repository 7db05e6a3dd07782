import type { Kysely, Migration } from 'kysely';

/** Truncated Alertmanager groups, the page limit per receiver, and the dead man's switch. */
export const floodsAndWatchdog: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('router_incidents')
      .addColumn('hidden_alerts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('router_page_counts')
      .addColumn('receiver', 'varchar(255)', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('sent', 'integer', (c) => c.notNull())
      .addColumn('held', 'integer', (c) => c.notNull())
      .addColumn('held_incidents', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('router_page_counts_pk', ['receiver', 'window_start'])
      .execute();
    await db.schema
      .createTable('router_watchdogs')
      .addColumn('cluster', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('silent_since', 'bigint')
      .execute();
  },
};
