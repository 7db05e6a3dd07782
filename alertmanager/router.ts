/**
 * The router's stages wired together — intake → incident → schedule/SLA → notify (outbox) → act —
 * over one database and one clock. The HTTP layer and the background loops call into this; tests
 * drive it directly with a manual clock.
 */
import { onActionDue } from './actions/carry-out.js';
import { countDeliveredReminder, onReminderDue } from './actions/reminders.js';
import { OwnerDirectory } from './actions/owner-directory.js';
import { RuleServiceChannel } from './actions/rule-service-channel.js';
import type { Clock } from './clock.js';
import type { RouterContext } from './context.js';
import { onAckDeadline, onUpdateDue } from './incident/deadlines.js';
import { acknowledgeIncident, postUpdate, resolveIncident, type IncidentOutcome } from './incident/incidents.js';
import type { Postmortem, TimelineEntry } from './incident/postmortem.js';
import { alertView, incidentView, type AlertView, type IncidentView } from './incident/views.js';
import { receiveWebhook, type IntakeResult } from './intake/intake.js';
import { onWatchdogSilent } from './intake/watchdog.js';
import { fetchHeldAlerts, reconcile, type ReconcileResult } from './intake/reconciler.js';
import type { WebhookPayload } from './intake/webhook-schema.js';
import { RouterMetrics } from './metrics.js';
import { EmailChannel } from './notify/email.js';
import { WebhookChannel } from './notify/http-post.js';
import { Notifier } from './notify/notifier.js';
import { onPageSummaryDue } from './notify/page-limit.js';
import { OutboxDispatcher, type Channels, type DeliveryResult, type OutboxRow } from './notify/outbox.js';
import { MailTemplates } from './notify/templates.js';
import type { RouterOptions } from './options.js';
import { ensureHandoffTimer, onHandoffDue } from './schedule/handoff.js';
import { Rotation, type OnCallSegment } from './schedule/rotation.js';
import type { Logger } from '../src/log.js';
import { readAudit, type AuditRecord } from './store/audit.js';
import type { IncidentStatus, RouterDb } from './store/db-schema.js';
import { timelineOf } from './store/events.js';
import { inTransaction, type Dialect } from './store/transact.js';
import { TimerRunner } from './timers/timers.js';
import { verifyAckToken, type AckClaim } from './web/ack-token.js';
import { Links } from './web/links.js';

export interface RouterDeps {
  db: RouterDb;
  dialect: Dialect;
  clock: Clock;
  options: RouterOptions;
  log: Logger;
  installId: string;
  ackSecret: string;
  /** Base URL for links until the server is bound (publicUrl wins when set). */
  baseUrl: string;
}

export interface IncidentDetail {
  incident: IncidentView;
  alerts: AlertView[];
  timeline: TimelineEntry[];
  postmortem: Postmortem | null;
}

export interface OnCallAnswer {
  at: string;
  timeZone: string;
  /** When `at` lies before the rotation's first shift: when that shift begins (nobody is on call until then). */
  firstShiftAt: string | null;
  now: OnCallSegmentView;
  next: OnCallSegmentView[];
}

export interface OnCallSegmentView {
  from: string;
  to: string;
  dris: { name: string; email: string }[];
  source: OnCallSegment['source'];
}

export type IncidentFilter = 'active' | IncidentStatus | 'all';

export type AckLinkRefusal = { ok: false; status: 400 | 403 | 410; error: string };

export class Router {
  readonly ctx: RouterContext;
  readonly timers: TimerRunner;
  readonly outbox: OutboxDispatcher;
  readonly metrics: RouterMetrics;
  private readonly email: EmailChannel | undefined;
  /** Called when there is new work for the background loops (set by the service). */
  onWork: { timerAt(at: number): void; outbox(): void } = { timerAt: () => undefined, outbox: () => undefined };

