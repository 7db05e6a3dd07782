/**
 * Signed links: `<subject>.<expiry>.<recipient>` signed with HMAC-SHA256 over the link's purpose
 * and the installation's id as well, so a link only works on the database it was made for (a
 * re-created database has a new id, and an old link cannot act on the new row with the same
 * number) and only for what it was made for (a renew link is no acknowledge link).
 *
 * Purposes: `ack` (the subject is an incident: acknowledge it in the recipient's name), `renew`
 * and `release` (the subject is a job action: keep the job longer, or stop it now, in the name of
 * the job's owner). A token acts on one subject, until it expires, in the name of its recipient.
 */
import { createHmac } from 'node:crypto';
import { sameSecret } from '../../src/http/bearer.js';

export const LINK_PURPOSES = ['ack', 'renew', 'release'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

export interface LinkClaim {
  /** The incident (ack) or the job action (renew, release). */
  subject: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** Who the link was sent to (recorded as the one who acted). */
  actor: string;
}

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

export type LinkVerdict<C> = { ok: true; claim: C } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' };

export function signLinkToken(purpose: LinkPurpose, claim: LinkClaim, key: AckKey): string {
  const body = Buffer.from(JSON.stringify([claim.subject, Math.floor(claim.expiresAt / 1000), claim.actor])).toString('base64url');
  return `${body}.${mac(purpose, body, key)}`;
}

export function verifyLinkToken(purpose: LinkPurpose, token: string, key: AckKey, now: number): LinkVerdict<LinkClaim> {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
  if (!sameSecret(signature, mac(purpose, body, key))) return { ok: false, reason: 'bad-signature' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return { ok: false, reason: 'malformed' };
  const [subject, expiresSeconds, actor] = parsed as unknown[];
  if (!Number.isInteger(subject) || !Number.isInteger(expiresSeconds) || typeof actor !== 'string') return { ok: false, reason: 'malformed' };
  const claim = { subject: subject as number, expiresAt: (expiresSeconds as number) * 1000, actor };
  if (now >= claim.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claim };
}

export function signAckToken(claim: AckClaim, key: AckKey): string {
  return signLinkToken('ack', { subject: claim.incidentId, expiresAt: claim.expiresAt, actor: claim.actor }, key);
}

export function verifyAckToken(token: string, key: AckKey, now: number): LinkVerdict<AckClaim> {
  const verdict = verifyLinkToken('ack', token, key, now);
  if (!verdict.ok) return verdict;
  const { subject, expiresAt, actor } = verdict.claim;
  return { ok: true, claim: { incidentId: subject, expiresAt, actor } };
}

/** The purpose is part of what is signed (`gpuwatch-ack:` for acknowledge links, as before). */
function mac(purpose: LinkPurpose, body: string, key: AckKey): string {
  return createHmac('sha256', key.secret).update(`gpuwatch-${purpose}:${key.installId}:${body}`).digest('base64url');
}
