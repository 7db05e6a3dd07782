/**
 * Alertmanager never sends "resolved" for an alert that was silenced or inhibited when it resolved,
 * so the router asks Alertmanager (GET /api/v2/alerts: every alert it still holds, silenced and
 * inhibited included) and closes the alerts, and then incidents, it no longer knows. An incident
 * kept open because its group was truncated closes once Alertmanager holds no alert of its group.
 */
import { cancelJobActions } from '../actions/job-actions.js';
import type { RouterContext } from '../context.js';
import { groupOf } from '../incident/grouping.js';
import { resolveIncident } from '../incident/incidents.js';
import { addEvent } from '../store/events.js';
import { inTransaction } from '../store/transact.js';

export interface ReconcileResult {
  /** Alerts Alertmanager listed. */
  listed: number;
  alertsClosed: number;
  incidentsClosed: number[];
}

/** What Alertmanager still holds: the alerts' fingerprints, and the incident groups they belong to. */
export interface HeldAlerts {
  fingerprints: Set<string>;
  groups: Set<string>;
}

/** Every alert the Alertmanager at `baseUrl` still holds. */
export async function fetchHeldAlerts(baseUrl: string, timeoutMs: number): Promise<HeldAlerts> {
  const url = `${baseUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`;
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const body = (await res.json()) as unknown;
  if (!Array.isArray(body)) throw new Error(`${url}: expected a list of alerts`);
  const held: HeldAlerts = { fingerprints: new Set(), groups: new Set() };
  for (const alert of body as { fingerprint?: unknown; labels?: unknown }[]) {
    if (typeof alert?.fingerprint !== 'string') throw new Error(`${url}: an alert without a fingerprint`);
    held.fingerprints.add(alert.fingerprint);
    if (typeof alert.labels === 'object' && alert.labels !== null) held.groups.add(groupOf(alert.labels as Record<string, string>).key);
  }
  return held;
}

/**
 * Closes every firing alert that Alertmanager no longer lists. Alerts first seen after the list was
 * asked for are left alone: their webhook may have overtaken the listing.
 */
export async function reconcile(ctx: RouterContext, held: HeldAlerts, listedAt: number): Promise<ReconcileResult> {
  const known = held.fingerprints;
  const firing = await ctx.db
    .selectFrom('router_alerts')
    .select(['id', 'fingerprint', 'incident_id'])
    .where('status', '=', 'firing')
    .where('first_seen_at', '<', listedAt)
    .execute();
  const gone = firing.filter((a) => !known.has(a.fingerprint));
  const result: ReconcileResult = { listed: known.size, alertsClosed: 0, incidentsClosed: [] };
  const byIncident = new Map<number, number[]>();
  for (const a of gone) {
    const id = Number(a.incident_id ?? 0);
    byIncident.set(id, [...(byIncident.get(id) ?? []), Number(a.id)]);
  }
  for (const [incidentId, alertIds] of byIncident) {
    await inTransaction(ctx.db, async (trx) => {
      const now = ctx.clock.now();
      const closed = await trx
        .updateTable('router_alerts')
        .set({ status: 'resolved', open_key: null, ends_at: now, resolved_by: 'reconciler' })
        .where('id', 'in', alertIds)
        .where('status', '=', 'firing')
        .executeTakeFirst();
      const count = Number(closed.numUpdatedRows);
      result.alertsClosed += count;
      if (count === 0 || incidentId === 0) return;
      await cancelJobActions(ctx, trx, alertIds, 'Alertmanager no longer holds the alert', now);
      await addEvent(
        trx,
        incidentId,
        now,
        'reconciled',
        'reconciler',
        `${count} alert(s) no longer in Alertmanager (silenced or inhibited when they resolved): closed`,
      );
    });
  }
  await closeQuietIncidents(ctx, held, listedAt, result);
  return result;
}

/**
 * Incidents without a firing alert left: closed, unless their group was truncated and Alertmanager
 * still holds an alert of it (one the router was never shown).
 */
async function closeQuietIncidents(ctx: RouterContext, held: HeldAlerts, listedAt: number, result: ReconcileResult): Promise<void> {
  const candidates = await ctx.db
    .selectFrom('router_incidents as i')
    .select(['i.id', 'i.group_key', 'i.hidden_alerts'])
    .where('i.status', '!=', 'resolved')
    .where('i.opened_at', '<', listedAt)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('router_alerts as a').select('a.id').whereRef('a.incident_id', '=', 'i.id').where('a.status', '=', 'firing'))),
    )
    .execute();
  for (const incident of candidates) {
    if (Number(incident.hidden_alerts) > 0 && held.groups.has(incident.group_key)) continue;
    await inTransaction(ctx.db, async (trx) => {
      const left = await trx
        .selectFrom('router_alerts')
        .select('id')
        .where('incident_id', '=', Number(incident.id))
        .where('status', '=', 'firing')
        .executeTakeFirst();
      if (left) return;
      const outcome = await resolveIncident(ctx, trx, Number(incident.id), 'reconciler', 'its alerts are gone from Alertmanager');
      if (outcome.ok && outcome.changed) result.incidentsClosed.push(Number(incident.id));
    });
  }
}
