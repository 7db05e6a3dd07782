import type { Kysely, Migration } from 'kysely';

/** What an action is for (the rule service confirms it before acting); rows from before it were all low utilization. */
export const actionCause: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('router_actions')
      .addColumn('cause', 'varchar(32)', (c) => c.notNull().defaultTo('low-utilization'))
      .execute();
  },
};
