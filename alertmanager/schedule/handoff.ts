/**
 * Hand-offs: a durable timer set to the next moment the DRIs change. When it fires, the incoming
 * DRIs get a mail listing the open incidents (the outgoing ones in copy), and the timer moves to
 * the following change. After downtime a missed hand-off is sent once, late, to whoever is on call.
 */
import type { RouterContext } from '../context.js';
import { incidentView } from '../incident/views.js';
import { recordAudit } from '../store/audit.js';
import type { RouterTx } from '../store/db-schema.js';
import { inTransaction } from '../store/transact.js';
import { scheduleTimer, type TimerFiring } from '../timers/timers.js';

export const HANDOFF_TIMER = 'handoff';

/** At start: make sure the next hand-off is scheduled, and follows a changed rotation. */
export async function ensureHandoffTimer(ctx: RouterContext): Promise<number | undefined> {
  const now = ctx.clock.now();
  const next = ctx.rotation.nextHandoff(now);
  return inTransaction(ctx.db, async (trx) => {
    const existing = await trx.selectFrom('router_timers').selectAll().where('name', '=', HANDOFF_TIMER).executeTakeFirst();
    if (existing?.status === 'pending' && (Number(existing.due_at) <= now || Number(existing.due_at) === next)) return Number(existing.due_at);
    if (next === undefined) return undefined;
    await scheduleTimer(trx, HANDOFF_TIMER, 'handoff', next, {});
    ctx.wake(next);
    return next;
  });
}

export async function onHandoffDue(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const now = firing.now;
  const at = firing.timer.dueAt;
  const incoming = ctx.rotation.onCall(Math.max(now, at));
  const outgoing = ctx.rotation.decide(at - 1).dris;
  const open = await trx
    .selectFrom('router_incidents')
    .selectAll()
    .where('status', '!=', 'resolved')
    .orderBy('severity')
    .orderBy('opened_at')
    .limit(200)
    .execute();
  const incidents = open.map((row) => incidentView(row, ctx.links));
  const data = { incoming: incoming.dris.map((d) => d.name), outgoing: outgoing.map((d) => d.name), shiftStart: at, shiftEnd: incoming.end, incidents };
  const sent = await ctx.notifier.send(trx, { kind: 'handoff', to: incoming.dris.map((d) => d.email), cc: outgoing.map((d) => d.email), data }, now);
  await recordAudit(trx, now, 'router', 'rotation.handoff', 'rotation', { ...data, incidents: incidents.map((i) => i.id), sent });
  const next = ctx.rotation.nextHandoff(now);
  if (next !== undefined) {
    await firing.reschedule(next);
    ctx.wake(next);
  }
}
