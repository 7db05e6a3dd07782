/**
 * The life of an incident: opened and paged, acknowledged, updated, escalated when a deadline
 * passes, reminded when an update is due, resolved with a postmortem skeleton. Every function runs
 * inside the caller's transaction, so its timers and messages commit (or not) with it.
 */
import { createHash } from 'node:crypto';
import { cancelJobActions } from '../actions/job-actions.js';
import type { ClusterPriority } from '../../src/config/router.js';
import type { RouterContext } from '../context.js';
import { recordAudit } from '../store/audit.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent, timelineOf } from '../store/events.js';
import { cancelTimer, scheduleTimer } from '../timers/timers.js';
import type { IncidentGroup } from './grouping.js';
import { buildPostmortem } from './postmortem.js';
import { acknowledgeDeadline, freezePolicy, updateDeadline, type EscalationPolicy } from './policy.js';
import { alertsOf, incidentData, lockIncident } from './incident-queries.js';
import { alertView, incidentView, type IncidentRow, type IncidentView } from './views.js';

export type IncidentOutcome = { ok: true; changed: boolean; incident: IncidentView } | { ok: false; status: 404 | 409; error: string };

export const ackTimerName = (id: number) => `ack:${id}`;
export const updateTimerName = (id: number) => `update:${id}`;

/** The key that makes "one open incident per group" a unique index. */
export function openKeyOf(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex');
}

export function clusterPriorityOf(ctx: RouterContext, cluster: string): ClusterPriority {
  return ctx.options.clusters[cluster] ?? 'production';
}

export function policyOf(row: IncidentRow): EscalationPolicy {
  return JSON.parse(row.policy) as EscalationPolicy;
}

/** The DRIs on call now, and who gets a page when nobody is (the second line). */
export function currentDris(ctx: RouterContext, at: number): { names: string[]; emails: string[] } {
  const dris = ctx.rotation.decide(at).dris;
  return { names: dris.map((d) => d.name), emails: dris.map((d) => d.email).filter((e) => e !== '') };
}

export async function createIncident(
  ctx: RouterContext,
  trx: RouterTx,
  group: IncidentGroup,
  severity: number,
  title: string,
  now: number,
): Promise<IncidentRow> {
  const priority = clusterPriorityOf(ctx, group.cluster);
  const policy = freezePolicy(ctx.options, priority);
  const values = {
    group_key: group.key,
    open_key: openKeyOf(group.key),
    cluster: group.cluster,
    alertname: group.alertname,
    scope: group.scope,
    subject: group.subject,
    title: title.slice(0, 1_000),
    status: 'open',
    severity,
    // Nothing paged yet: any severity is "higher".
    paged_severity: 99,
    cluster_priority: priority,
    policy: JSON.stringify(policy),
    opened_at: now,
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    resolved_by: null,
    last_update_at: null,
    ack_due_at: null,
    update_due_at: null,
    escalation_tier: 0,
    postmortem: null,
    hidden_alerts: 0,
  } satisfies Omit<IncidentRow, 'id'>;
  const inserted = await trx.insertInto('router_incidents').values(values).executeTakeFirstOrThrow();
  const id = Number(inserted.insertId);
  await addEvent(
    trx,
    id,
    now,
    'opened',
    'alertmanager',
    `${group.alertname} on ${group.cluster}${group.subject ? ` (${group.scope} ${group.subject})` : ''}, severity ${severity}`,
  );
  return { ...values, id };
}

/** Why an incident is paged: it opened, an alert raised its severity, or it was acknowledged and then got no update in time. */
export type PageReason = 'opened' | 'severity-raised' | 'no-update';

const PAGE_EVENT: Record<PageReason, (severity: number) => string> = {
  opened: () => 'paged',
  'severity-raised': (severity) => `severity raised to ${severity}; paged again`,
  'no-update': () => 'no update within the SLA: open again, paged again',
};

