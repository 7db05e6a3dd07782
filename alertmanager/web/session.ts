/**
 * Board logins: a signed cookie `<name, expiry, nonce>.<HMAC>` (no server-side store, so every
 * replica reads it alike), bound to the user's current token, and a CSRF token derived from it
 * that every POST made with the cookie must carry.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../../src/http/bearer.js';
import type { Identities, Identity } from './identity.js';

export const SESSION_COOKIE = 'gpuwatch_session';

export class Sessions {
  constructor(
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly identities: Identities,
  ) {}

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(identity: Identity, now: number): string {
    const body = Buffer.from(JSON.stringify([identity.name, Math.floor((now + this.ttlMs) / 1000), randomBytes(12).toString('base64url')])).toString(
      'base64url',
    );
    return `${body}.${this.mac(body, identity.name)}`;
  }

  /** The identity of a valid, unexpired cookie whose user still has the token it logged in with. */
  verify(cookie: string | undefined, now: number): Identity | undefined {
    const [body, signature, extra] = (cookie ?? '').split('.');
    if (!body || !signature || extra !== undefined) return undefined;
    const claim = parseBody(body);
    if (!claim || now >= claim.expiresAt) return undefined;
    const expected = this.mac(body, claim.name);
    if (expected === undefined || !sameSecret(expected, signature)) return undefined;
    return this.identities.identityOf(claim.name);
  }

  csrfToken(cookie: string): string {
    return createHmac('sha256', this.key).update(`gpuwatch-csrf:${cookie}`).digest('base64url');
  }

  checkCsrf(cookie: string, given: string | undefined): boolean {
    return given !== undefined && sameSecret(this.csrfToken(cookie), given);
  }

  private mac(body: string, name: string): string | undefined {
    const token = this.identities.tokenOf(name);
    if (token === undefined) return undefined;
    const tokenHash = createHash('sha256').update(token).digest('base64url');
    return createHmac('sha256', this.key).update(`gpuwatch-session:${body}:${tokenHash}`).digest('base64url');
  }
}

function parseBody(body: string): { name: string; expiresAt: number } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || !Number.isInteger(parsed[1])) return undefined;
    return { name: parsed[0], expiresAt: (parsed[1] as number) * 1000 };
  } catch {
    return undefined;
  }
}
