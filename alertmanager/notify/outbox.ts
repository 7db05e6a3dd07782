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
import { parseOutboxContent, type ChannelName, type OutboxMessage, type OutboxRow, type RowOf } from './outbox-rows.js';

export type { OutboxMessage, OutboxRow, RowOf } from './outbox-rows.js';

export type DeliveryResult = { ok: true; detail?: unknown } | { ok: false; permanent: boolean; error: string; detail?: unknown };

/** Delivers the rows of one channel. */
export interface Channel<C extends ChannelName> {
  deliver(row: RowOf<C>): Promise<DeliveryResult>;
  /** Work that follows a final outcome (sent, or failed for good), in the transaction that records it. */
  afterDelivery?(trx: RouterTx, row: RowOf<C>, result: DeliveryResult): Promise<void>;
  /** Give up after this long (default: never). */
  maxAgeMs?: number;
}

/** The configured channels; a row of a channel that is not here fails for good. */
export type Channels = { [C in ChannelName]?: Channel<C> };

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
  channels: Channels;
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
    await this.options.db
      .updateTable('router_outbox')
      .set({ lease_owner: null, lease_until: null })
      .where('status', '=', 'pending')
      .where('lease_owner', 'is not', null)
      .execute();
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
        eb.fn.min(eb.case().when('lease_until', '>', eb.ref('next_attempt_at')).then(eb.ref('lease_until')).else(eb.ref('next_attempt_at')).end()).as('next'),
      )
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  private async deliverOne(id: number): Promise<boolean> {
    const { db, clock, log } = this.options;
    const claimed = await this.claim(id);
    if (!claimed) return false;
    if (!claimed.ok) {
      const error = `outbox row ${id} (${claimed.stored.channel}, ${claimed.stored.kind}) does not fit its channel: ${claimed.error}`;
      await inTransaction(db, (trx) => this.settle(trx, id, Number(claimed.stored.attempts) + 1, { ok: false, permanent: true, error }, true));
      log.warn({ outbox: id, channel: claimed.stored.channel, kind: claimed.stored.kind, err: error }, 'delivery failed for good');
      return true;
    }
    const row = claimed.row;
    const channel = boundChannel(this.options.channels, row);
    let result: DeliveryResult;
    try {
      result = channel ? await channel.deliver() : { ok: false, permanent: true, error: `no channel "${row.channel}" configured` };
    } catch (err) {
      result = { ok: false, permanent: false, error: (err as Error).message };
    }
    const now = clock.now();
    const expired = !result.ok && !result.permanent && channel?.maxAgeMs !== undefined && now - row.createdAt >= channel.maxAgeMs;
    const final = result.ok || result.permanent || expired;
    const attempts = row.attempts + 1;
    const outcome: DeliveryResult =
      expired && !result.ok ? { ...result, permanent: true, error: `gave up after ${attempts} attempts: ${result.error}` } : result;
    await inTransaction(db, async (trx) => {
      // Our claim ran out and another replica took the row over: its outcome counts, not ours.
      if (!(await this.settle(trx, row.id, attempts, outcome, final))) return;
      if (final && channel?.afterDelivery) await channel.afterDelivery(trx, outcome);
    });
    this.options.onOutcome?.(row, outcome);
    if (!outcome.ok)
      log.warn(
        { outbox: row.id, channel: row.channel, kind: row.kind, attempts, final, err: outcome.error },
        final ? 'delivery failed for good' : 'delivery failed; will retry',
      );
    return final;
  }

  /** Records an attempt's outcome on a row this replica still holds; false when another replica took it over. */
  private async settle(trx: RouterTx, id: number, attempts: number, outcome: DeliveryResult, final: boolean): Promise<boolean> {
    const now = this.options.clock.now();
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
      .where('id', '=', id)
      .where('lease_owner', '=', this.owner)
      .executeTakeFirst();
    return Number(update.numUpdatedRows) === 1;
  }

  /** The claimed row, parsed for its channel (or what does not fit); undefined when another replica has it. */
  private async claim(id: number): Promise<{ ok: true; row: OutboxRow } | { ok: false; stored: Selectable<OutboxTable>; error: string } | undefined> {
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
    const stored = await db.selectFrom('router_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!stored) return undefined;
    const parsed = parseOutboxContent(stored);
    if (!parsed.ok) return { ok: false, stored, error: parsed.error };
    const row: OutboxRow = {
      ...parsed.content,
      id: Number(stored.id),
      incidentId: stored.incident_id === null ? null : Number(stored.incident_id),
      attempts: Number(stored.attempts),
      createdAt: Number(stored.created_at),
    };
    return { ok: true, row };
  }

  /** min · 2^(attempts−1), capped at max, with ±20 % jitter so replicas do not retry in step. */
  private backoff(attempts: number): number {
    const { minMs, maxMs } = this.options.retry;
    const base = Math.min(maxMs, minMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }
}

/** A channel with its row: what the dispatcher calls, whichever channel it is. */
interface BoundChannel {
  deliver(): Promise<DeliveryResult>;
  afterDelivery?(trx: RouterTx, result: DeliveryResult): Promise<void>;
  maxAgeMs?: number;
}

function boundChannel(channels: Channels, row: OutboxRow): BoundChannel | undefined {
  switch (row.channel) {
    case 'email':
      return bind(channels.email, row);
    case 'webhook':
      return bind(channels.webhook, row);
    case 'rule-service':
      return bind(channels['rule-service'], row);
  }
}

function bind<C extends ChannelName>(channel: Channel<C> | undefined, row: RowOf<C>): BoundChannel | undefined {
  if (!channel) return undefined;
  const after = channel.afterDelivery?.bind(channel);
  return { deliver: () => channel.deliver(row), afterDelivery: after && ((trx, result) => after(trx, row, result)), maxAgeMs: channel.maxAgeMs };
}
