/**
 * Reminders to the owner of a job action in its grace period: a repeating durable timer
 * (`remind:<id>`) per action. Each firing queues a reminder mail (its renew and release links, the
 * time left, the renewals left) and a timeline event, then moves the timer `remindEvery` ahead
 * while that is still before the deadline. A renewal moves the deadline and restarts the
 * reminders against it; release, resolution and the end of grace stop them (the action leaves
 * `grace`). The mail server's acceptance of a reminder is counted on the action in the same
 * transaction that marks the outbox row sent: the notebook policy acts only after one was.
 */
import { incidentData, lockIncident } from '../incident/incident-queries.js';
import type { RouterContext } from '../context.js';
import type { RowOf } from '../notify/outbox.js';
import { recordAudit } from '../store/audit.js';
import type { RouterExecutor, RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate } from '../store/transact.js';
import { scheduleTimer, type TimerFiring } from '../timers/timers.js';
import { ownerMailData, reminderTimerName, renewalRules, type ActionRow } from './renewal-policy.js';

/** Plans the next reminder `remindEvery` after `now`, if that comes before the deadline. */
export async function scheduleReminder(
  ctx: RouterContext,
  trx: RouterExecutor,
  row: Pick<ActionRow, 'id' | 'policy' | 'grace_until'>,
  now: number,
): Promise<void> {
  const next = now + renewalRules(ctx.options.actions, row.policy).remindEveryMs;
  if (next >= Number(row.grace_until)) return;
  await scheduleTimer(trx, reminderTimerName(Number(row.id)), 'remind', next, { actionId: Number(row.id) });
  ctx.wake(next);
}

/** Timer `remind:<id>`: remind the owner, and come back `remindEvery` later while the action is still in grace. */
export async function onReminderDue(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const id = Number((firing.timer.payload as { actionId: number }).actionId);
  const now = firing.now;
  const row = await forUpdate(trx.selectFrom('router_actions').selectAll().where('id', '=', id), ctx.dialect).executeTakeFirst();
  if (!row || row.status !== 'grace' || now >= Number(row.grace_until)) return;
  await sendReminder(ctx, trx, row, now, 'reminder');
  const next = now + renewalRules(ctx.options.actions, row.policy).remindEveryMs;
  if (next < Number(row.grace_until)) {
    await firing.reschedule(next);
    ctx.wake(next);
  }
}

/** Queues one reminder mail to the owner, counts it and puts it on the timeline. */
export async function sendReminder(ctx: RouterContext, trx: RouterTx, row: ActionRow, now: number, why: string): Promise<void> {
  const id = Number(row.id);
  const incident = await lockIncident(ctx, trx, Number(row.incident_id));
  const data = incident ? await incidentData(ctx, trx, incident) : {};
  const alert = await trx.selectFrom('router_alerts').select(['labels', 'annotations']).where('id', '=', row.alert_id).executeTakeFirst();
  const labels = JSON.parse(alert?.labels ?? '{}') as Record<string, string>;
  const annotations = JSON.parse(alert?.annotations ?? '{}') as Record<string, string>;
  const sent = Number(row.reminders_sent) + 1;
  const what = ownerMailData(ctx.options.actions, row, now);
  await ctx.notifier.send(
    trx,
    {
      kind: 'owner-reminder',
      incidentId: Number(row.incident_id),
      to: [],
      ownerOfJob: row.job,
      actionLinks: { actionId: id, owner: row.owner, renew: Number(what.renewalsLeft) > 0 },
      data: {
        ...data,
        ...what,
        job: row.job,
        owner: row.owner,
        alertname: labels.alertname ?? '',
        summary: annotations.summary ?? '',
        reminder: sent,
        dris: ctx.rotation.decide(now).dris.map((d) => d.name),
      },
    },
    now,
  );
  await trx.updateTable('router_actions').set({ reminders_sent: sent }).where('id', '=', id).execute();
  ctx.metrics.actions.inc({ action: 'remind', result: 'done' });
  await recordAudit(trx, now, 'router', 'action.remind', row.job, { actionId: id, reminder: sent, graceUntil: Number(row.grace_until), why });
  await addEvent(
    trx,
    Number(row.incident_id),
    now,
    'action',
    'router',
    `reminded ${row.owner} (${why} ${sent}): ${row.job} will be ${what.actionPast as string} after ${new Date(Number(row.grace_until)).toISOString()}; ${what.renewalsLeft as number} renewals left`,
  );
}

/** The mail server accepted an owner mail: a reminder of an action counts as delivered. */
export async function countDeliveredReminder(trx: RouterTx, row: RowOf<'email'>): Promise<void> {
  const action = row.payload.actionLinks;
  if (row.kind !== 'owner-reminder' || action === undefined) return;
  await trx
    .updateTable('router_actions')
    .set((eb) => ({ reminders_delivered: eb('reminders_delivered', '+', 1) }))
    .where('id', '=', action.actionId)
    .execute();
}

/**
 * A notebook whose grace is over before any reminder reached its owner is not acted on: its
 * deadline moves `remindEvery` ahead (the action timer itself is rescheduled), the owner is
 * reminded now, and the postponement is recorded with its reason.
 */
export async function postponeUnreminded(ctx: RouterContext, trx: RouterTx, row: ActionRow, firing: TimerFiring): Promise<void> {
  const now = firing.now;
  const rules = renewalRules(ctx.options.actions, row.policy);
  const until = now + rules.remindEveryMs;
  const why = `no reminder has reached ${row.owner} yet (${Number(row.reminders_sent)} queued, none delivered): the notebook policy acts only after one was delivered`;
  await trx.updateTable('router_actions').set({ grace_until: until }).where('id', '=', Number(row.id)).execute();
  await firing.reschedule(until);
  ctx.wake(until);
  ctx.metrics.actions.inc({ action: row.action, result: 'postponed' });
  await recordAudit(trx, now, 'router', 'action.postpone', row.job, { actionId: Number(row.id), graceUntil: until, why });
  await addEvent(trx, Number(row.incident_id), now, 'action', 'router', `${row.action} ${row.job}: postponed to ${new Date(until).toISOString()} — ${why}`);
  await sendReminder(ctx, trx, { ...row, grace_until: until }, now, 'reminder');
}
