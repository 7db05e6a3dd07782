/**
 * Actions on jobs (alerts with an `action` label): warn the job's owner, wait the grace period (a
 * durable timer), then — only if the alert still fires, the job is not exempt, dry-run is off and
 * the hourly budget is not spent — ask the rule service to kill or downgrade it. An alert that
 * resolves during the grace period cancels the action. Every step lands in the audit log.
 *
 * `action="notify"` only warns the owner (no timer, nothing asked of the rule service). The grace
 * period is the alert's `action_grace` annotation (the generator writes the policy's), else
 * `router.actions.grace`, and never shorter than `router.actions.minGrace`. The owner is whoever
 * OpenPAI says owns the job (looked up when the mail and the request go out), never the alert's
 * `user` label.
 *
 * Each action keeps its cause, from the alert that asked for it: `running-too-long` for
 * GpuJobRunningTooLong, `low-utilization` for any other alert (the rule service then insists that
 * the job is idle). The rule service confirms the cause from Prometheus before it acts.
 *
 * The end of grace and the owner's release are in carry-out.ts; renewals in renewal.ts;
 * reminders (and the notebook policy's delivered-reminder rule) in reminders.ts.
 */
import { parseDuration } from '../../src/config/duration.js';
import type { RouterContext } from '../context.js';
import { incidentData, lockIncident } from '../incident/incident-queries.js';
import { jobOf } from '../incident/grouping.js';
import type { IncidentRow } from '../incident/views.js';
import type { MailPayload } from '../notify/outbox-rows.js';
import { recordAudit } from '../store/audit.js';
import type { ActionStatus, RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate } from '../store/transact.js';
import { cancelTimer, scheduleTimer } from '../timers/timers.js';
import { JOB_ACTIONS, type ActionCause, type JobAction } from './action-kinds.js';
import { scheduleReminder } from './reminders.js';
import { actionTimerName, ownerMailData, PAST, policyOf, reminderTimerName, type ActionRow } from './renewal-policy.js';

export { actionTimerName };

/** The cause of an action from the alert's name; anything but the running-too-long alert asks for the idleness check. */
export function causeOf(alertname: string | undefined): ActionCause {
  return alertname === 'GpuJobRunningTooLong' ? 'running-too-long' : 'low-utilization';
}

/** The settings row locked while the hourly budget is counted, so replicas do not overspend it together. */
export const BUDGET_LOCK = 'action-budget';

export function isJobAction(value: string | undefined): value is JobAction {
  return (JOB_ACTIONS as readonly string[]).includes(value ?? '');
}

/** Called when a firing alert with an `action` label opens its episode. */
export async function startJobAction(
  ctx: RouterContext,
  trx: RouterTx,
  input: { incident: IncidentRow; alertId: number; labels: Record<string, string>; annotations: Record<string, string> },
  now: number,
): Promise<void> {
  const incidentId = Number(input.incident.id);
  const job = jobOf(input.labels);
  const action = input.labels.action;
  if (job && action === 'notify') return notifyOwner(ctx, trx, { ...input, job }, now);
  if (!job || !isJobAction(action)) {
    await addEvent(
      trx,
      incidentId,
      now,
      'action',
      'router',
      `alert asks for action "${action ?? ''}" on "${input.labels.job ?? ''}": not a notify, kill or downgrade of an OpenPAI job (user~name); ignored`,
    );
    return;
  }
  const owner = ownerOf(job);
  const row = await insertAction(ctx, trx, { ...input, job, owner, action }, now);
  const [id, graceUntil, { policy, cause }] = [Number(row.id), Number(row.grace_until), row];
  await scheduleTimer(trx, actionTimerName(id), 'action', graceUntil, { actionId: id });
  ctx.wake(graceUntil);
  await scheduleReminder(ctx, trx, row, now);
  const what = ownerMailData(ctx.options.actions, row, now);
  const links = { actionId: id, owner, renew: Number(what.renewalsLeft) > 0 };
  await mailOwner(ctx, trx, { ...input, job, owner }, what, now, links);
  ctx.metrics.actions.inc({ action: 'warn', result: 'done' });
  const dryRun = ctx.options.actions.dryRun;
  await recordAudit(trx, now, 'router', 'action.warn', job, { actionId: id, action, cause, owner, graceUntil, dryRun, incidentId, policy });
  await addEvent(
    trx,
    incidentId,
    now,
    'action',
    'router',
    `warned ${owner}: ${job} will be ${PAST[action]} after ${new Date(graceUntil).toISOString()} if the alert still fires${ctx.options.actions.dryRun ? ' (dry run)' : ''}`,
  );
}

/** The action's row, in grace under its policy: a notebook waits at least the notebook grace, however short the alert's is. */
async function insertAction(
  ctx: RouterContext,
  trx: RouterTx,
  input: {
    incident: IncidentRow;
    alertId: number;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    job: string;
    owner: string;
    action: JobAction;
  },
  now: number,
): Promise<ActionRow> {
  const policy = policyOf(ctx.options.actions, input.labels, input.job);
  const graceMs = Math.max(graceMsOf(ctx, input.annotations), policy === 'notebook' ? ctx.options.actions.notebooks.graceMs : 0);
  const reason = input.annotations.summary || input.labels.alertname || 'gpuwatch alert';
  const inserted = await trx
    .insertInto('router_actions')
    .values({
      incident_id: Number(input.incident.id),
      alert_id: input.alertId,
      job: input.job,
      owner: input.owner,
      action: input.action,
      cause: causeOf(input.labels.alertname),
      reason: reason.slice(0, 2_000),
      status: 'grace',
      created_at: now,
      grace_until: now + graceMs,
      requested_at: null,
      finished_at: null,
      result: null,
      policy,
      renewals: 0,
      renewed_ms: 0,
      reminders_sent: 0,
      reminders_delivered: 0,
    })
    .executeTakeFirstOrThrow();
  return trx.selectFrom('router_actions').selectAll().where('id', '=', Number(inserted.insertId)).executeTakeFirstOrThrow();
}

