/**
 * What the board's pages show, read from the store: incidents with the jobs their alerts hit and
 * their SLA text (counted in each incident's frozen working hours), and one incident's timeline in
 * the board's time zone.
 */
import { actionView, type ActionView } from '../actions/renewal.js';
import type { RouterContext } from '../context.js';
import { policyOf } from '../incident/incidents.js';
import { termsOf } from '../incident/policy.js';
import { alertView, incidentView, type AlertView, type IncidentRow, type IncidentView } from '../incident/views.js';
import type { IncidentDetail } from '../router.js';
import type { RouterDb } from '../store/db-schema.js';
import type { Links } from './links.js';
import { localizeTimes, slaText } from './local-time.js';
import { jobsOf, type JobHit } from './view-helpers.js';

export interface BoardIncident extends IncidentView {
  hits: JobHit[];
  /** "acknowledge due Mon 10:30 CET · 3h 20m of working time left", or '' when nothing is due. */
  sla: string;
}

/** The SLA line of an incident now: the acknowledgement deadline while open, else the next update. */
export function slaOf(row: IncidentRow, now: number, zone: string): string {
  const policy = policyOf(row);
  const { hours } = termsOf(policy, Number(row.severity));
  const ackDue = row.ack_due_at === null ? null : Number(row.ack_due_at);
  const updateDue = row.update_due_at === null ? null : Number(row.update_due_at);
  if (row.status === 'open' && ackDue !== null) return slaText({ kind: 'acknowledge', dueAt: ackDue, hours, workingHours: policy.workingHours }, now, zone);
  if (row.status !== 'resolved' && updateDue !== null)
    return slaText({ kind: 'update', dueAt: updateDue, hours, workingHours: policy.workingHours }, now, zone);
  return '';
}

export async function activeIncidents(db: RouterDb, links: Links, now: number, zone: string): Promise<BoardIncident[]> {
  const rows = await db
    .selectFrom('router_incidents')
    .selectAll()
    .where('status', '!=', 'resolved')
    .orderBy('opened_at', 'desc')
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
  const out: BoardIncident[] = [];
  for (const row of rows) {
    const alerts = await db
      .selectFrom('router_alerts')
      .selectAll()
      .where('incident_id', '=', row.id)
      .where('status', '=', 'firing')
      .orderBy('id')
      .limit(50)
      .execute();
    out.push({ ...incidentView(row, links), hits: jobsOf(alerts.map(alertView)), sla: slaOf(row, now, zone) });
  }
  return out;
}

export interface IncidentPage extends IncidentDetail {
  hits: JobHit[];
  sla: string;
  /** Its job actions: state, deadline, renewals (the buttons renew or release those in grace). */
  actions: ActionView[];
}

/** An incident's page: its detail with the jobs it hits, its SLA line, and timeline messages in local time. */
export async function incidentPage(ctx: Pick<RouterContext, 'db' | 'options'>, detail: IncidentDetail, now: number, zone: string): Promise<IncidentPage> {
  const db = ctx.db;
  const row = await db.selectFrom('router_incidents').selectAll().where('id', '=', detail.incident.id).executeTakeFirstOrThrow();
  const actions = await db.selectFrom('router_actions').selectAll().where('incident_id', '=', detail.incident.id).orderBy('id').limit(50).execute();
  const firing = detail.alerts.filter((a: AlertView) => a.status === 'firing');
  return {
    ...detail,
    timeline: detail.timeline.map((e) => ({ ...e, message: localizeTimes(e.message, zone) })),
    postmortem: detail.postmortem && { ...detail.postmortem, markdown: localizeTimes(detail.postmortem.markdown, zone) },
    hits: jobsOf(firing.length > 0 ? firing : detail.alerts),
    sla: slaOf(row, now, zone),
    actions: actions.map((a) => actionView(ctx, a)),
  };
}
