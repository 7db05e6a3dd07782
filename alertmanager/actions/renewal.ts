/**
 * What an owner (through the signed links of their mails) or a board user does to a job action in
 * its grace period: renew it (the deadline moves `extend` later, within the policy's caps on the
 * number of renewals and on the time they add in all) or release it (the action goes ahead at
 * once, through the same safeguards as at the end of grace). Both are in the audit log and on the
 * incident's timeline, with who did it and how.
 */
import type { RouterContext } from '../context.js';
import { recordAudit } from '../store/audit.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate } from '../store/transact.js';
import { cancelTimer, scheduleTimer } from '../timers/timers.js';
import { carryOut } from './carry-out.js';
import { scheduleReminder } from './reminders.js';
import { actionTimerName, reminderTimerName, renewalRoom, renewalRules, type ActionRow } from './renewal-policy.js';

export interface ActionView {
  id: number;
  incidentId: number;
  job: string;
  owner: string;
  action: string;
  policy: string;
  status: string;
  graceUntil: number;
  renewals: number;
  maxRenewals: number;
  renewalsLeft: number;
  /** What the next renewal adds (0 when none is left). */
  nextRenewalMs: number;
  remindersSent: number;
  remindersDelivered: number;
  result: string | null;
}

export type ActionOutcome = { ok: true; changed: boolean; action: ActionView; message: string } | { ok: false; status: 404 | 409; error: string };

export function actionView(ctx: Pick<RouterContext, 'options'>, row: ActionRow): ActionView {
  const rules = renewalRules(ctx.options.actions, row.policy);
  const room = renewalRoom(rules, row);
  const result = row.result === null ? null : ((JSON.parse(row.result) as { message?: string }).message ?? null);
  return {
    id: Number(row.id),
    incidentId: Number(row.incident_id),
    job: row.job,
    owner: row.owner,
    action: row.action,
    policy: row.policy,
    status: row.status,
    graceUntil: Number(row.grace_until),
    renewals: Number(row.renewals),
    maxRenewals: rules.maxRenewals,
    renewalsLeft: row.status === 'grace' ? room.left : 0,
    nextRenewalMs: row.status === 'grace' ? room.nextMs : 0,
    remindersSent: Number(row.reminders_sent),
    remindersDelivered: Number(row.reminders_delivered),
    result,
  };
}

async function lockAction(ctx: RouterContext, trx: RouterTx, id: number): Promise<ActionRow | undefined> {
  return forUpdate(trx.selectFrom('router_actions').selectAll().where('id', '=', id), ctx.dialect).executeTakeFirst();
}

const notInGrace = (row: ActionRow): ActionOutcome => ({
  ok: false,
  status: 409,
  error: `the ${row.action} of ${row.job} is no longer in its grace period (${row.status.replace('_', ' ')}); nothing was changed`,
});

/** Moves the deadline (and the action timer) `extend` later, when the policy's caps allow it. */
export async function renewAction(ctx: RouterContext, trx: RouterTx, id: number, actor: string, via: string, now: number): Promise<ActionOutcome> {
  const row = await lockAction(ctx, trx, id);
  if (!row) return { ok: false, status: 404, error: `there is no job action ${id}` };
  if (row.status !== 'grace') return notInGrace(row);
  const rules = renewalRules(ctx.options.actions, row.policy);
  const room = renewalRoom(rules, row);
  if (room.nextMs <= 0) {
    const cap =
      Number(row.renewals) >= rules.maxRenewals
        ? `${row.job} was renewed ${Number(row.renewals)} times, the most its policy allows (${rules.maxRenewals})`
        : `the renewals of ${row.job} already add the most time its policy allows`;
    return { ok: false, status: 409, error: `${cap}; it will be ${row.action === 'kill' ? 'stopped' : 'downgraded'} as planned unless the alert resolves` };
  }
  const graceUntil = Number(row.grace_until) + room.nextMs;
  const renewals = Number(row.renewals) + 1;
  await trx
    .updateTable('router_actions')
    .set({ grace_until: graceUntil, renewals, renewed_ms: Number(row.renewed_ms) + room.nextMs })
    .where('id', '=', id)
    .execute();
  await scheduleTimer(trx, actionTimerName(id), 'action', graceUntil, { actionId: id });
  ctx.wake(graceUntil);
  await scheduleReminder(ctx, trx, { id, policy: row.policy, grace_until: graceUntil }, now);
  ctx.metrics.actions.inc({ action: 'renew', result: 'done' });
  const deadline = new Date(graceUntil).toISOString();
  await recordAudit(trx, now, actor, 'action.renew', row.job, { actionId: id, via, renewals, graceUntil, addedMs: room.nextMs });
  await addEvent(
    trx,
    Number(row.incident_id),
    now,
    'action',
    actor,
    `renewed ${row.job} via ${via} (${renewals} of ${rules.maxRenewals}): the ${row.action} waits until ${deadline}`,
  );
  const updated = await lockAction(ctx, trx, id);
  return { ok: true, changed: true, action: actionView(ctx, updated ?? row), message: `${row.job} is kept until ${deadline}` };
}

/** The owner is done with the job: the action goes ahead now, through the same safeguards (dry run, exemptions, budget). */
export async function releaseAction(ctx: RouterContext, trx: RouterTx, id: number, actor: string, via: string, now: number): Promise<ActionOutcome> {
  const row = await lockAction(ctx, trx, id);
  if (!row) return { ok: false, status: 404, error: `there is no job action ${id}` };
  if (row.status !== 'grace') return notInGrace(row);
  await cancelTimer(trx, actionTimerName(id));
  await cancelTimer(trx, reminderTimerName(id));
  await recordAudit(trx, now, actor, 'action.release', row.job, { actionId: id, via });
  await addEvent(trx, Number(row.incident_id), now, 'action', actor, `released ${row.job} via ${via}: the ${row.action} goes ahead now`);
  await carryOut(ctx, trx, row, now, actor);
  const updated = (await lockAction(ctx, trx, id)) ?? row;
  const view = actionView(ctx, updated);
  return { ok: true, changed: true, action: view, message: view.result ?? `${row.job}: ${view.status.replace('_', ' ')}` };
}
