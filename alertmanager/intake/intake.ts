/**
 * Webhook intake: one transaction per notification. Alerts are keyed by fingerprint while they fire
 * (Alertmanager sends the whole group again and again, from each replica); a firing copy older than
 * the end of the fingerprint's last episode is stale; a later firing is a new episode. New alerts
 * join the open incident of their group or open one, and the page goes out with the commit.
 */
import { cancelJobActions, startJobAction } from '../actions/job-actions.js';
import type { RouterContext } from '../context.js';
import { groupOf } from '../incident/grouping.js';
import { lockIncident } from '../incident/incident-queries.js';
import { createIncident, openKeyOf, pageIncident, resolveIncident } from '../incident/incidents.js';
import { parseSeverity } from '../incident/severity.js';
import type { AlertRow, IncidentRow } from '../incident/views.js';
import type { RouterTx } from '../store/db-schema.js';
import { addEvent } from '../store/events.js';
import { forUpdate, inTransaction } from '../store/transact.js';
import { isWatchdog, recordWatchdogs } from './watchdog.js';
import { endOf, type WebhookAlert, type WebhookPayload } from './webhook-schema.js';

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

interface Touched {
  opened: boolean;
  joined: number;
  resolvedSome: boolean;
}

/**
 * What the transaction knows about the webhook's fingerprints and groups, read in a few batched
 * queries and kept current as alerts are written (a group usually arrives whole, in one webhook).
 */
interface Known {
  /** The firing episode of a fingerprint. */
  open: Map<string, AlertRow>;
  /** The latest episode of a fingerprint, firing or not. */
  last: Map<string, AlertRow>;
  /** Open incidents by open_key; null: looked up, none. */
  incidents: Map<string, IncidentRow | null>;
  touched: Map<number, Touched>;
}

/** Bound on the parameters of one `IN (…)` list. */
const LOOKUP_CHUNK = 500;

async function loadKnown(ctx: RouterContext, trx: RouterTx, alerts: readonly WebhookAlert[]): Promise<Known> {
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

/** The open incident of an alert's group, or null (looked up once per transaction). */
async function openIncidentOf(ctx: RouterContext, trx: RouterTx, labels: Record<string, string>, known: Known): Promise<IncidentRow | null> {
  const openKey = openKeyOf(groupOf(labels).key);
  let incident = known.incidents.get(openKey);
  if (incident === undefined) {
    incident = (await forUpdate(trx.selectFrom('router_incidents').selectAll().where('open_key', '=', openKey), ctx.dialect).executeTakeFirst()) ?? null;
    known.incidents.set(openKey, incident);
  }
  return incident;
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

type AlertOutcome = { kind: 'unchanged' } | { kind: 'new'; incidentId: number; opened: boolean } | { kind: 'resolved'; incidentId: number | null };

async function takeFiring(ctx: RouterContext, trx: RouterTx, alert: WebhookAlert, now: number, known: Known): Promise<AlertOutcome> {
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
  const group = groupOf(alert.labels);
  const openKey = openKeyOf(group.key);
  let incident = await openIncidentOf(ctx, trx, alert.labels, known);
  const opened = !incident;
  if (!incident) {
    const title = alert.annotations.summary || `${group.alertname}${group.subject ? ` on ${group.subject}` : ''}`;
    incident = await createIncident(ctx, trx, group, severity, title, now);
  }
  known.incidents.set(openKey, incident);
  const incidentId = Number(incident.id);
  const row = {
    fingerprint: alert.fingerprint,
    episode: Number(last?.episode ?? 0) + 1,
    open_key: alert.fingerprint,
    incident_id: incidentId,
    status: 'firing',
    severity,
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    starts_at: startsAt,
    ends_at: null,
    first_seen_at: now,
    last_seen_at: now,
    resolved_by: null,
  } satisfies Omit<AlertRow, 'id'>;
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

async function takeResolved(ctx: RouterContext, trx: RouterTx, alert: WebhookAlert, now: number, known: Known): Promise<AlertOutcome> {
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
  const marker = {
    fingerprint: alert.fingerprint,
    episode: Number(last?.episode ?? 0) + 1,
    open_key: null,
    incident_id: null,
    status: 'resolved',
    severity: parseSeverity(alert.labels.severity, ctx.options.defaultSeverity),
    labels: JSON.stringify(alert.labels),
    annotations: JSON.stringify(alert.annotations),
    starts_at: startsAt,
    ends_at: endsAt,
    first_seen_at: now,
    last_seen_at: now,
    resolved_by: 'alertmanager',
  } satisfies Omit<AlertRow, 'id'>;
  const inserted = await trx.insertInto('router_alerts').values(marker).executeTakeFirstOrThrow();
  known.last.set(alert.fingerprint, { ...marker, id: Number(inserted.insertId) });
  // An alert of a truncated group that was never listed while it fired: its group's incident may now close.
  const incident = await openIncidentOf(ctx, trx, alert.labels, known);
  return { kind: 'resolved', incidentId: incident ? Number(incident.id) : null };
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