  constructor(deps: RouterDeps) {
    const { db, dialect, clock, options, log } = deps;
    const links = new Links(options.publicUrl ?? deps.baseUrl, { secret: deps.ackSecret, installId: deps.installId }, options.ackLinkTtlMs);
    this.metrics = new RouterMetrics(() => openIncidentCounts(db));
    const notifier = new Notifier({
      templates: new MailTemplates(options.workingHours.timeZone),
      emailEnabled: options.smtp !== undefined,
      webhooks: options.webhooks,
      links,
      pagesPerMinute: options.pagesPerMinute,
      actionLinkTtlMs: options.actions.renewal.linkTtlMs,
    });
    this.ctx = {
      db,
      dialect,
      clock,
      options,
      log,
      rotation: new Rotation(options.rotation, options.team),
      metrics: this.metrics,
      notifier,
      links,
      installId: deps.installId,
      wake: (at) => this.onWork.timerAt(at),
    };
    const { channels, email } = deliveryChannels(this.ctx);
    this.email = email;
    this.timers = new TimerRunner({
      db,
      dialect,
      clock,
      log,
      handlers: {
        ack: (trx, firing) => onAckDeadline(this.ctx, trx, firing),
        update: (trx, firing) => onUpdateDue(this.ctx, trx, firing),
        action: (trx, firing) => onActionDue(this.ctx, trx, firing),
        remind: (trx, firing) => onReminderDue(this.ctx, trx, firing),
        handoff: (trx, firing) => onHandoffDue(this.ctx, trx, firing),
        'page-summary': (trx, firing) => onPageSummaryDue(this.ctx, trx, firing),
        watchdog: (trx, firing) => onWatchdogSilent(this.ctx, trx, firing),
      },
    });
    this.outbox = new OutboxDispatcher({
      db,
      dialect,
      clock,
      log,
      channels,
      retry: options.retry,
      leaseMs: outboxLeaseMs(options),
      onOutcome: (row, result) => this.countDelivery(row, result),
    });
  }

  setBaseUrl(url: string): void {
    if (!this.ctx.options.publicUrl) this.ctx.links.setBase(url);
  }

  async start(): Promise<void> {
    await this.outbox.releaseStaleClaims();
    await ensureHandoffTimer(this.ctx);
  }

  async receive(payload: WebhookPayload): Promise<IntakeResult> {
    const result = await receiveWebhook(this.ctx, payload);
    if (result.paged.length > 0 || result.closed.length > 0 || result.firing > 0) this.onWork.outbox();
    return result;
  }

  acknowledge(id: number, actor: string, via: string): Promise<IncidentOutcome> {
    return this.write((trx) => acknowledgeIncident(this.ctx, trx, id, actor, via));
  }

  update(id: number, actor: string, message: string): Promise<IncidentOutcome> {
    return this.write((trx) => postUpdate(this.ctx, trx, id, actor, message));
  }

  resolve(id: number, actor: string, note: string): Promise<IncidentOutcome> {
    return this.write((trx) => resolveIncident(this.ctx, trx, id, actor, note));
  }

  /** Reads an acknowledge link from a mail without acting on it: its claim, or why it is refused. */
  checkAckLink(token: string): { ok: true; claim: AckClaim } | AckLinkRefusal {
    const verdict = verifyAckToken(token, this.ctx.links.key, this.ctx.clock.now());
    if (verdict.ok) return verdict;
    const status = verdict.reason === 'expired' ? 410 : verdict.reason === 'bad-signature' ? 403 : 400;
    const error = verdict.reason === 'expired' ? 'this acknowledge link has expired; use the board' : 'this acknowledge link is not valid';
    return { ok: false, status, error };
  }

  /** The Acknowledge button behind a mail's link: checks the signature and expiry, then acknowledges as its recipient. */
  async acknowledgeByToken(token: string): Promise<IncidentOutcome | AckLinkRefusal> {
    const checked = this.checkAckLink(token);
    if (!checked.ok) return checked;
    return this.acknowledge(checked.claim.incidentId, checked.claim.actor, 'e-mail link');
  }

