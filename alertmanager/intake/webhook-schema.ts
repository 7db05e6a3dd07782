/**
 * The Alertmanager webhook (version 4) as sent by every release from 0.25 on (DESIGN §8). Unknown
 * fields are dropped, not refused: newer releases add some (e.g. `notification_reason`). Label and
 * annotation values longer than a limit are cut, with a visible marker, so one huge value is not
 * stored and copied into every mail. There is no limit on the number of alerts: a big group is
 * taken whole (Alertmanager would give up on a 4xx and page nobody).
 */
import { z } from 'zod';

const timestamp = z.string().refine(
  (t) => !Number.isNaN(Date.parse(t)),
  (t) => ({ message: `not an RFC 3339 time ("${t.slice(0, 40)}")` }),
);
/** Largest webhook body: a group of 10,000 ordinary alerts fits several times over (set `max_alerts` in alertmanager.yml for more). */
export const WEBHOOK_BODY_LIMIT = '16mb';
export const LABEL_VALUE_LIMIT = 1_024;
export const ANNOTATION_VALUE_LIMIT = 4_096;

/** `text` cut to `limit` characters, saying so at the end. */
export function truncated(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const marker = ` … [truncated by the router: ${text.length} characters]`;
  return text.slice(0, Math.max(0, limit - marker.length)) + marker;
}

const valueSet = (limit: number) =>
  z.record(z.string(), z.string()).transform((set) => Object.fromEntries(Object.entries(set).map(([k, v]) => [k.slice(0, 256), truncated(v, limit)])));
const labelSet = valueSet(LABEL_VALUE_LIMIT);
const annotationSet = valueSet(ANNOTATION_VALUE_LIMIT);

export const webhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: annotationSet.default({}),
  startsAt: timestamp,
  /** `0001-01-01T00:00:00Z` while firing. */
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128),
});

export const webhookSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: labelSet.optional(),
  commonLabels: labelSet.optional(),
  commonAnnotations: annotationSet.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(webhookAlertSchema),
});

export type WebhookPayload = z.output<typeof webhookSchema>;
export type WebhookAlert = z.output<typeof webhookAlertSchema>;

/** Parses a webhook body; on failure the message names every bad field by its path. */
export function parseWebhook(body: unknown): { ok: true; payload: WebhookPayload } | { ok: false; error: string } {
  const parsed = webhookSchema.safeParse(body);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const error = parsed.error.issues
    .slice(0, 10)
    .map((i) => `${i.path.length === 0 ? '(body)' : i.path.join('.')}: ${i.message}`)
    .join('; ');
  return { ok: false, error };
}

/** A firing alert's endsAt is Go's zero time (or a guess in the future); only resolved ones carry a real end. */
export function endOf(alert: WebhookAlert, receivedAt: number): number {
  const end = alert.endsAt === undefined ? Number.NaN : Date.parse(alert.endsAt);
  return Number.isFinite(end) && end > 0 ? end : receivedAt;
}
