/** The audit trail: every rule change and every action, in SQL next to the rules. */
import { AuditLog, type AuditEntry, type AuditExecutor, type AuditRecord } from '../src/storage/audit.js';

export type { AuditEntry };

/** What the API answers: `at` as an ISO 8601 time, as it always has. */
export interface AuditAnswer extends Omit<AuditRecord, 'at'> {
  at: string;
}

const RULE_AUDIT = new AuditLog('rule_audit');

export async function recordAudit(db: AuditExecutor, entry: AuditEntry, now = new Date()): Promise<void> {
  await RULE_AUDIT.record(db, now.getTime(), entry);
}

/** Newest first. */
export async function readAudit(db: AuditExecutor, options: { subject?: string; limit?: number } = {}): Promise<AuditAnswer[]> {
  const records = await RULE_AUDIT.read(db, options);
  return records.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}
