/**
 * What happens when an incident's clock runs out. Not acknowledged in time: escalate to the next
 * tier (and page the DRIs again); past the last tier the policy may start over from the first, as
 * often as `escalation.repeat` says. Acknowledged but no update within the SLA's update interval:
 * the acknowledgement times out — the incident is open again and the DRIs (and whoever had
 * acknowledged it) are paged, as PagerDuty's acknowledgement timeout does.
 */
import type { RouterContext } from '../context.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import type { TimerFiring } from '../timers/timers.js';
import { incidentData, lockIncident } from './incident-queries.js';
import { currentDris, pageIncident, policyOf } from './incidents.js';
import { acknowledgeDeadline, escalationStep } from './policy.js';
import type { IncidentRow } from './views.js';

/** Timer `ack:<id>`: the acknowledgement deadline passed — escalate to the next tier, and the DRIs again. */
export async function onAckDeadline(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const id = Number((firing.timer.payload as { incidentId: number }).incidentId);
  const row = await lockIncident(ctx, trx, id);
  if (!row || row.status !== 'open') return;
  const now = firing.now;
  const policy = policyOf(row);
  const severity = Number(row.severity);
  const labels = { cluster: row.cluster, severity: String(severity) };
  const missed = Number(row.escalation_tier);
  ctx.metrics.slaBreaches.inc({ ...labels, kind: 'acknowledge' });
  const step = escalationStep(policy, missed);
  if (!step) {
    await trx.updateTable('router_incidents').set({ ack_due_at: null }).where('id', '=', id).execute();
    await addEvent(trx, id, now, 'deadline', 'router', 'acknowledgement deadline missed; no further escalation tier');
    return;
  }
  const next = step.last ? null : acknowledgeDeadline(policy, severity, now);
  const changes = { escalation_tier: missed + 1, ack_due_at: next };
  await trx.updateTable('router_incidents').set(changes).where('id', '=', id).execute();
  const updated: IncidentRow = { ...row, ...changes };
  const dris = currentDris(ctx, now);
  const data = await incidentData(ctx, trx, updated);
  const sent = await ctx.notifier.send(
    trx,
    {
      kind: 'escalation',
      incidentId: id,
      to: [...step.tier.emails, ...dris.emails],
      ackIncidentId: id,
      data: { ...data, tier: step.tier.name, missedDeadline: firing.timer.dueAt, dris: dris.names },
    },
    now,
  );
  ctx.metrics.escalations.inc({ ...labels, tier: step.tier.name });
  const contacts = step.tier.emails.length === 0 ? ` (the ${step.tier.name} has no contacts)` : '';
  const round = step.round > 0 ? ` (repeat ${step.round})` : '';
  await addEvent(
    trx,
    id,
    now,
    'escalated',
    'router',
    `not acknowledged by ${new Date(firing.timer.dueAt).toISOString()}: escalated to the ${step.tier.name}${round}${contacts}; sent to ${sent.join(', ') || 'nobody'}`,
  );
  if (next !== null) await firing.reschedule(next);
}

/** Timer `update:<id>`: acknowledged, but no update within the update interval — the acknowledgement times out. */
export async function onUpdateDue(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const id = Number((firing.timer.payload as { incidentId: number }).incidentId);
  const row = await lockIncident(ctx, trx, id);
  if (!row || row.status !== 'acknowledged') return;
  ctx.metrics.slaBreaches.inc({ cluster: row.cluster, severity: String(row.severity), kind: 'update' });
  // The acknowledger: a team member by name (a personal token), or the address an ack link was sent to.
  const ackedBy = row.acknowledged_by ?? '';
  const ackerEmail = /^[^\s@]+@[^\s@]+$/.test(ackedBy) ? ackedBy : ctx.options.team.find((m) => m.name === ackedBy)?.email;
  const acker = ackerEmail ? [ackerEmail] : [];
  // The update timer is the one firing (it ends with this firing): pageIncident must not cancel it.
  await pageIncident(ctx, trx, { ...row, status: 'open' }, 'no-update', firing.now, acker);
}
