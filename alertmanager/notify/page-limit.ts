/**
 * At most `pagesPerMinute` pages (and escalations) per receiver per minute. What goes beyond is held
 * back and told in one summary mail at the end of the minute (timer `page-summary:<receiver>:<minute>`):
 * a flood of alerts — a storm across a cluster, or a forged webhook — cannot bury a DRI's mailbox
 * or the mail server. Counts are rows, so every replica shares them.
 */
import type { RouterContext } from '../context.js';
import type { RouterExecutor, RouterTx } from '../store/db-schema.js';
import { scheduleTimer, type TimerFiring } from '../timers/timers.js';

const MINUTE_MS = 60_000;
/** Incident ids named in one summary; the rest is a count. */
const LISTED_INCIDENTS = 50;
/** Count rows older than this are deleted when a new minute starts. */
const KEEP_MS = 3_600_000;

export const pageSummaryTimerName = (receiver: string, windowStart: number) => `page-summary:${receiver}:${windowStart}`;

/** The count row of one receiver and minute, if any page was counted there yet. */
function windowRow(trx: RouterExecutor, receiver: string, windowStart: number) {
  return trx.selectFrom('router_page_counts').selectAll().where('receiver', '=', receiver).where('window_start', '=', windowStart).executeTakeFirst();
}

async function setCounts(
  trx: RouterExecutor,
  receiver: string,
  windowStart: number,
  counts: { sent?: number; held?: number; held_incidents?: string },
): Promise<void> {
  await trx.updateTable('router_page_counts').set(counts).where('receiver', '=', receiver).where('window_start', '=', windowStart).execute();
}

/** Counts a page to `receiver`; false when it is over the limit (it is then held and summarised). */
export async function admitPage(trx: RouterExecutor, receiver: string, incidentId: number | null | undefined, limit: number, now: number): Promise<boolean> {
  const windowStart = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const row = await windowRow(trx, receiver, windowStart);
  if (!row) {
    await trx
      .deleteFrom('router_page_counts')
      .where('window_start', '<', now - KEEP_MS)
      .execute();
    // A second replica inserting the same row is a conflict: the transaction runs again and finds it.
    await trx.insertInto('router_page_counts').values({ receiver, window_start: windowStart, sent: 1, held: 0, held_incidents: '[]' }).execute();
    return limit > 0;
  }
  if (Number(row.sent) < limit) {
    await setCounts(trx, receiver, windowStart, { sent: Number(row.sent) + 1 });
    return true;
  }
  const held = JSON.parse(row.held_incidents) as number[];
  if (incidentId !== null && incidentId !== undefined && held.length < LISTED_INCIDENTS && !held.includes(incidentId)) held.push(incidentId);
  await setCounts(trx, receiver, windowStart, { held: Number(row.held) + 1, held_incidents: JSON.stringify(held) });
  if (Number(row.held) === 0)
    await scheduleTimer(trx, pageSummaryTimerName(receiver, windowStart), 'page-summary', windowStart + MINUTE_MS, { receiver, windowStart });
  return false;
}

/** Timer `page-summary:…`: the minute is over — one mail says what was held back. */
export async function onPageSummaryDue(ctx: RouterContext, trx: RouterTx, firing: TimerFiring): Promise<void> {
  const { receiver, windowStart } = firing.timer.payload as { receiver: string; windowStart: number };
  const row = await windowRow(trx, receiver, windowStart);
  if (!row || Number(row.held) === 0) return;
  const incidents = (JSON.parse(row.held_incidents) as number[]).map((id) => ({ id, url: ctx.links.incident(id) }));
  const data = {
    held: Number(row.held),
    sent: Number(row.sent),
    incidents,
    unlisted: Math.max(0, Number(row.held) - incidents.length),
    windowStart,
    windowEnd: windowStart + MINUTE_MS,
    limit: ctx.options.pagesPerMinute,
  };
  await ctx.notifier.send(trx, { kind: 'page-summary', to: [receiver], data }, firing.now);
}
