/**
 * Durable timers: rows in router_timers, polled by every replica. A timer fires inside the same
 * transaction as everything its handler writes (messages go to the outbox, not straight out), and
 * is marked done only if its version is still the one that was claimed — so a timer rescheduled or
 * cancelled meanwhile, a second replica, or a restart after `kill -9` never makes it fire twice, and
 * a crash before the commit leaves it pending to fire after the restart.
 */
import type { Selectable } from 'kysely';
import type { Logger } from '../../src/log.js';
import type { Clock } from '../clock.js';
import type { RouterDb, RouterExecutor, RouterTx, TimersTable } from '../store/db-schema.js';
import { forUpdate, inTransaction, skipLocked, type Dialect } from '../store/transact.js';

export interface Timer {
  id: number;
  name: string;
  kind: string;
  dueAt: number;
  version: number;
  payload: unknown;
}

/** What a handler gets: the timer, and a way to keep it pending for a later moment (a repeating reminder). */
export interface TimerFiring {
  timer: Timer;
  now: number;
  reschedule(dueAt: number, payload?: unknown): Promise<void>;
}

export type TimerHandler = (trx: RouterTx, firing: TimerFiring) => Promise<void>;

/** Thrown inside a firing whose timer moved on; rolls the firing's writes back. */
class StaleTimerError extends Error {}

/** Creates the timer or moves it (a new version; an earlier claim of it is void). Returns the version. */
export async function scheduleTimer(trx: RouterExecutor, name: string, kind: string, dueAt: number, payload: unknown = {}): Promise<number> {
  const existing = await trx.selectFrom('router_timers').select(['id', 'version']).where('name', '=', name).executeTakeFirst();
  if (existing) {
    const version = Number(existing.version) + 1;
    await trx
      .updateTable('router_timers')
      .set({ kind, due_at: dueAt, version, status: 'pending', payload: JSON.stringify(payload), fired_at: null })
      .where('id', '=', existing.id)
      .execute();
    return version;
  }
  await trx
    .insertInto('router_timers')
    .values({ name, kind, due_at: dueAt, version: 1, status: 'pending', payload: JSON.stringify(payload), fired_at: null })
    .execute();
  return 1;
}

export async function cancelTimer(trx: RouterExecutor, name: string): Promise<boolean> {
  const result = await trx
    .updateTable('router_timers')
    .set((eb) => ({ status: 'cancelled', version: eb('version', '+', 1) }))
    .where('name', '=', name)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface TimerRunnerOptions {
  db: RouterDb;
  dialect: Dialect;
  clock: Clock;
  log: Logger;
  handlers: Record<string, TimerHandler>;
  /** Timers claimed per transaction. */
  batchSize?: number;
  /** How long a timer whose handler fails waits before it is tried again. */
  retryMs?: number;
}

export class TimerRunner {
  private readonly batchSize: number;

  constructor(private readonly options: TimerRunnerOptions) {
    this.batchSize = options.batchSize ?? 200;
  }

  /** Fires every timer that is due; returns how many fired. */
  async runDue(): Promise<number> {
    let fired = 0;
    for (let round = 0; round < 1_000; round++) {
      const batch = await this.runBatch();
      fired += batch.fired;
      if (batch.claimed < this.batchSize) break;
    }
    return fired;
  }

  /** The earliest pending due time, to know when to wake up. */
  async nextDueAt(): Promise<number | undefined> {
    const row = await this.options.db
      .selectFrom('router_timers')
      .select((eb) => eb.fn.min('due_at').as('due'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  /** Fires one timer if it is still at `version` and pending; false when the claim is stale. */
  async fire(id: number, version: number): Promise<boolean> {
    const { db, dialect } = this.options;
    try {
      return await inTransaction(db, async (trx) => {
        const row = await forUpdate(
          trx.selectFrom('router_timers').selectAll().where('id', '=', id).where('version', '=', version).where('status', '=', 'pending'),
          dialect,
        ).executeTakeFirst();
        if (!row) return false;
        await this.fireRow(trx, row);
        return true;
      });
    } catch (err) {
      if (err instanceof StaleTimerError) return false;
      throw err;
    }
  }

  /** One transaction over a batch; if any handler fails, each timer of the batch is retried on its own. */
  private async runBatch(): Promise<{ claimed: number; fired: number }> {
    const { db, dialect, clock } = this.options;
    let claimed: { id: number; version: number }[] = [];
    try {
      const fired = await inTransaction(db, async (trx) => {
        const rows = await skipLocked(
          trx
            .selectFrom('router_timers')
            .selectAll()
            .where('status', '=', 'pending')
            .where('due_at', '<=', clock.now())
            .orderBy('due_at')
            .orderBy('id')
            .limit(this.batchSize),
          dialect,
        ).execute();
        claimed = rows.map((r) => ({ id: Number(r.id), version: Number(r.version) }));
        for (const row of rows) await this.fireRow(trx, row);
        return rows.length;
      });
      return { claimed: fired, fired };
    } catch (err) {
      if (claimed.length === 0) throw err;
      this.options.log.warn({ err: (err as Error).message, timers: claimed.length }, 'a timer batch failed; firing its timers one by one');
      let fired = 0;
      for (const c of claimed) if (await this.fireAlone(c.id, c.version)) fired++;
      return { claimed: claimed.length, fired };
    }
  }

  private async fireAlone(id: number, version: number): Promise<boolean> {
    try {
      return await this.fire(id, version);
    } catch (err) {
      this.options.log.error({ err: (err as Error).message, timer: id }, 'timer handler failed; retrying later');
      const retryAt = this.options.clock.now() + (this.options.retryMs ?? 30_000);
      await this.options.db
        .updateTable('router_timers')
        .set({ due_at: retryAt })
        .where('id', '=', id)
        .where('version', '=', version)
        .where('status', '=', 'pending')
        .execute();
      return false;
    }
  }

  private async fireRow(trx: RouterTx, row: Selectable<TimersTable>): Promise<void> {
    const now = this.options.clock.now();
    const timer: Timer = {
      id: Number(row.id),
      name: row.name,
      kind: row.kind,
      dueAt: Number(row.due_at),
      version: Number(row.version),
      payload: JSON.parse(row.payload) as unknown,
    };
    let rescheduled = false;
    const firing: TimerFiring = {
      timer,
      now,
      reschedule: async (dueAt, payload) => {
        const result = await trx
          .updateTable('router_timers')
          .set({ due_at: dueAt, version: timer.version + 1, payload: JSON.stringify(payload ?? timer.payload), fired_at: now })
          .where('id', '=', timer.id)
          .where('version', '=', timer.version)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) throw new StaleTimerError(`timer ${timer.name} moved on`);
        rescheduled = true;
      },
    };
    const handler = this.options.handlers[timer.kind];
    if (handler) await handler(trx, firing);
    else this.options.log.warn({ timer: timer.name, kind: timer.kind }, 'no handler for this timer kind; dropping it');
    if (rescheduled) return;
    const done = await trx
      .updateTable('router_timers')
      .set({ status: 'done', fired_at: now, version: timer.version + 1 })
      .where('id', '=', timer.id)
      .where('version', '=', timer.version)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) throw new StaleTimerError(`timer ${timer.name} moved on`);
  }
}
