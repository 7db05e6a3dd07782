/**
 * What an outbox row holds, per channel: the row's kind, target and payload as zod schemas, one
 * branch per channel. A row read back from the database is parsed with them, so each channel gets
 * its own typed row, and a row of an unknown channel or shape fails for good with the field named
 * instead of reaching a channel that would misread it.
 */
import { z } from 'zod';
import { ACTION_CAUSES, JOB_ACTIONS } from '../actions/action-kinds.js';
import { NOTIFICATION_KINDS } from '../../src/config/router.js';

const data = z.record(z.unknown());

export const emailTargetSchema = z.object({
  to: z.array(z.string()),
  cc: z.array(z.string()).optional(),
  /** An OpenPAI job (user~name) whose owner, as OpenPAI records it, gets the mail. */
  ownerOfJob: z.string().optional(),
});

export const mailPayloadSchema = z.object({
  data,
  ackIncidentId: z.number().int().optional(),
  /** A job action's owner mail: its renew (when the policy has renewals left) and release links, signed as it is sent. */
  actionLinks: z.object({ actionId: z.number().int(), owner: z.string(), renew: z.boolean() }).optional(),
  /** Stable per message, so a mail sent again after a crash can be recognised as the same one. */
  messageId: z.string(),
});

export const postTargetSchema = z.object({
  url: z.string(),
  timeoutMs: z.number(),
  /** json or slack: kept for the notifications metric. */
  format: z.string().optional(),
  token: z.string().optional(),
});

export const webhookPayloadSchema = z.object({ data, to: z.array(z.string()), ownerOfJob: z.string().optional() });

export const ruleServiceRequestSchema = z.object({
  actionId: z.number().int(),
  job: z.string(),
  action: z.enum(JOB_ACTIONS),
  /** A request queued before causes were stored has none: the rule service then checks idleness. */
  cause: z.enum(ACTION_CAUSES).optional(),
  reason: z.string(),
  idempotencyKey: z.string(),
});

export const outboxContentSchema = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('email'), kind: z.enum(NOTIFICATION_KINDS), target: emailTargetSchema, payload: mailPayloadSchema }),
  z.object({ channel: z.literal('webhook'), kind: z.enum(NOTIFICATION_KINDS), target: postTargetSchema, payload: webhookPayloadSchema }),
  z.object({ channel: z.literal('rule-service'), kind: z.enum(JOB_ACTIONS), target: z.object({}), payload: ruleServiceRequestSchema }),
]);

export type EmailTarget = z.infer<typeof emailTargetSchema>;
export type MailPayload = z.infer<typeof mailPayloadSchema>;
export type PostTarget = z.infer<typeof postTargetSchema>;
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
export type RuleServiceRequest = z.infer<typeof ruleServiceRequestSchema>;

/** Channel, kind, target and payload of a message: one branch per channel. */
export type OutboxContent = z.infer<typeof outboxContentSchema>;
export type ChannelName = OutboxContent['channel'];

/** A message to queue. */
export type OutboxMessage = OutboxContent & { incidentId?: number | null };

/** A queued message as a channel delivers it. */
export type OutboxRow = OutboxContent & { id: number; incidentId: number | null; attempts: number; createdAt: number };

/** The row of one channel. */
export type RowOf<C extends ChannelName> = Extract<OutboxRow, { channel: C }>;

/** The stored columns as a typed message, or the problems that name what does not fit. */
export function parseOutboxContent(stored: {
  channel: string;
  kind: string;
  target: string;
  payload: string;
}): { ok: true; content: OutboxContent } | { ok: false; error: string } {
  let target: unknown;
  let payload: unknown;
  try {
    target = JSON.parse(stored.target);
    payload = JSON.parse(stored.payload);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const parsed = outboxContentSchema.safeParse({ channel: stored.channel, kind: stored.kind, target, payload });
  if (parsed.success) return { ok: true, content: parsed.data };
  return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ') };
}
