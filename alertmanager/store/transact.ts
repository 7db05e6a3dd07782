/**
 * Transactions that survive the conflicts several replicas cause: a deadlock, a lost race on a unique
 * key (another replica opened the same incident first) or a busy SQLite file is retried from the
 * start, where the work then sees the other side's committed rows.
 */
import type { RouterDb, RouterTx } from './db-schema.js';

export type Dialect = 'sqlite' | 'mysql';

const CONFLICT_CODES = new Set([
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_DUP_ENTRY',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_CONSTRAINT_UNIQUE',
  'SQLITE_CONSTRAINT_PRIMARYKEY',
]);

export function isConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONFLICT_CODES.has(code);
}

/**
 * Runs `work` in a transaction, again from the start after a conflict. On MySQL it reads committed
 * data (no gap locks): a row another replica inserts meanwhile is a unique-key conflict to retry,
 * not a deadlock between two inserts into the same gap. SQLite ignores the level (it serialises
 * writers anyway).
 */
export async function inTransaction<T>(db: RouterDb, work: (trx: RouterTx) => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().setIsolationLevel('read committed').execute(work);
    } catch (err) {
      if (!isConflict(err) || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
  }
}

/** `SELECT … FOR UPDATE` where the dialect has it; SQLite already holds the whole file while writing. */
export function forUpdate<Q extends { forUpdate(): Q }>(query: Q, dialect: Dialect): Q {
  return dialect === 'mysql' ? query.forUpdate() : query;
}

/** `… FOR UPDATE SKIP LOCKED`: rows another replica is working on are passed over, not waited for. */
export function skipLocked<Q extends { forUpdate(): Q; skipLocked(): Q }>(query: Q, dialect: Dialect): Q {
  return dialect === 'mysql' ? query.forUpdate().skipLocked() : query;
}
