/** An incident's timeline: what happened, when, and who did it. */
import type { TimelineEntry } from '../incident/postmortem.js';
import type { RouterExecutor } from './db-schema.js';

export async function addEvent(trx: RouterExecutor, incidentId: number, at: number, kind: string, actor: string, message: string): Promise<void> {
  await trx
    .insertInto('router_events')
    .values({ incident_id: incidentId, at, kind, actor: actor.slice(0, 255), message })
    .execute();
}

export async function timelineOf(trx: RouterExecutor, incidentId: number): Promise<TimelineEntry[]> {
  const rows = await trx.selectFrom('router_events').selectAll().where('incident_id', '=', incidentId).orderBy('id').execute();
  return rows.map((r) => ({ at: Number(r.at), kind: r.kind, actor: r.actor, message: r.message }));
}
