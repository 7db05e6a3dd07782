/**
 * Follows what the router does, from its own tables: e-mails and IM webhooks sent for pages and
 * escalations (router_outbox) and acknowledgements and job-action steps (router_audit), written as one human
 * line each (activity-line.ts). Only what happens after the start is shown.
 */
import { parseOutboxContent } from '../alertmanager/notify/outbox-rows.js';
import type { RouterDb } from '../alertmanager/store/db-schema.js';
import type { Logger } from '../src/log.js';
import { activityLine, type IncidentRef, type OnCallPeople, type RouterActivity } from './activity-line.js';

export interface ActivityFollower {
  /** Reads what is new and writes its lines (the timer calls it; tests may too). */
  poll(): Promise<void>;
  stop(): Promise<void>;
}

const MAIL_KINDS = ['page', 'escalation'] as const;

const maxId = async (db: RouterDb, table: 'router_outbox' | 'router_audit') =>
  Number(
    (
      await db
        .selectFrom(table)
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst()
    )?.id ?? 0,
  );

/** Pages and escalations delivered since the follower started (outbox ids above `baseline`). */
const sentMailsAfter = (db: RouterDb, baseline: number) =>
  db
    .selectFrom('router_outbox')
    .select(['id', 'channel', 'kind', 'incident_id', 'target', 'payload', 'sent_at'])
    .where('channel', 'in', ['email', 'webhook'])
    .where('kind', 'in', MAIL_KINDS)
    .where('status', '=', 'sent')
    .where('id', '>', baseline)
    .orderBy('sent_at')
    .execute();

const auditEntry = (r: { at: number | string; event: string; actor: string; subject: string; detail: string }) => ({
  at: Number(r.at),
  event: r.event,
  actor: r.actor,
  subject: r.subject,
  detail: (JSON.parse(r.detail) ?? {}) as Record<string, unknown>,
});

export async function followRouterActivity(
  db: RouterDb,
  people: OnCallPeople,
  write: (line: string) => void,
  options: { intervalMs?: number; timeZone?: string; log?: Logger } = {},
): Promise<ActivityFollower> {
  const mailBaseline = await maxId(db, 'router_outbox');
  let lastAudit = await maxId(db, 'router_audit');
  const printedMails = new Set<number>();

  const newActivity = async (): Promise<RouterActivity[]> => {
    const mails = await sentMailsAfter(db, mailBaseline);
    const auditRows = await db.selectFrom('router_audit').selectAll().where('id', '>', lastAudit).orderBy('id').execute();
    lastAudit = auditRows.reduce((max, r) => Math.max(max, Number(r.id)), lastAudit);
    const audits = await withIncidentIds(db, auditRows.map(auditEntry));
    const fresh = mails.filter((m) => !printedMails.has(Number(m.id)));
    for (const m of fresh) printedMails.add(Number(m.id));
    const incidents = await incidentsById(db, [...fresh.map((m) => m.incident_id), ...audits.map((a) => a.incidentId)]);
    return [
      ...fresh.flatMap((m): RouterActivity[] =>
        recipientsOf(m).map((to) => ({
          source: 'mail',
          at: Number(m.sent_at),
          kind: m.kind as 'page' | 'escalation',
          to,
          ...withIncident(incidents, m.incident_id),
        })),
      ),
      ...audits.map(({ incidentId, ...a }): RouterActivity => ({ source: 'audit', ...a, ...withIncident(incidents, incidentId) })),
    ].sort((a, b) => a.at - b.at);
  };

  let running: Promise<void> = Promise.resolve();
  const poll = () => {
    running = running
      .then(async () => {
        for (const activity of await newActivity()) {
          const line = activityLine(activity, people, options.timeZone);
          if (line) write(line);
        }
      })
      .catch((err: Error) => options.log?.warn({ err: err.message }, 'reading the router activity failed'));
    return running;
  };
  const timer = setInterval(() => void poll(), options.intervalMs ?? 1_000);
  timer.unref();
  return {
    poll,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** An e-mail's addresses (one per row, as the router queues them), or the IM webhook's host. */
/** Who a sent row reached: its mail recipients, or the webhook's host (none for a row that does not parse). */
function recipientsOf(row: { channel: string; kind: string; target: string; payload: string }): string[] {
  const parsed = parseOutboxContent(row);
  if (!parsed.ok) return [];
  const { content } = parsed;
  if (content.channel === 'webhook') return [`the ${URL.canParse(content.target.url) ? new URL(content.target.url).host : 'IM'} webhook`];
  return content.channel === 'email' ? content.target.to : [];
}

interface AuditEntry {
  at: number;
  event: string;
  actor: string;
  subject: string;
  detail: Record<string, unknown>;
}

/**
 * The incident of each audit entry: `incident:<id>` entries name it, a job-action warning carries
 * it, and the later steps of an action carry the action's id (router_actions knows its incident).
 */
async function withIncidentIds(db: RouterDb, audits: AuditEntry[]): Promise<(AuditEntry & { incidentId?: number })[]> {
  const actionIds = audits.map((a) => a.detail.actionId).filter((id): id is number => typeof id === 'number');
  const actions = actionIds.length === 0 ? [] : await db.selectFrom('router_actions').select(['id', 'incident_id']).where('id', 'in', actionIds).execute();
  const incidentOfAction = new Map(actions.map((a) => [Number(a.id), Number(a.incident_id)]));
  return audits.map((a) => {
    const own = /^incident:(\d+)$/.exec(a.subject)?.[1];
    const incidentId = own ? Number(own) : typeof a.detail.incidentId === 'number' ? a.detail.incidentId : incidentOfAction.get(Number(a.detail.actionId));
    return incidentId === undefined ? a : { ...a, incidentId };
  });
}

async function incidentsById(db: RouterDb, ids: (number | null | undefined)[]): Promise<Map<number, IncidentRef>> {
  const wanted = [...new Set(ids.filter((id): id is number => typeof id === 'number').map(Number))];
  if (wanted.length === 0) return new Map();
  const rows = await db.selectFrom('router_incidents').select(['id', 'severity', 'title']).where('id', 'in', wanted).execute();
  return new Map(rows.map((r) => [Number(r.id), { id: Number(r.id), severity: Number(r.severity), title: r.title }]));
}

const withIncident = (incidents: Map<number, IncidentRef>, id: number | null | undefined): { incident?: IncidentRef } => {
  const incident = id === null || id === undefined ? undefined : incidents.get(Number(id));
  return incident ? { incident } : {};
};