/** For messages and the audit log: the user part of the job id (OpenPAI's ids are owner~name). The mail goes to OpenPAI's record of the owner. */
const ownerOf = (job: string) => job.split('~')[0] as string;

/** The alert's own `action_grace` when it is a positive duration, else the configured one; never below `minGrace`. */
export function graceMsOf(ctx: Pick<RouterContext, 'options'>, annotations: Record<string, string>): number {
  const own = annotations.action_grace === undefined ? undefined : parseDuration(annotations.action_grace);
  const wanted = own !== undefined && own > 0 ? own : ctx.options.actions.graceMs;
  return Math.max(wanted, ctx.options.actions.minGraceMs);
}

/** `action="notify"`: the owner hears about the alert; nothing else happens to the job. */
async function notifyOwner(
  ctx: RouterContext,
  trx: RouterTx,
  input: { incident: IncidentRow; labels: Record<string, string>; annotations: Record<string, string>; job: string },
  now: number,
): Promise<void> {
  const incidentId = Number(input.incident.id);
  const owner = ownerOf(input.job);
  await mailOwner(ctx, trx, { ...input, owner }, { action: 'notify', notifyOnly: true }, now);
  ctx.metrics.actions.inc({ action: 'notify', result: 'done' });
  await recordAudit(trx, now, 'router', 'action.notify', input.job, { owner, incidentId });
  await addEvent(trx, incidentId, now, 'action', 'router', `told ${owner} about ${input.job}; the policy takes no action on the job`);
}

/** The owner-warning mail (templates/owner-warning.*): the alert, and what will or will not happen. */
async function mailOwner(
  ctx: RouterContext,
  trx: RouterTx,
  input: { incident: IncidentRow; labels: Record<string, string>; annotations: Record<string, string>; job: string; owner: string },
  what: Record<string, unknown>,
  now: number,
  actionLinks?: MailPayload['actionLinks'],
): Promise<void> {
  const data = await incidentData(ctx, trx, input.incident);
  await ctx.notifier.send(
    trx,
    {
      kind: 'owner-warning',
      incidentId: Number(input.incident.id),
      to: [],
      ownerOfJob: input.job,
      actionLinks,
      data: {
        ...data,
        ...what,
        job: input.job,
        owner: input.owner,
        alertname: input.labels.alertname ?? '',
        summary: input.annotations.summary ?? '',
        description: input.annotations.description ?? '',
        runbookUrl: input.annotations.runbook_url ?? '',
        dris: ctx.rotation.decide(now).dris.map((d) => d.name),
      },
    },
    now,
  );
}

/** Alerts that resolved (or whose incident was resolved): their actions still in the grace period are off. */
export async function cancelJobActions(ctx: RouterContext, trx: RouterTx, alertIds: readonly number[], why: string, now: number): Promise<void> {
  if (alertIds.length === 0) return;
  const rows = await forUpdate(
    trx
      .selectFrom('router_actions')
      .selectAll()
      .where('alert_id', 'in', [...alertIds])
      .where('status', '=', 'grace'),
    ctx.dialect,
  ).execute();
  for (const row of rows) {
    await cancelTimer(trx, actionTimerName(Number(row.id)));
    await cancelTimer(trx, reminderTimerName(Number(row.id)));
    await finishAction(ctx, trx, row, 'cancelled', why, now);
  }
}

/** Records an action's final outcome: row, audit, metric, timeline, and a mail to the owner and the DRIs. */
export async function finishAction(
  ctx: RouterContext,
  trx: RouterTx,
  row: ActionRow,
  status: Exclude<ActionStatus, 'grace' | 'requested'>,
  message: string,
  now: number,
  extra: { newJob?: string } = {},
): Promise<void> {
  const id = Number(row.id);
  await trx
    .updateTable('router_actions')
    .set({ status, finished_at: now, result: JSON.stringify({ message, ...extra }) })
    .where('id', '=', id)
    .execute();
  ctx.metrics.actions.inc({ action: row.action, result: status });
  await recordAudit(trx, now, 'router', `action.${status}`, row.job, { actionId: id, action: row.action, message, ...extra });
  const incidentId = Number(row.incident_id);
  await addEvent(trx, incidentId, now, 'action', 'router', `${row.action} ${row.job}: ${status.replace('_', ' ')} — ${message}`);
  const incident = await lockIncident(ctx, trx, incidentId);
  const data = incident ? await incidentData(ctx, trx, incident) : {};
  const dris = ctx.rotation.decide(now).dris.map((d) => d.email);
  await ctx.notifier.send(
    trx,
    {
      kind: 'action-result',
      incidentId,
      to: [],
      ownerOfJob: row.job,
      cc: dris,
      data: { ...data, job: row.job, owner: row.owner, action: row.action, outcome: status.replace('_', ' '), message, newJob: extra.newJob },
    },
    now,
  );
}
