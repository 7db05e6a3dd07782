/**
 * Alertmanager never sends "resolved" for an alert that was silenced or inhibited when it resolved,
 * so the router asks Alertmanager (GET /api/v2/alerts: every alert it still holds, silenced and
 * inhibited included) and closes the alerts, and then incidents, it no longer knows.
 */
import { cancelJobActions } from '../actions/job-actions.js';
import type { RouterContext } from '../context.js';
import { resolveIncident } from '../incident/incidents.js';
import { addEvent } from '../store/events.js';
import { inTransaction } from '../store/transact.js';

export interface ReconcileResult {
  /** Alerts Alertmanager listed. */
  listed: number;
  alertsClosed: number;
  incidentsClosed: number[];
}

/** Fingerprints of every alert the Alertmanager at `baseUrl` still holds. */
export async function fetchAlertFingerprints(baseUrl: string, timeoutMs: number): Promise<Set<string>> {
  const url = `${baseUrl}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`;
  const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const body = (await res.json()) as unknown;
  if (!Array.isArray(body)) throw new Error(`${url}: expected a list of alerts`);
  const fingerprints = new Set<string>();
  for (const alert of body as { fingerprint?: unknown }[]) {
    if (typeof alert?.fingerprint !== 'string') throw new Error(`${url}: an alert without a fingerprint`);
    fingerprints.add(alert.fingerprint);
  }
  return fingerprints;
}

/**
 * Closes every firing alert that Alertmanager no longer lists. Alerts first seen after the list was
 * asked for are left alone: their webhook may have overtaken the listing.
 */
export async function reconcile(ctx: RouterContext, known: Set<string>, listedAt: number): Promise<ReconcileResult> {
  const firing = await ctx.db.selectFrom('router_alerts').select(['id', 'fingerprint', 'incident_id']).where('status', '=', 'firing').where('first_seen_at', '<', listedAt).execute();
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
      await addEvent(trx, incidentId, now, 'reconciled', 'reconciler', `${count} alert(s) no longer in Alertmanager (silenced or inhibited when they resolved): closed`);
      const left = await trx.selectFrom('router_alerts').select('id').where('incident_id', '=', incidentId).where('status', '=', 'firing').executeTakeFirst();
      if (!left) {
        const outcome = await resolveIncident(ctx, trx, incidentId, 'reconciler', 'its alerts are gone from Alertmanager');
        if (outcome.ok && outcome.changed) result.incidentsClosed.push(incidentId);
      }
    });
  }
  return result;
}
