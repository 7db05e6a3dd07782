/**
 * Turns "tell these people about this" into outbox rows — one per mail recipient (each gets their
 * own acknowledge link) and one per webhook that subscribed to the kind of message — and turns a
 * row back into the message when it is delivered. Rendering happens at delivery, so deciding to page
 * (intake, timers) stays cheap, and a broken template delays mails instead of refusing alerts.
 */
import { randomBytes } from 'node:crypto';
import type { NotificationKind } from '../../src/config/router.js';
import type { WebhookOptions } from '../options.js';
import type { RouterExecutor } from '../store/db-schema.js';
import type { Links } from '../web/links.js';
import { enqueueAll, type OutboxMessage, type RowOf } from './outbox.js';
import type { EmailTarget, MailPayload, PostTarget, WebhookPayload } from './outbox-rows.js';
import { admitPage } from './page-limit.js';
import type { MailTemplates, RenderedMail } from './templates.js';

export interface NotifyRequest {
  kind: NotificationKind;
  incidentId?: number | null;
  /** Addresses; each gets a mail of their own. */
  to: readonly string[];
  cc?: readonly string[];
  /** An OpenPAI job whose owner gets the mail (owner and address looked up in OpenPAI at delivery). */
  ownerOfJob?: string;
  /** Give each recipient a signed link that acknowledges this incident. */
  ackIncidentId?: number;
  /** Give the job's owner signed renew/release links for this job action. */
  actionLinks?: MailPayload['actionLinks'];
  data: Record<string, unknown>;
}

export interface NotifierDeps {
  templates: MailTemplates;
  /** False without SMTP settings: mails are not queued at all. */
  emailEnabled: boolean;
  webhooks: readonly WebhookOptions[];
  links: Links;
  /** Pages and escalations per receiver per minute; the rest is held back and summarised. */
  pagesPerMinute: number;
  /** How long renew and release links stay valid (actions.renewal.linkTtl). */
  actionLinkTtlMs: number;
}

/** The kinds that count against the page limit. */
const LIMITED_KINDS: readonly NotificationKind[] = ['page', 'escalation'];

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  /** Queues the messages in the caller's transaction; returns the mail recipients. */
  async send(trx: RouterExecutor, request: NotifyRequest, now: number): Promise<string[]> {
    const recipients: string[] = [];
    const queued: OutboxMessage[] = [];
    const cc = unique(request.cc ?? []).filter((a) => !request.to.includes(a));
    const mail = (target: EmailTarget, ackIncidentId?: number, actionLinks?: MailPayload['actionLinks']): OutboxMessage => {
      const payload: MailPayload = {
        data: request.data,
        ackIncidentId,
        actionLinks,
        messageId: `<gpuwatch.${request.kind}.${request.incidentId ?? 0}.${randomBytes(8).toString('hex')}@gpuwatch>`,
      };
      return { channel: 'email', kind: request.kind, incidentId: request.incidentId, target, payload };
    };
    if (this.deps.emailEnabled) {
      if (request.ownerOfJob !== undefined) {
        queued.push(mail({ to: [], cc, ownerOfJob: request.ownerOfJob }, undefined, request.actionLinks));
        recipients.push(`the owner of ${request.ownerOfJob}`);
      }
      for (const address of unique(request.to)) {
        if (LIMITED_KINDS.includes(request.kind) && !(await admitPage(trx, address, request.incidentId, this.deps.pagesPerMinute, now))) {
          recipients.push(`${address} (held back: more than ${this.deps.pagesPerMinute} pages this minute)`);
          continue;
        }
        queued.push(mail({ to: [address], cc }, request.ackIncidentId));
        recipients.push(address);
      }
    }
    for (const hook of this.deps.webhooks.filter((w) => w.events.includes(request.kind))) {
      const target: PostTarget = { url: hook.url, timeoutMs: hook.timeoutMs, format: hook.format };
      const payload: WebhookPayload = { data: request.data, to: [...request.to], ownerOfJob: request.ownerOfJob };
      queued.push({ channel: 'webhook', kind: request.kind, incidentId: request.incidentId, target, payload });
    }
    await enqueueAll(trx, queued, now);
    return recipients;
  }

  /**
   * The mail an e-mail row stands for, addressed to `recipient` (with their acknowledge link).
   * The link is signed now, as the mail goes out: a page held back by an SMTP outage still
   * arrives with a link valid for the whole ackLinkTtl.
   */
  composeMail(row: RowOf<'email'>, recipient: string, now: number): RenderedMail & { messageId: string } {
    const payload = row.payload;
    const { links, templates } = this.deps;
    const ackUrl = payload.ackIncidentId === undefined ? undefined : links.ack(payload.ackIncidentId, recipient, now);
    const action = payload.actionLinks;
    const ttl = this.deps.actionLinkTtlMs;
    const renewUrl = action?.renew ? links.actionLink('renew', action.actionId, action.owner, now, ttl) : undefined;
    const releaseUrl = action ? links.actionLink('release', action.actionId, action.owner, now, ttl) : undefined;
    const data = { ...payload.data, boardUrl: links.board(), recipient, ackUrl, renewUrl, releaseUrl, linksUntil: action ? now + ttl : undefined };
    return { ...templates.render(row.kind, data), messageId: payload.messageId };
  }

  /** The body a webhook row stands for, in the hook's format. */
  composeWebhook(row: RowOf<'webhook'>): Record<string, unknown> {
    const payload = row.payload;
    const request: NotifyRequest = { kind: row.kind, incidentId: row.incidentId, to: payload.to, ownerOfJob: payload.ownerOfJob, data: payload.data };
    const summary = this.deps.templates.render(request.kind, { ...payload.data, boardUrl: this.deps.links.board() });
    return row.target.format === 'slack' ? slackMessage(request, summary) : jsonMessage(request, summary, row.createdAt);
  }
}

/** The router's own webhook body: what happened, to which incident, and who was told. */
export function jsonMessage(request: NotifyRequest, summary: RenderedMail, at: number): Record<string, unknown> {
  const { incident, job, owner, action, outcome } = request.data as Record<string, unknown>;
  return {
    version: '1',
    event: request.kind,
    at: new Date(at).toISOString(),
    summary: summary.subject,
    text: summary.text,
    incident: incident ?? null,
    recipients: [...request.to, ...(request.ownerOfJob === undefined ? [] : [`owner of ${request.ownerOfJob}`])],
    job: job ?? null,
    owner: owner ?? null,
    action: action ?? null,
    outcome: outcome ?? null,
  };
}

const EMOJI: Record<NotificationKind, string> = {
  page: ':rotating_light:',
  escalation: ':sos:',
  handoff: ':handshake:',
  resolved: ':white_check_mark:',
  'owner-warning': ':warning:',
  'owner-reminder': ':hourglass:',
  'action-result': ':gear:',
  'page-summary': ':mailbox_with_mail:',
  'watchdog-silent': ':no_bell:',
  'watchdog-back': ':bell:',
};

/** A Slack-compatible incoming-webhook message (Mattermost and Rocket.Chat read the same `text`). */
export function slackMessage(request: NotifyRequest, summary: RenderedMail): Record<string, unknown> {
  const incident = request.data.incident as { url?: string } | undefined;
  const link = incident?.url ? `\n<${incident.url}|Open the incident>` : '';
  return { text: `${EMOJI[request.kind]} *${escapeSlack(summary.subject)}*${link}` };
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
