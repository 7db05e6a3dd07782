/**
 * The audit log of a component: who did what to which subject, when, with a JSON detail. Each
 * component keeps its own table (router_audit, rule_audit) of this one shape. `at` is epoch
 * milliseconds: the router's time columns are all epoch ms, and a number sorts and compares the
 * same way in SQLite and MySQL without parsing.
 */
import type { Generated, Kysely, Transaction } from 'kysely';

export interface AuditTable {
  id: Generated<number>;
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  event: string;
  subject: string;
  /** JSON of the detail. */
  detail: string;
}

export interface AuditEntry {
  actor: string;
  event: string;
  subject: string;
  detail?: unknown;
}

export interface AuditRecord extends Required<AuditEntry> {
  id: number;
  /** Epoch milliseconds. */
  at: number;
}

export interface AuditQuery {
  subject?: string;
  event?: string;
  /** Default 100. */
  limit?: number;
}

/** The column widths of every audit table (varchar(255) actor, varchar(512) subject). */
const ACTOR_LENGTH = 255;
const SUBJECT_LENGTH = 512;

/** Any component's database or transaction: the table is named at run time. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each component has its own schema; the audit table is typed through AuditDb below
export type AuditExecutor = Kysely<any> | Transaction<any>;

/** The one table, under a fixed alias, so that its columns are type-checked. */
type AuditDb = Kysely<{ audit: AuditTable }>;

/** One component's audit table. */
export class AuditLog {
  constructor(readonly table: string) {}

  private on(db: AuditExecutor): { db: AuditDb; table: 'audit' } {
    return { db: db as AuditDb, table: this.table as 'audit' };
  }

  /** Records one entry at `at` (epoch ms); an actor or subject longer than its column is cut to fit. */
  async record(executor: AuditExecutor, at: number, entry: AuditEntry): Promise<void> {
    const { db, table } = this.on(executor);
    await db
      .insertInto(table)
      .values({
        at,
        actor: entry.actor.slice(0, ACTOR_LENGTH),
        event: entry.event,
        subject: entry.subject.slice(0, SUBJECT_LENGTH),
        detail: JSON.stringify(entry.detail ?? null),
      })
      .execute();
  }

  /** Newest first. */
  async read(executor: AuditExecutor, query: AuditQuery = {}): Promise<AuditRecord[]> {
    const { db, table } = this.on(executor);
    let select = db
      .selectFrom(table)
      .selectAll()
      .orderBy('id', 'desc')
      .limit(query.limit ?? 100);
    if (query.subject !== undefined) select = select.where('subject', '=', query.subject);
    if (query.event !== undefined) select = select.where('event', '=', query.event);
    const rows = await select.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      actor: r.actor,
      event: r.event,
      subject: r.subject,
      detail: JSON.parse(r.detail) as unknown,
    }));
  }
}