/**
 * Pages the DRIs on call (the second line when nobody is) and starts the acknowledgement clock. A
 * page for a higher severity, or for an acknowledged incident that got no update in time, re-opens
 * it: it needs acknowledging again.
 */
export async function pageIncident(
  ctx: RouterContext,
  trx: RouterTx,
  row: IncidentRow,
  reason: PageReason,
  now: number,
  extraTo: readonly string[] = [],
): Promise<void> {
  const id = Number(row.id);
  const severity = Number(row.severity);
  const deadline = acknowledgeDeadline(policyOf(row), severity, now);
  const changes = {
    status: 'open',
    paged_severity: severity,
    ack_due_at: deadline,
    escalation_tier: 0,
    acknowledged_at: null,
    acknowledged_by: null,
    update_due_at: null,
  } as const;
  await trx.updateTable('router_incidents').set(changes).where('id', '=', id).execute();
  // Only an acknowledged incident has an update clock running.
  if (row.status === 'acknowledged') await cancelTimer(trx, updateTimerName(id));
  await scheduleTimer(trx, ackTimerName(id), 'ack', deadline, { incidentId: id });
  ctx.wake(deadline);
  const updated: IncidentRow = { ...row, ...changes };
  const dris = currentDris(ctx, now);
  const to = [...(dris.emails.length > 0 ? dris.emails : (policyOf(row).tiers[0]?.emails ?? [])), ...extraTo];
  const data = await incidentData(ctx, trx, updated);
  const context = {
    raised: reason === 'severity-raised',
    retriggered: reason === 'no-update',
    previouslyAcknowledgedBy: row.acknowledged_by,
    dris: dris.names,
  };
  const sent = await ctx.notifier.send(trx, { kind: 'page', incidentId: id, to, ackIncidentId: id, data: { ...data, ...context } }, now);
  const who = sent.length > 0 ? sent.join(', ') : 'nobody (no DRI on call, no second line, or no mail configured)';
  await addEvent(trx, id, now, 'paged', 'router', `${PAGE_EVENT[reason](severity)}: ${who}; acknowledge by ${new Date(deadline).toISOString()}`);
}

export async function acknowledgeIncident(ctx: RouterContext, trx: RouterTx, id: number, actor: string, via: string): Promise<IncidentOutcome> {
  const row = await lockIncident(ctx, trx, id);
  if (!row) return { ok: false, status: 404, error: `no incident ${id}` };
  if (row.status === 'resolved') return { ok: false, status: 409, error: `incident ${id} is already resolved` };
  if (row.status === 'acknowledged') return { ok: true, changed: false, incident: incidentView(row, ctx.links) };
  const now = ctx.clock.now();
  const severity = Number(row.severity);
  const updateDue = updateDeadline(policyOf(row), severity, now);
  await trx
    .updateTable('router_incidents')
    .set({ status: 'acknowledged', acknowledged_at: now, acknowledged_by: actor.slice(0, 255), ack_due_at: null, update_due_at: updateDue })
    .where('id', '=', id)
    .execute();
  await cancelTimer(trx, ackTimerName(id));
  await scheduleTimer(trx, updateTimerName(id), 'update', updateDue, { incidentId: id });
  ctx.wake(updateDue);
  await addEvent(trx, id, now, 'acknowledged', actor, `acknowledged via ${via}`);
  await recordAudit(trx, now, actor, 'incident.acknowledge', `incident:${id}`, { via });
  ctx.metrics.timeToAck.observe({ cluster: row.cluster, severity: String(severity) }, Math.max(0, (now - Number(row.opened_at)) / 1000));
  return { ok: true, changed: true, incident: incidentView((await lockIncident(ctx, trx, id)) as IncidentRow, ctx.links) };
}

