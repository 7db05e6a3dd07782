/** The audit trail: every rule change and every action, in SQL next to the rules. */
import type { Kysely, Transaction } from 'kysely';
import type { RuleServiceDatabase } from './db-schema.js';

export interface AuditEntry {
  actor: string;
  event: string;
  subject: string;
  detail: unknown;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
}

export async function recordAudit(db: Kysely<RuleServiceDatabase> | Transaction<RuleServiceDatabase>, entry: AuditEntry, now = new Date()): Promise<void> {
  await db
    .insertInto('rule_audit')
    .values({ at: now.toISOString(), actor: entry.actor, event: entry.event, subject: entry.subject, detail: JSON.stringify(entry.detail ?? null) })
    .execute();
}

/** Newest first. */
export async function readAudit(db: Kysely<RuleServiceDatabase>, options: { subject?: string; limit?: number } = {}): Promise<AuditRecord[]> {
  let query = db.selectFrom('rule_audit').selectAll().orderBy('id', 'desc').limit(options.limit ?? 100);
  if (options.subject !== undefined) query = query.where('subject', '=', options.subject);
  const rows = await query.execute();
  return rows.map((r) => ({ id: Number(r.id), at: r.at, actor: r.actor, event: r.event, subject: r.subject, detail: JSON.parse(r.detail) as unknown }));
}
