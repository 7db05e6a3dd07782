/**
 * Reading an incident inside the caller's transaction: the row (locked for update), its alerts, and
 * the data the notification templates get. Used by the incident life cycle and by the job actions.
 */
import type { RouterContext } from '../context.js';
import type { RouterTx } from '../store/db-schema.js';
import { forUpdate } from '../store/transact.js';
import { alertView, incidentView, type AlertRow, type IncidentRow, type IncidentView } from './views.js';

export async function lockIncident(ctx: RouterContext, trx: RouterTx, id: number): Promise<IncidentRow | undefined> {
  return forUpdate(trx.selectFrom('router_incidents').selectAll().where('id', '=', id), ctx.dialect).executeTakeFirst();
}

export async function alertsOf(trx: RouterTx, incidentId: number, status?: 'firing' | 'resolved'): Promise<AlertRow[]> {
  let query = trx.selectFrom('router_alerts').selectAll().where('incident_id', '=', incidentId);
  if (status) query = query.where('status', '=', status);
  return query.orderBy('id').execute();
}

/** Template data: the incident and its alerts. */
export async function incidentData(
  ctx: RouterContext,
  trx: RouterTx,
  row: IncidentRow,
): Promise<{ incident: IncidentView; alerts: ReturnType<typeof alertView>[] }> {
  const firing = await alertsOf(trx, Number(row.id), 'firing');
  const alerts = firing.length > 0 ? firing : await alertsOf(trx, Number(row.id));
  return { incident: incidentView(row, ctx.links), alerts: alerts.slice(0, 50).map(alertView) };
}
