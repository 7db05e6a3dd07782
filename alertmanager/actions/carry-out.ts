/**
 * The end of an action's grace period (timer `action:<id>`), or the owner's release: the action
 * goes ahead through every safeguard, or — for a notebook no reminder has reached yet — is
 * postponed.
 */
import type { RouterContext } from '../context.js';
import { enqueueAll } from '../notify/outbox.js';
import type { RuleServiceRequest } from '../notify/outbox-rows.js';
import { recordAudit } from '../store/audit.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate } from '../store/transact.js';
import type { TimerFiring } from '../timers/timers.js';
import type { ActionCause, JobAction } from './action-kinds.js';
import { BUDGET_LOCK, finishAction } from './job-actions.js';
import { postponeUnreminded } from './reminders.js';
import { isExempt, PAST, type ActionRow } from './renewal-policy.js';

/** Timer `action:<id>`: the grace period is over. */
export async function onActionDue(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const id = Number((firing.timer.payload as { actionId: number }).actionId);
  const row = await forUpdate(trx.selectFrom('router_actions').selectAll().where('id', '=', id), ctx.dialect).executeTakeFirst();
  if (!row || row.status !== 'grace') return;
  if (row.policy === 'notebook' && Number(row.reminders_delivered) === 0 && (await stillFires(trx, row)) && !isExempt(ctx.options.actions, row)) {
    return postponeUnreminded(ctx, trx, row, firing);
  }
  await carryOut(ctx, trx, row, firing.now);
}

const stillFires = async (trx: RouterTx, row: ActionRow) =>
  (await trx.selectFrom('router_alerts').select('status').where('id', '=', row.alert_id).executeTakeFirst())?.status === 'firing';

/**
 * The action goes ahead — at the end of its grace, or at once when the owner released the job
 * (`releasedBy`) — through every safeguard: the alert still fires, the job is not exempt, dry run
 * is off, a rule service is configured and the hourly budget is not spent.
 */
export async function carryOut(ctx: RouterContext, trx: RouterTx, row: ActionRow, now: number, releasedBy?: string): Promise<void> {
  const id = Number(row.id);
  const options = ctx.options.actions;
  const released = releasedBy === undefined ? '' : `released by ${releasedBy}`;
  if (!(await stillFires(trx, row))) return finishAction(ctx, trx, row, 'cancelled', 'the alert resolved during the grace period', now);
  if (isExempt(ctx.options.actions, row)) return finishAction(ctx, trx, row, 'refused', `${row.job} is exempt`, now);
  const would = `${row.job} would have been ${PAST[row.action as JobAction]}`;
  if (options.dryRun) return finishAction(ctx, trx, row, 'dry_run', released ? `${released} (dry run): ${would}` : `dry run: ${would}`, now);
  if (!options.ruleService) return finishAction(ctx, trx, row, 'failed', 'no rule service configured (actions.ruleService)', now);
  await forUpdate(trx.selectFrom('router_settings').select('name').where('name', '=', BUDGET_LOCK), ctx.dialect).execute();
  const spent = await trx
    .selectFrom('router_actions')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('requested_at', '>', now - 3_600_000)
    .executeTakeFirst();
  if (Number(spent?.n ?? 0) >= options.hourlyBudget) {
    return finishAction(ctx, trx, row, 'refused', `the hourly budget of ${options.hourlyBudget} actions is spent`, now);
  }
  await trx.updateTable('router_actions').set({ status: 'requested', requested_at: now }).where('id', '=', id).execute();
  const request: RuleServiceRequest = {
    actionId: id,
    job: row.job,
    action: row.action as JobAction,
    cause: row.cause as ActionCause,
    reason: `${row.reason}${released ? ` (${released})` : ''} (incident ${ctx.links.incident(Number(row.incident_id))})`,
    idempotencyKey: `gpuwatch-router-${ctx.installId}-action-${id}`,
  };
  await enqueueAll(trx, [{ channel: 'rule-service', kind: request.action, incidentId: Number(row.incident_id), target: {}, payload: request }], now);
  await recordAudit(trx, now, 'router', 'action.request', row.job, {
    actionId: id,
    action: row.action,
    cause: request.cause,
    idempotencyKey: request.idempotencyKey,
    ...(releasedBy === undefined ? {} : { releasedBy }),
  });
  const why = released ? `${released}` : 'grace period over and the alert still fires';
  await addEvent(trx, Number(row.incident_id), now, 'action', 'router', `${why}: asked the rule service to ${row.action} ${row.job}`);
}
