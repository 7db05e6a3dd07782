/** The rule service's tables, as kysely sees them. */
import type { Generated } from 'kysely';
import type { AuditTable } from '../src/storage/audit.js';

export interface RulesTable {
  /** Auto-increment; matching walks from the highest id down. */
  id: Generated<number>;
  user: string;
  vc: string;
  priority: string;
  requested: string;
  occupied: string;
  occupied_high: string;
  result: string;
  description: string;
  updated_at: string;
}

/** One row (id 1) whose revision goes up with every change made through the service or CLI. */
export interface RuleRevisionTable {
  id: number;
  revision: number;
}

export interface ActionsTable {
  idempotency_key: string;
  job: string;
  action: string;
  reason: string;
  /** pending | done | failed | refused */
  status: string;
  /** The HTTP status the caller got, replayed for the same key. */
  http_status: number;
  /** JSON of the answer the caller got. */
  outcome: string;
  created_at: string;
  updated_at: string;
}

export interface RuleServiceDatabase {
  rules: RulesTable;
  rule_revision: RuleRevisionTable;
  rule_actions: ActionsTable;
  /** actor: `api`, `cli` or the service; event: rule.create, …, action.kill; subject: a rule id or a job id. */
  rule_audit: AuditTable;
}
