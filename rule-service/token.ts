/**
 * Who a rest-server bearer token belongs to. OpenPAI tokens are JWTs whose payload names the user
 * (`username`, or `sub`); reading it needs no key because rest-server itself verifies the token when
 * the request reaches it, so a forged token gets nothing done.
 */
import { bearerToken } from '../src/http/bearer.js';

export function tokenUser(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { username?: unknown; sub?: unknown };
    const user = claims.username ?? claims.sub;
    return typeof user === 'string' && user !== '' ? user : undefined;
  } catch {
    return undefined;
  }
}

export type Submitter = { ok: true; user: string; token: string } | { ok: false; why: string };

/**
 * Who sends a request to rest-server, by any scheme it accepts: `Bearer <jwt>`, or
 * `Basic base64(user:<jwt>)` (an application token given as the password). The user is the one
 * the token names; a Basic user name that names someone else is not believed.
 */
export function submitterOf(header: string | undefined): Submitter {
  if (header === undefined || header.trim() === '') return { ok: false, why: 'the request carries no Authorization header' };
  const bearer = bearerToken(header);
  if (bearer !== undefined) return fromToken(bearer);
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header)?.[1];
  if (basic === undefined) return { ok: false, why: `unsupported authorization scheme "${header.split(/\s/)[0]}"` };
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, why: 'Basic credentials are not user:token' };
  const named = decoded.slice(0, colon);
  const submitter = fromToken(decoded.slice(colon + 1));
  if (submitter.ok && named !== '' && named !== submitter.user) return { ok: false, why: `Basic user "${named}" is not the user the token names` };
  return submitter;
}

function fromToken(token: string): Submitter {
  const user = tokenUser(token);
  return user === undefined ? { ok: false, why: 'the token names no user' } : { ok: true, user, token };
}
