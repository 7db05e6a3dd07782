/**
 * One-click acknowledge links: `<incident>.<expiry>.<recipient>` signed with HMAC-SHA256. A token
 * acknowledges one incident, until it expires, in the name of the person it was sent to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface AckClaim {
  incidentId: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Who the link was sent to (recorded as the acknowledger). */
  actor: string;
}

export function signAckToken(claim: AckClaim, secret: string): string {
  const body = Buffer.from(JSON.stringify([claim.incidentId, Math.floor(claim.expiresAt / 1000), claim.actor])).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

export type AckVerdict = { ok: true; claim: AckClaim } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

export function verifyAckToken(token: string, secret: string, now: number): AckVerdict {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return { ok: false, reason: 'malformed' };
  const [incidentId, expiresSeconds, actor] = parsed as unknown[];
  if (!Number.isInteger(incidentId) || !Number.isInteger(expiresSeconds) || typeof actor !== 'string') return { ok: false, reason: 'malformed' };
  const claim = { incidentId: incidentId as number, expiresAt: (expiresSeconds as number) * 1000, actor };
  if (now >= claim.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claim };
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(`gpuwatch-ack:${body}`).digest('base64url');
}
