/** The audit log: every acknowledgement, resolution and job-action step, with who did it. */
import type { RouterDb, RouterExecutor } from './db-schema.js';

export interface AuditRecord {
  id: number;
  at: number;
  actor: string;
  event: string;
  subject: string;
  detail: unknown;
}

export async function recordAudit(trx: RouterExecutor, at: number, actor: string, event: string, subject: string, detail: unknown = null): Promise<void> {
  await trx
    .insertInto('router_audit')
    .values({ at, actor: actor.slice(0, 255), event, subject: subject.slice(0, 512), detail: JSON.stringify(detail ?? null) })
    .execute();
}

/** Newest first. */
export async function readAudit(db: RouterDb, options: { subject?: string; event?: string; limit?: number } = {}): Promise<AuditRecord[]> {
  let query = db.selectFrom('router_audit').selectAll().orderBy('id', 'desc').limit(options.limit ?? 100);
  if (options.subject !== undefined) query = query.where('subject', '=', options.subject);
  if (options.event !== undefined) query = query.where('event', '=', options.event);
  const rows = await query.execute();
  return rows.map((r) => ({ id: Number(r.id), at: Number(r.at), actor: r.actor, event: r.event, subject: r.subject, detail: JSON.parse(r.detail) as unknown }));
}
