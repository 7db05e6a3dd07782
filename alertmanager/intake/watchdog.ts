/**
 * The dead man's switch, router side. The generated rules carry an always-firing alert
 * (`alertname="Watchdog"`, `watchdog="true"`, `cluster`) that Alertmanager sends every minute. It
 * never opens an incident: each arrival records when the cluster's Watchdog was last seen (a row,
 * so every replica and a restart agree) and moves the cluster's timer `watchdog:<cluster>` to
 * `watchdog.timeout` later. When that timer fires, the pipeline (Prometheus → Alertmanager → router)
 * has been silent that long: the DRIs are mailed directly, not through Alertmanager; when the
 * Watchdog comes back, they get a recovery mail. The timer and the row's `silent_since` make each
 * of those mails go out once across replicas.
 */
import type { RouterContext } from '../context.js';
import { currentDris } from '../incident/incidents.js';
import type { RouterTx } from '../store/db-schema.js';
import { recordAudit } from '../store/audit.js';
import { forUpdate, inTransaction } from '../store/transact.js';
import { scheduleTimer, type TimerFiring } from '../timers/timers.js';
import type { WebhookAlert } from './webhook-schema.js';

export const watchdogTimerName = (cluster: string) => `watchdog:${cluster}`;

export function isWatchdog(alert: WebhookAlert): boolean {
  return alert.labels.alertname === 'Watchdog' && alert.labels.watchdog === 'true';
}

/** Records the firing Watchdogs of a webhook (resolved copies say nothing about the pipeline now). */
export async function recordWatchdogs(ctx: RouterContext, alerts: readonly WebhookAlert[]): Promise<void> {
  const clusters = [...new Set(alerts.filter((a) => a.status === 'firing').map((a) => a.labels.cluster ?? ''))].sort();
  for (const cluster of clusters) await inTransaction(ctx.db, (trx) => seen(ctx, trx, cluster));
}

async function seen(ctx: RouterContext, trx: RouterTx, cluster: string): Promise<void> {
  const now = ctx.clock.now();
  const row = await forUpdate(trx.selectFrom('router_watchdogs').selectAll().where('cluster', '=', cluster), ctx.dialect).executeTakeFirst();
  // A second replica inserting the same cluster is a conflict: the transaction runs again and finds the row.
  if (!row) await trx.insertInto('router_watchdogs').values({ cluster, last_seen_at: now, silent_since: null }).execute();
  else
    await trx
      .updateTable('router_watchdogs')
      .set({ last_seen_at: Math.max(now, Number(row.last_seen_at)), silent_since: null })
      .where('cluster', '=', cluster)
      .execute();
  const due = now + ctx.options.watchdog.timeoutMs;
  await scheduleTimer(trx, watchdogTimerName(cluster), 'watchdog', due, { cluster });
  ctx.wake(due);
  if (row && row.silent_since !== null) {
    await tellDris(ctx, trx, 'watchdog-back', { cluster, silentSince: Number(row.last_seen_at), backAt: now }, now);
    await recordAudit(trx, now, 'router', 'watchdog.back', `cluster:${cluster}`, { silentSince: Number(row.last_seen_at) });
  }
}

/** Timer `watchdog:<cluster>`: no Watchdog for `watchdog.timeout`. */
export async function onWatchdogSilent(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const { cluster } = firing.timer.payload as { cluster: string };
  const row = await forUpdate(trx.selectFrom('router_watchdogs').selectAll().where('cluster', '=', cluster), ctx.dialect).executeTakeFirst();
  if (!row || row.silent_since !== null) return;
  const now = firing.now;
  const lastSeen = Number(row.last_seen_at);
  if (now - lastSeen < ctx.options.watchdog.timeoutMs) return firing.reschedule(lastSeen + ctx.options.watchdog.timeoutMs);
  await trx.updateTable('router_watchdogs').set({ silent_since: now }).where('cluster', '=', cluster).execute();
  await tellDris(ctx, trx, 'watchdog-silent', { cluster, silentSince: lastSeen, timeoutMinutes: Math.round(ctx.options.watchdog.timeoutMs / 60_000) }, now);
  await recordAudit(trx, now, 'router', 'watchdog.silent', `cluster:${cluster}`, { lastSeenAt: lastSeen });
}

/** Straight to the DRIs on call (the second line when nobody is). */
async function tellDris(
  ctx: RouterContext,
  trx: RouterTx,
  kind: 'watchdog-silent' | 'watchdog-back',
  data: Record<string, unknown>,
  now: number,
): Promise<void> {
  const dris = currentDris(ctx, now);
  const to = dris.emails.length > 0 ? dris.emails : ctx.options.escalation.secondLine;
  await ctx.notifier.send(trx, { kind, to, data: { ...data, dris: dris.names } }, now);
}
