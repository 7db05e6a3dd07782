/** The router's audit log: every acknowledgement, resolution and job-action step, with who did it. */
import { AuditLog, type AuditQuery, type AuditRecord } from '../../src/storage/audit.js';
import type { RouterDb, RouterExecutor } from './db-schema.js';

export type { AuditRecord };

const ROUTER_AUDIT = new AuditLog('router_audit');

export async function recordAudit(trx: RouterExecutor, at: number, actor: string, event: string, subject: string, detail: unknown = null): Promise<void> {
  await ROUTER_AUDIT.record(trx, at, { actor, event, subject, detail });
}

/** Newest first. */
export function readAudit(db: RouterDb, query: AuditQuery = {}): Promise<AuditRecord[]> {
  return ROUTER_AUDIT.read(db, query);
}
