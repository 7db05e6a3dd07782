/**
 * One alert of a webhook, inside the intake's transaction: a firing copy updates its open episode
 * or starts the next one (joining or opening its group's incident, starting a job action); a
 * resolved copy ends its episode (cancelling the actions in their grace period).
 */
import { cancelJobActions, startJobAction } from '../actions/job-actions.js';
import type { RouterContext } from '../context.js';
import { groupOf } from '../incident/grouping.js';
import { lockIncident } from '../incident/incident-queries.js';
import { createIncident, openKeyOf } from '../incident/incidents.js';
import { parseSeverity } from '../incident/severity.js';
import type { AlertRow, IncidentRow } from '../incident/views.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate } from '../store/transact.js';
import { endOf, type WebhookAlert } from './webhook-schema.js';

export interface Touched {
  opened: boolean;
  joined: number;
  resolvedSome: boolean;
}

/**
 * What the transaction knows about the webhook's fingerprints and groups, read in a few batched
 * queries and kept current as alerts are written (a group usually arrives whole, in one webhook).
 */
export interface Known {
  /** The firing episode of a fingerprint. */
  open: Map<string, AlertRow>;
  /** The latest episode of a fingerprint, firing or not. */
  last: Map<string, AlertRow>;
  /** Open incidents by open_key; null: looked up, none. */
  incidents: Map<string, IncidentRow | null>;
  touched: Map<number, Touched>;
}

/** Bound on the parameters of one `IN (…)` list. */
export const LOOKUP_CHUNK = 500;

export async function loadKnown(ctx: RouterContext, trx: RouterTx, alerts: readonly WebhookAlert[]): Promise<Known> {
  const fingerprints = [...new Set(alerts.map((a) => a.fingerprint))];
  const known: Known = { open: new Map(), last: new Map(), incidents: new Map(), touched: new Map() };
  for (let i = 0; i < fingerprints.length; i += LOOKUP_CHUNK) {
    const chunk = fingerprints.slice(i, i + LOOKUP_CHUNK);
    const open = await forUpdate(trx.selectFrom('router_alerts').selectAll().where('open_key', 'in', chunk), ctx.dialect).execute();
    for (const row of open) known.open.set(row.fingerprint, row);
    // Only each fingerprint's latest episode (a flapping alert may have many).
    const latest = await trx
      .selectFrom('router_alerts as a')
      .selectAll('a')
      .where('a.fingerprint', 'in', chunk)
      .where((eb) =>
        eb(
          'a.episode',
          '=',
          eb
            .selectFrom('router_alerts as b')
            .select((b) => b.fn.max('b.episode').as('m'))
            .whereRef('b.fingerprint', '=', 'a.fingerprint'),
        ),
      )
      .execute();
    for (const row of latest) known.last.set(row.fingerprint, row);
  }
  return known;
}

/** The open incident of an alert's group, or null (looked up once per transaction). */
export async function openIncidentOf(ctx: RouterContext, trx: RouterTx, labels: Record<string, string>, known: Known): Promise<IncidentRow | null> {
  const openKey = openKeyOf(groupOf(labels).key);
  let incident = known.incidents.get(openKey);
  if (incident === undefined) {
    incident = (await forUpdate(trx.selectFrom('router_incidents').selectAll().where('open_key', '=', openKey), ctx.dialect).executeTakeFirst()) ?? null;
    known.incidents.set(openKey, incident);
  }
  return incident;
}

export type AlertOutcome = { kind: 'unchanged' } | { kind: 'new'; incidentId: number; opened: boolean } | { kind: 'resolved'; incidentId: number | null };

