import type { Kysely, Migration } from 'kysely';

/**
 * Renewals and reminders of job actions: the policy an action runs under (`default` or
 * `notebook`), the renewals the owner used and the time they added, and the reminder mails queued
 * and delivered. Rows from before it ran under the default policy with nothing used.
 */
export const actionRenewal: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    // One statement per column: SQLite's ALTER TABLE adds one column at a time.
    const columns: [string, 'varchar(16)' | 'integer' | 'bigint', string | number][] = [
      ['policy', 'varchar(16)', 'default'],
      ['renewals', 'integer', 0],
      ['renewed_ms', 'bigint', 0],
      ['reminders_sent', 'integer', 0],
      ['reminders_delivered', 'integer', 0],
    ];
    for (const [name, type, fallback] of columns) {
      await db.schema
        .alterTable('router_actions')
        .addColumn(name, type, (c) => c.notNull().defaultTo(fallback))
        .execute();
    }
  },
};
