/**
 * Webhook intake: one transaction per notification. Alerts are keyed by fingerprint while they fire
 * (Alertmanager sends the whole group again and again, from each replica); a firing copy older than
 * the end of the fingerprint's last episode is stale; a later firing is a new episode. New alerts
 * join the open incident of their group or open one, and the page goes out with the commit.
 */
import type { RouterContext } from '../context.js';
import { groupOf } from '../incident/grouping.js';
import { lockIncident } from '../incident/incident-queries.js';
import { openKeyOf, pageIncident, resolveIncident } from '../incident/incidents.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { inTransaction } from '../store/transact.js';
import { loadKnown, LOOKUP_CHUNK, takeFiring, takeResolved, type Touched } from './episodes.js';
import { isWatchdog, recordWatchdogs } from './watchdog.js';
import type { WebhookPayload } from './webhook-schema.js';

export interface IntakeResult {
  alerts: number;
  /** New firing episodes. */
  firing: number;
  resolved: number;
  /** Copies of alerts already known (repeats, the other Alertmanager replica) and stale ones. */
  unchanged: number;
  opened: number[];
  paged: number[];
  closed: number[];
}

export async function receiveWebhook(ctx: RouterContext, webhook: WebhookPayload): Promise<IntakeResult> {
  const watchdogs = webhook.alerts.filter(isWatchdog);
  if (watchdogs.length > 0) await recordWatchdogs(ctx, watchdogs);
  const payload = watchdogs.length === 0 ? webhook : { ...webhook, alerts: webhook.alerts.filter((a) => !isWatchdog(a)) };
  if (payload.alerts.length === 0)
    return { alerts: webhook.alerts.length, firing: 0, resolved: 0, unchanged: webhook.alerts.length, opened: [], paged: [], closed: [] };
  if (await onlyRepeats(ctx, payload)) {
    return { alerts: payload.alerts.length, firing: 0, resolved: 0, unchanged: payload.alerts.length, opened: [], paged: [], closed: [] };
  }
  return inTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    const result: IntakeResult = { alerts: payload.alerts.length, firing: 0, resolved: 0, unchanged: 0, opened: [], paged: [], closed: [] };
    const known = await loadKnown(ctx, trx, payload.alerts);
    const touched = known.touched;
    const touch = (id: number) => {
      let t = touched.get(id);
      if (!t) touched.set(id, (t = { opened: false, joined: 0, resolvedSome: false }));
      return t;
    };
    for (const alert of payload.alerts) {
      const outcome = alert.status === 'firing' ? await takeFiring(ctx, trx, alert, now, known) : await takeResolved(ctx, trx, alert, now, known);
      if (outcome.kind === 'unchanged') result.unchanged++;
      if (outcome.kind === 'new') {
        result.firing++;
        const t = touch(outcome.incidentId);
        t.joined++;
        if (outcome.opened) t.opened = true;
      }
      if (outcome.kind === 'resolved') {
        result.resolved++;
        if (outcome.incidentId !== null) touch(outcome.incidentId).resolvedSome = true;
      }
    }
    await markHiddenAlerts(trx, payload);
    // Incidents in id order, so two replicas working on the same group lock in the same order.
    for (const id of [...touched.keys()].sort((a, b) => a - b)) {
      const t = touched.get(id) as Touched;
      const incident = await settleIncident(ctx, trx, id, t, now);
      if (t.opened) result.opened.push(id);
      if (incident === 'paged') result.paged.push(id);
      if (incident === 'closed') result.closed.push(id);
    }
    return result;
  });
}

/**
 * Alertmanager cut the group (`max_alerts`): `truncatedAlerts` more alerts exist than it listed.
 * The open incidents of the listed alerts' groups remember how many, and are not closed while the
 * latest webhook hid some: what was not listed may still fire.
 */
