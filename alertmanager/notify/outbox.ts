/**
 * The outbox: every message (mail, webhook, rule-service request) is a row written in the same
 * transaction as the decision to send it, then delivered by whichever replica claims it first.
 * Failures are retried with exponential backoff for as long as the channel allows (pages: for ever),
 * so an SMTP outage delays pages and never loses them.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Logger } from '../../src/log.js';
import type { Clock } from '../clock.js';
import type { OutboxTable, RouterDb, RouterExecutor, RouterTx } from '../store/db-schema.js';
import { inTransaction, type Dialect } from '../store/transact.js';

export interface OutboxMessage {
  channel: string;
  kind: string;
  incidentId?: number | null;
  target: unknown;
  payload: unknown;
}

export interface OutboxRow {
  id: number;
  channel: string;
  kind: string;
  incidentId: number | null;
  target: unknown;
  payload: unknown;
  attempts: number;
  createdAt: number;
}

export type DeliveryResult = { ok: true; detail?: unknown } | { ok: false; permanent: boolean; error: string; detail?: unknown };

export interface Channel {
  deliver(row: OutboxRow): Promise<DeliveryResult>;
  /** Work that follows a final outcome (sent, or failed for good), in the transaction that records it. */
  afterDelivery?(trx: RouterTx, row: OutboxRow, result: DeliveryResult): Promise<void>;
  /** Give up after this long (default: never). */
  maxAgeMs?: number;
}

/** Several messages in one statement. */
export async function enqueueAll(trx: RouterExecutor, messages: readonly OutboxMessage[], now: number): Promise<void> {
  if (messages.length === 0) return;
  await trx
    .insertInto('router_outbox')
    .values(
      messages.map((message) => ({
        channel: message.channel,
        kind: message.kind,
        incident_id: message.incidentId ?? null,
        target: JSON.stringify(message.target),
        payload: JSON.stringify(message.payload),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        lease_owner: null,
        lease_until: null,
        last_error: null,
        created_at: now,
        sent_at: null,
      })),
    )
    .execute();
}

export interface OutboxDispatcherOptions {
  db: RouterDb;
  dialect: Dialect;
  clock: Clock;
  log: Logger;
  channels: Record<string, Channel>;
  retry: { minMs: number; maxMs: number };
  /** How long a claim holds: longer than any channel's send timeout. */
  leaseMs?: number;
  /** Messages sent at once. */
  concurrency?: number;
  onOutcome?: (row: OutboxRow, result: DeliveryResult) => void;
}

export class OutboxDispatcher {
  /** This replica's name on the rows it claims. */
  readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(private readonly options: OutboxDispatcherOptions) {}

  /** SQLite is one process: claims left by a killed process are released at start. */
  async releaseStaleClaims(): Promise<void> {
    if (this.options.dialect !== 'sqlite') return;
    await this.options.db.updateTable('router_outbox').set({ lease_owner: null, lease_until: null }).where('status', '=', 'pending').where('lease_owner', 'is not', null).execute();
  }

  /** Delivers every message that is due; returns how many reached a final outcome. */
  async deliverDue(limit = 500): Promise<number> {
    const { db, clock } = this.options;
    const now = clock.now();
    const candidates = await db
      .selectFrom('router_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    let finished = 0;
    const queue = candidates.map((c) => Number(c.id));
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        if (await this.deliverOne(id)) finished++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 8, queue.length) }, worker));
    return finished;
  }

  /** The earliest moment a pending message may be tried (a message another replica holds: when its claim ends). */
  async nextAttemptAt(): Promise<number | undefined> {
    const row = await this.options.db
      .selectFrom('router_outbox')
      .select((eb) =>
        eb.fn
          .min(
            eb
              .case()
              .when('lease_until', '>', eb.ref('next_attempt_at'))
              .then(eb.ref('lease_until'))
              .else(eb.ref('next_attempt_at'))
              .end(),
          )
          .as('next'),
      )
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  private async deliverOne(id: number): Promise<boolean> {
    const { db, clock, log } = this.options;
    const row = await this.claim(id);
    if (!row) return false;
    const channel = this.options.channels[row.channel];
    let result: DeliveryResult;
    try {
      result = channel ? await channel.deliver(row) : { ok: false, permanent: true, error: `no channel "${row.channel}" configured` };
    } catch (err) {
      result = { ok: false, permanent: false, error: (err as Error).message };
    }
    const now = clock.now();
    const expired = !result.ok && !result.permanent && channel?.maxAgeMs !== undefined && now - row.createdAt >= channel.maxAgeMs;
    const final = result.ok || result.permanent || expired;
    const attempts = row.attempts + 1;
    const outcome: DeliveryResult = expired && !result.ok ? { ...result, permanent: true, error: `gave up after ${attempts} attempts: ${result.error}` } : result;
    await inTransaction(db, async (trx) => {
      const update = await trx
        .updateTable('router_outbox')
        .set({
          status: outcome.ok ? 'sent' : final ? 'failed' : 'pending',
          attempts,
          next_attempt_at: final ? now : now + this.backoff(attempts),
          lease_owner: null,
          lease_until: null,
          last_error: outcome.ok ? null : outcome.error.slice(0, 2_000),
          sent_at: outcome.ok ? now : null,
        })
        .where('id', '=', row.id)
        .where('lease_owner', '=', this.owner)
        .executeTakeFirst();
      // Our claim ran out and another replica took the row over: its outcome counts, not ours.
      if (Number(update.numUpdatedRows) !== 1) return;
      if (final && channel?.afterDelivery) await channel.afterDelivery(trx, row, outcome);
    });
    this.options.onOutcome?.(row, outcome);
    if (!outcome.ok) log.warn({ outbox: row.id, channel: row.channel, kind: row.kind, attempts, final, err: outcome.error }, final ? 'delivery failed for good' : 'delivery failed; will retry');
    return final;
  }

  private async claim(id: number): Promise<OutboxRow | undefined> {
    const { db, clock } = this.options;
    const now = clock.now();
    const claimed = await db
      .updateTable('router_outbox')
      .set({ lease_owner: this.owner, lease_until: now + (this.options.leaseMs ?? 60_000) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return undefined;
    const row = await db.selectFrom('router_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toOutboxRow(row);
  }

  /** min · 2^(attempts−1), capped at max, with ±20 % jitter so replicas do not retry in step. */
  private backoff(attempts: number): number {
    const { minMs, maxMs } = this.options.retry;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}

function toOutboxRow(row: Selectable<OutboxTable>): OutboxRow {
  return {
    id: Number(row.id),
    channel: row.channel,
    kind: row.kind,
    incidentId: row.incident_id === null ? null : Number(row.incident_id),
    target: JSON.parse(row.target) as unknown,
    payload: JSON.parse(row.payload) as unknown,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
  };
}