export async function takeFiring(ctx: RouterContext, trx: RouterTx, alert: WebhookAlert, now: number, known: Known): Promise<AlertOutcome> {
  const startsAt = Date.parse(alert.startsAt);
  const severity = parseSeverity(alert.labels.severity, ctx.options.defaultSeverity);
  const open = known.open.get(alert.fingerprint);
  if (open) {
    // Merged copies can move startsAt earlier; labels and annotations follow the latest copy.
    await trx
      .updateTable('router_alerts')
      .set({ last_seen_at: now, starts_at: Math.min(Number(open.starts_at), startsAt), annotations: JSON.stringify(alert.annotations) })
      .where('id', '=', open.id)
      .execute();
    return { kind: 'unchanged' };
  }
  const last = known.last.get(alert.fingerprint);
  if (last && (startsAt <= Number(last.starts_at) || startsAt < Number(last.ends_at ?? 0))) {
    // A late copy of an episode that has already ended (out of order, or resolved by hand).
    return { kind: 'unchanged' };
  }
  const { incident, opened } = await incidentFor(ctx, trx, alert, severity, now, known);
  const incidentId = Number(incident.id);
  const row = episodeRow(alert, last, now, {
    open_key: alert.fingerprint,
    incident_id: incidentId,
    status: 'firing',
    severity,
    ends_at: null,
    resolved_by: null,
  });
  const inserted = await trx.insertInto('router_alerts').values(row).executeTakeFirstOrThrow();
  known.open.set(alert.fingerprint, { ...row, id: Number(inserted.insertId) });
  known.last.set(alert.fingerprint, { ...row, id: Number(inserted.insertId) });
  // Alerts that arrive with the one that opened the incident are part of its opening, not news.
  if (!opened && !known.touched.get(incidentId)?.opened)
    await addEvent(
      trx,
      incidentId,
      now,
      'alert',
      'alertmanager',
      `alert ${alert.fingerprint} joined (severity ${severity})${alert.annotations.summary ? `: ${alert.annotations.summary}` : ''}`,
    );
  if ((alert.labels.action ?? '') !== '') {
    const row = (await lockIncident(ctx, trx, incidentId)) as IncidentRow;
    await startJobAction(ctx, trx, { incident: row, alertId: Number(inserted.insertId), labels: alert.labels, annotations: alert.annotations }, now);
  }
  return { kind: 'new', incidentId, opened };
}

export async function takeResolved(ctx: RouterContext, trx: RouterTx, alert: WebhookAlert, now: number, known: Known): Promise<AlertOutcome> {
  const startsAt = Date.parse(alert.startsAt);
  const endsAt = endOf(alert, now);
  const open = known.open.get(alert.fingerprint);
  if (open) {
    if (endsAt < Number(open.starts_at)) return { kind: 'unchanged' }; // the end of an earlier episode
    await trx
      .updateTable('router_alerts')
      .set({ status: 'resolved', open_key: null, ends_at: endsAt, last_seen_at: now, resolved_by: 'alertmanager' })
      .where('id', '=', open.id)
      .execute();
    known.open.delete(alert.fingerprint);
    known.last.set(alert.fingerprint, { ...open, status: 'resolved', open_key: null, ends_at: endsAt });
    if ((alert.labels.action ?? '') !== '') await cancelJobActions(ctx, trx, [Number(open.id)], 'the alert resolved during the grace period', now);
    return { kind: 'resolved', incidentId: open.incident_id === null ? null : Number(open.incident_id) };
  }
  const last = known.last.get(alert.fingerprint);
  if (last && startsAt <= Number(last.starts_at)) return { kind: 'unchanged' };
  // Resolved before we ever saw it fire (the firing copy is late or lost): remember the episode so a
  // late firing copy is recognised as stale instead of paging for a problem that is already over.
  const marker = episodeRow(alert, last, now, {
    open_key: null,
    incident_id: null,
    status: 'resolved',
    severity: parseSeverity(alert.labels.severity, ctx.options.defaultSeverity),
    ends_at: endsAt,
    resolved_by: 'alertmanager',
  });
  const inserted = await trx.insertInto('router_alerts').values(marker).executeTakeFirstOrThrow();
  known.last.set(alert.fingerprint, { ...marker, id: Number(inserted.insertId) });
  // An alert of a truncated group that was never listed while it fired: its group's incident may now close.
  const incident = await openIncidentOf(ctx, trx, alert.labels, known);
  return { kind: 'resolved', incidentId: incident ? Number(incident.id) : null };
}

/** The open incident of the alert's group, or a new one (`opened`). */
async function incidentFor(
  ctx: RouterContext,
  trx: RouterTx,
  alert: WebhookAlert,
  severity: number,
  now: number,
  known: Known,
): Promise<{ incident: IncidentRow; opened: boolean }> {
  const group = groupOf(alert.labels);
  const found = await openIncidentOf(ctx, trx, alert.labels, known);
  const title = alert.annotations.summary || `${group.alertname}${group.subject ? ` on ${group.subject}` : ''}`;
  const incident = found ?? (await createIncident(ctx, trx, group, severity, title, now));
  known.incidents.set(openKeyOf(group.key), incident);
  return { incident, opened: !found };
}

type EpisodeState = Pick<AlertRow, 'open_key' | 'incident_id' | 'status' | 'severity' | 'ends_at' | 'resolved_by'>;

/** The row of the fingerprint's next episode (after `last`), seen `now`. */
function episodeRow(alert: WebhookAlert, last: AlertRow | undefined, now: number, state: EpisodeState): Omit<AlertRow, 'id'> {
  return {
    fingerprint: alert.fingerprint,
    episode: Number(last?.episode ?? 0) + 1,
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    starts_at: Date.parse(alert.startsAt),
    first_seen_at: now,
    last_seen_at: now,
    ...state,
  };
}