  async incidents(filter: IncidentFilter = 'active', limit = 200): Promise<IncidentView[]> {
    let query = this.ctx.db.selectFrom('router_incidents').selectAll();
    if (filter === 'active') query = query.where('status', '!=', 'resolved');
    else if (filter !== 'all') query = query.where('status', '=', filter);
    const rows = await query
      .orderBy(filter === 'resolved' ? 'resolved_at' : 'opened_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => incidentView(r, this.ctx.links));
  }

  async incident(id: number): Promise<IncidentDetail | undefined> {
    const db = this.ctx.db;
    const row = await db.selectFrom('router_incidents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const alerts = await db.selectFrom('router_alerts').selectAll().where('incident_id', '=', id).orderBy('id').execute();
    return {
      incident: incidentView(row, this.ctx.links),
      alerts: alerts.map(alertView),
      timeline: await timelineOf(db, id),
      postmortem: row.postmortem === null ? null : (JSON.parse(row.postmortem) as Postmortem),
    };
  }

  /** Who is on call at `at`, and the next `count` changes. */
  onCall(at: number, count = 8): OnCallAnswer {
    const rotation = this.ctx.rotation;
    const segments = rotation.segments(at, at + 400 * 86_400_000, count + 1);
    const view = (s: OnCallSegment): OnCallSegmentView => ({
      from: new Date(s.start).toISOString(),
      to: new Date(s.end).toISOString(),
      dris: s.dris.map((d) => ({ name: d.name, email: d.email })),
      source: s.source,
    });
    const [first, ...rest] = segments;
    const now = first ?? { start: at, end: at, dris: [], source: 'rotation' as const };
    const firstShiftAt = at < rotation.firstShiftAt ? new Date(rotation.firstShiftAt).toISOString() : null;
    return { at: new Date(at).toISOString(), timeZone: this.ctx.options.rotation.handoff.timeZone, firstShiftAt, now: view(now), next: rest.map(view) };
  }

  audit(options: { subject?: string; event?: string; limit?: number }): Promise<AuditRecord[]> {
    return readAudit(this.ctx.db, options);
  }

  async runDueTimers(): Promise<number> {
    const fired = await this.timers.runDue();
    if (fired > 0) this.onWork.outbox();
    return fired;
  }

  deliverOutbox(): Promise<number> {
    return this.outbox.deliverDue();
  }

  /** One reconciliation against Alertmanager; undefined when no Alertmanager is configured. */
  async reconcileOnce(): Promise<ReconcileResult | undefined> {
    const url = this.ctx.options.reconcile.alertmanagerUrl;
    if (!url) return undefined;
    const listedAt = this.ctx.clock.now();
    const held = await fetchHeldAlerts(url, 10_000);
    const result = await reconcile(this.ctx, held, listedAt);
    if (result.alertsClosed > 0) this.onWork.outbox();
    return result;
  }

  close(): void {
    this.email?.close();
  }

  private async write(work: Parameters<typeof inTransaction<IncidentOutcome>>[1]): Promise<IncidentOutcome> {
    const outcome = await inTransaction(this.ctx.db, work);
    if (outcome.ok && outcome.changed) this.onWork.outbox();
    return outcome;
  }

  private countDelivery(row: OutboxRow, result: DeliveryResult): void {
    if (row.channel === 'rule-service') return;
    const channel = row.channel === 'webhook' && row.target.format === 'slack' ? 'chat' : row.channel;
    this.metrics.notifications.inc({ channel, result: result.ok ? 'sent' : 'failed' });
  }
}

/** Open incidents by cluster and severity, for the gpuwatch_router_incidents_open gauge. */
async function openIncidentCounts(db: RouterDeps['db']): Promise<{ cluster: string; severity: number; count: number }[]> {
  const rows = await db
    .selectFrom('router_incidents')
    .select((eb) => ['cluster', 'severity', eb.fn.countAll().as('n')])
    .where('status', '!=', 'resolved')
    .groupBy(['cluster', 'severity'])
    .execute();
  return rows.map((r) => ({ cluster: r.cluster, severity: Number(r.severity), count: Number(r.n) }));
}

/** Where outbox rows go: webhooks and the rule service always, e-mail when SMTP is configured. */
function deliveryChannels(ctx: RouterContext): { channels: Channels; email?: EmailChannel } {
  const { options, clock, notifier } = ctx;
  const owners = new OwnerDirectory(options.actions.openpai, options.actions.ownerEmailDomain, () => clock.now());
  const channels: Channels = {
    webhook: new WebhookChannel((row) => notifier.composeWebhook(row)),
    'rule-service': new RuleServiceChannel(ctx, options.actions.ruleService, owners),
  };
  if (!options.smtp) return { channels };
  const email = new EmailChannel(options.smtp, (row, recipient) => notifier.composeMail(row, recipient, clock.now()), owners, countDeliveredReminder);
  return { channels: { ...channels, email }, email };
}

/** A claimed outbox row is taken back after three times the slowest channel's timeout (at least 10 s), plus 5 s. */
function outboxLeaseMs(options: RouterContext['options']): number {
  const slowest = Math.max(options.smtp?.timeoutMs ?? 0, options.actions.ruleService?.timeoutMs ?? 0, ...options.webhooks.map((w) => w.timeoutMs), 10_000);
  return slowest * 3 + 5_000;
}