async function markHiddenAlerts(trx: RouterTx, payload: WebhookPayload): Promise<void> {
  const hidden = payload.truncatedAlerts ?? 0;
  const keys = [...new Set(payload.alerts.map((a) => openKeyOf(groupOf(a.labels).key)))];
  for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
    await trx
      .updateTable('router_incidents')
      .set({ hidden_alerts: hidden })
      .where('open_key', 'in', keys.slice(i, i + LOOKUP_CHUNK))
      .where('hidden_alerts', '!=', hidden)
      .execute();
  }
}

/** Most webhooks repeat a group that is already known, unchanged. */
const REPEAT_CHECK_LIMIT = 500;
/** last_seen_at is kept to this resolution. */
export const SEEN_RESOLUTION_MS = 60_000;

/**
 * The common case without a write transaction: every alert is firing and already open with the
 * same annotations and no earlier start. Such a copy changes nothing, whatever happens around it
 * (an alert resolved meanwhile makes this copy stale, which is ignored too); only last_seen_at moves,
 * and only once it is {@link SEEN_RESOLUTION_MS} old: Alertmanager repeats a group every few seconds
 * to minutes, and a write for each repeat would make the busiest path the most expensive one.
 */
async function onlyRepeats(ctx: RouterContext, payload: WebhookPayload): Promise<boolean> {
  const alerts = payload.alerts;
  if (alerts.length === 0 || alerts.length > REPEAT_CHECK_LIMIT || alerts.some((a) => a.status !== 'firing')) return false;
  const fingerprints = [...new Set(alerts.map((a) => a.fingerprint))];
  const rows = await ctx.db
    .selectFrom('router_alerts')
    .select(['id', 'open_key', 'starts_at', 'annotations', 'last_seen_at'])
    .where('open_key', 'in', fingerprints)
    .execute();
  if (rows.length !== fingerprints.length) return false;
  const byFingerprint = new Map(rows.map((r) => [r.open_key, r]));
  for (const alert of alerts) {
    const row = byFingerprint.get(alert.fingerprint);
    if (!row || Date.parse(alert.startsAt) < Number(row.starts_at) || JSON.stringify(alert.annotations) !== row.annotations) return false;
  }
  const now = ctx.clock.now();
  const stale = rows.filter((r) => now - Number(r.last_seen_at) >= SEEN_RESOLUTION_MS).map((r) => r.id);
  if (stale.length > 0) await ctx.db.updateTable('router_alerts').set({ last_seen_at: now }).where('id', 'in', stale).where('status', '=', 'firing').execute();
  return true;
}

/** After the alerts: page a new incident, page again for a higher severity, or close a quiet one. */
async function settleIncident(ctx: RouterContext, trx: RouterTx, id: number, touched: Touched, now: number): Promise<'paged' | 'closed' | 'none'> {
  const row = await lockIncident(ctx, trx, id);
  if (!row || row.status === 'resolved') return 'none';
  const firing = await trx
    .selectFrom('router_alerts')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('severity').as('worst')])
    .where('incident_id', '=', id)
    .where('status', '=', 'firing')
    .executeTakeFirst();
  if (Number(firing?.n ?? 0) === 0) {
    const hidden = Number(row.hidden_alerts);
    if (hidden === 0) {
      await resolveIncident(ctx, trx, id, 'alertmanager', 'all alerts resolved');
      return 'closed';
    }
    if (touched.resolvedSome)
      await addEvent(
        trx,
        id,
        now,
        'alert',
        'alertmanager',
        `every listed alert resolved, but Alertmanager left ${hidden} alert(s) of the group out (truncatedAlerts): kept open`,
      );
    return 'none';
  }
  const worst = Number(firing?.worst ?? row.severity);
  if (worst !== Number(row.severity)) await trx.updateTable('router_incidents').set({ severity: worst }).where('id', '=', id).execute();
  if (touched.opened) {
    await pageIncident(ctx, trx, { ...row, severity: worst }, 'opened', now);
    return 'paged';
  }
  if (touched.joined > 0 && worst < Number(row.paged_severity)) {
    await pageIncident(ctx, trx, { ...row, severity: worst }, 'severity-raised', now);
    return 'paged';
  }
  return 'none';
}
