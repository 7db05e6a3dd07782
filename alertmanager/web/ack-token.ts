/**
 * Acknowledge links: `<incident>.<expiry>.<recipient>` signed with HMAC-SHA256 over the
 * installation's id as well, so a link only works on the database it was made for (a re-created
 * database has a new id, and an old link cannot acknowledge the new incident with the same number).
 * A token acknowledges one incident, until it expires, in the name of the person it was sent to.
 */
import { createHmac } from 'node:crypto';
import { sameSecret } from '../../src/http/bearer.js';

export interface AckClaim {
  incidentId: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Who the link was sent to (recorded as the acknowledger). */
  actor: string;
}

/** The key material of one installation: the HMAC secret and the random id kept in its database. */
export interface AckKey {
  secret: string;
  installId: string;
}

export function signAckToken(claim: AckClaim, key: AckKey): string {
  const body = Buffer.from(JSON.stringify([claim.incidentId, Math.floor(claim.expiresAt / 1000), claim.actor])).toString('base64url');
  return `${body}.${mac(body, key)}`;
}

export type AckVerdict = { ok: true; claim: AckClaim } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

export function verifyAckToken(token: string, key: AckKey, now: number): AckVerdict {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
  if (!sameSecret(signature, mac(body, key))) return { ok: false, reason: 'bad-signature' };
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

function mac(body: string, key: AckKey): string {
  return createHmac('sha256', key.secret).update(`gpuwatch-ack:${key.installId}:${body}`).digest('base64url');
}
