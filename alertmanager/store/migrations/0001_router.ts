/** 0001_router: the router's first schema. Applied on running installations: never change what it does. */
import type { Kysely, Migration } from 'kysely';

const time = 'bigint';

export const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await incidentsTable(db);
    await alertsTable(db);
    await eventsTable(db);
    await timersTable(db);
    await outboxTable(db);
    await auditTable(db);
    await actionsTable(db);
    await settingsTable(db);
  },
};

async function incidentsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_incidents')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('group_key', 'text', (c) => c.notNull())
    .addColumn('open_key', 'varchar(64)', (c) => c.unique())
    .addColumn('cluster', 'varchar(255)', (c) => c.notNull())
    .addColumn('alertname', 'varchar(255)', (c) => c.notNull())
    .addColumn('scope', 'varchar(16)', (c) => c.notNull())
    .addColumn('subject', 'varchar(512)', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('severity', 'integer', (c) => c.notNull())
    .addColumn('paged_severity', 'integer', (c) => c.notNull())
    .addColumn('cluster_priority', 'varchar(16)', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('opened_at', time, (c) => c.notNull())
    .addColumn('acknowledged_at', time)
    .addColumn('acknowledged_by', 'varchar(255)')
    .addColumn('resolved_at', time)
    .addColumn('resolved_by', 'varchar(255)')
    .addColumn('last_update_at', time)
    .addColumn('ack_due_at', time)
    .addColumn('update_due_at', time)
    .addColumn('escalation_tier', 'integer', (c) => c.notNull())
    .addColumn('postmortem', 'text')
    .execute();
  await db.schema.createIndex('router_incidents_status').on('router_incidents').columns(['status', 'opened_at']).execute();
}

async function alertsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_alerts')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('fingerprint', 'varchar(128)', (c) => c.notNull())
    .addColumn('episode', 'integer', (c) => c.notNull())
    .addColumn('open_key', 'varchar(128)', (c) => c.unique())
    .addColumn('incident_id', 'integer')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('severity', 'integer', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('annotations', 'text', (c) => c.notNull())
    .addColumn('starts_at', time, (c) => c.notNull())
    .addColumn('ends_at', time)
    .addColumn('first_seen_at', time, (c) => c.notNull())
    .addColumn('last_seen_at', time, (c) => c.notNull())
    .addColumn('resolved_by', 'varchar(255)')
    .addUniqueConstraint('router_alerts_episode', ['fingerprint', 'episode'])
    .execute();
  await db.schema.createIndex('router_alerts_incident').on('router_alerts').column('incident_id').execute();
}

async function eventsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_events')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('incident_id', 'integer', (c) => c.notNull())
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('actor', 'varchar(255)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('router_events_incident').on('router_events').columns(['incident_id', 'id']).execute();
}

async function timersTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_timers')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'varchar(191)', (c) => c.notNull().unique())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('due_at', time, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('fired_at', time)
    .execute();
  await db.schema.createIndex('router_timers_due').on('router_timers').columns(['status', 'due_at']).execute();
}

async function outboxTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_outbox')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('channel', 'varchar(32)', (c) => c.notNull())
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('incident_id', 'integer')
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', time, (c) => c.notNull())
    .addColumn('lease_owner', 'varchar(64)')
    .addColumn('lease_until', time)
    .addColumn('last_error', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('sent_at', time)
    .execute();
  await db.schema.createIndex('router_outbox_due').on('router_outbox').columns(['status', 'next_attempt_at']).execute();
}

async function auditTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_audit')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('actor', 'varchar(255)', (c) => c.notNull())
    .addColumn('event', 'varchar(64)', (c) => c.notNull())
    .addColumn('subject', 'varchar(512)', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
}

async function actionsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_actions')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('incident_id', 'integer', (c) => c.notNull())
    .addColumn('alert_id', 'integer', (c) => c.notNull().unique())
    .addColumn('job', 'varchar(512)', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('action', 'varchar(16)', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('grace_until', time, (c) => c.notNull())
    .addColumn('requested_at', time)
    .addColumn('finished_at', time)
    .addColumn('result', 'text')
    .execute();
  await db.schema.createIndex('router_actions_requested').on('router_actions').column('requested_at').execute();
}

async function settingsTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('router_settings')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}