/** A status update; it acknowledges the incident first if nobody had, and restarts the update clock. */
export async function postUpdate(ctx: RouterContext, trx: RouterTx, id: number, actor: string, message: string): Promise<IncidentOutcome> {
  const row = await lockIncident(ctx, trx, id);
  if (!row) return { ok: false, status: 404, error: `no incident ${id}` };
  if (row.status === 'resolved') return { ok: false, status: 409, error: `incident ${id} is already resolved` };
  if (row.status === 'open') await acknowledgeIncident(ctx, trx, id, actor, 'an update');
  const now = ctx.clock.now();
  const updateDue = updateDeadline(policyOf(row), Number(row.severity), now);
  await trx.updateTable('router_incidents').set({ last_update_at: now, update_due_at: updateDue }).where('id', '=', id).execute();
  await scheduleTimer(trx, updateTimerName(id), 'update', updateDue, { incidentId: id });
  ctx.wake(updateDue);
  await addEvent(trx, id, now, 'update', actor, message);
  await recordAudit(trx, now, actor, 'incident.update', `incident:${id}`, { message });
  return { ok: true, changed: true, incident: incidentView((await lockIncident(ctx, trx, id)) as IncidentRow, ctx.links) };
}

/**
 * Resolves the incident and every alert still firing in it (a later firing copy of those alerts is
 * stale; a real re-fire starts a new episode), cancels its timers and pending job actions, tells the
 * DRIs and attaches the postmortem skeleton.
 */
export async function resolveIncident(ctx: RouterContext, trx: RouterTx, id: number, actor: string, note: string): Promise<IncidentOutcome> {
  const row = await lockIncident(ctx, trx, id);
  if (!row) return { ok: false, status: 404, error: `no incident ${id}` };
  if (row.status === 'resolved') return { ok: true, changed: false, incident: incidentView(row, ctx.links) };
  const now = ctx.clock.now();
  const stillFiring = await alertsOf(trx, id, 'firing');
  if (stillFiring.length > 0) {
    await trx
      .updateTable('router_alerts')
      .set({ status: 'resolved', open_key: null, ends_at: now, resolved_by: actor.slice(0, 255) })
      .where('incident_id', '=', id)
      .where('status', '=', 'firing')
      .execute();
    await cancelJobActions(
      ctx,
      trx,
      stillFiring.map((a) => Number(a.id)),
      `incident resolved by ${actor}`,
      now,
    );
  }
  const changes = { status: 'resolved', open_key: null, resolved_at: now, resolved_by: actor.slice(0, 255), ack_due_at: null, update_due_at: null } as const;
  await trx.updateTable('router_incidents').set(changes).where('id', '=', id).execute();
  // An open incident has an acknowledgement clock running, an acknowledged one an update clock.
  await cancelTimer(trx, row.status === 'open' ? ackTimerName(id) : updateTimerName(id));
  await addEvent(trx, id, now, 'resolved', actor, note || 'resolved');
  const resolved: IncidentRow = { ...row, ...changes };
  const allAlerts = await alertsOf(trx, id);
  const data = { incident: incidentView(resolved, ctx.links), alerts: allAlerts.slice(0, 50).map(alertView) };
  const postmortem = buildPostmortem(data.incident, allAlerts.map(alertView), await timelineOf(trx, id), ctx.options.workingHours.timeZone);
  await trx
    .updateTable('router_incidents')
    .set({ postmortem: JSON.stringify(postmortem) })
    .where('id', '=', id)
    .execute();
  const dris = currentDris(ctx, now);
  const acker = resolved.acknowledged_by && resolved.acknowledged_by.includes('@') ? [resolved.acknowledged_by] : [];
  await ctx.notifier.send(trx, { kind: 'resolved', incidentId: id, to: [...dris.emails, ...acker], data }, now);
  await recordAudit(trx, now, actor, 'incident.resolve', `incident:${id}`, { note, alertsResolved: stillFiring.length });
  return { ok: true, changed: true, incident: incidentView(resolved, ctx.links) };
}
