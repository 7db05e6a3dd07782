/**
 * Who is asking: a bearer token (a user's own, or the shared apiToken), or the board's login cookie.
 * Writes need one of them; a write made with the cookie must also carry the page's CSRF token.
 */
import { parse as parseCookies } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import { bearerToken, refuseWithoutBearer } from '../../src/http/bearer.js';
import type { Identities, Identity } from './identity.js';
import { SESSION_COOKIE, type Sessions } from './session.js';

export const CSRF_HEADER = 'x-csrf-token';

export interface Caller {
  identity: Identity;
  /** Set when the caller came with the login cookie (not a bearer token): its value. */
  cookie?: string;
}

export function sessionCookieOf(req: Request): string | undefined {
  return parseCookies(req.headers.cookie ?? '')[SESSION_COOKIE];
}

/** The caller of a request, or why it has none ('none': no credentials; 'bad-token': a bearer token nobody has). */
export function callerOf(req: Request, identities: Identities, sessions: Sessions, now: number): Caller | 'none' | 'bad-token' {
  const token = bearerToken(req.headers.authorization);
  if (req.headers.authorization !== undefined) {
    const identity = token === undefined ? undefined : identities.byToken(token);
    return identity ? { identity } : 'bad-token';
  }
  const cookie = sessionCookieOf(req);
  const identity = sessions.verify(cookie, now);
  return identity && cookie ? { identity, cookie } : 'none';
}

/** Lets a request through with `res.locals.caller` set, or answers 401/403. */
export function requireCaller(identities: Identities, sessions: Sessions, now: () => number): RequestHandler {
  return (req, res, next) => {
    if (!identities.configured) {
      res.status(403).json({ error: 'refused: the router has no apiToken and no web.users configured' });
      return;
    }
    const caller = callerOf(req, identities, sessions, now());
    if (caller === 'none' || caller === 'bad-token') {
      refuseWithoutBearer(res, caller === 'bad-token' ? 'that bearer token is not valid' : 'log in on the board, or send a valid bearer token');
      return;
    }
    if (req.method !== 'GET' && caller.cookie !== undefined && !sessions.checkCsrf(caller.cookie, csrfOf(req))) {
      res.status(403).json({ error: `refused: a write with the login cookie needs the page's CSRF token (${CSRF_HEADER})` });
      return;
    }
    res.locals.caller = caller;
    next();
  };
}

export function callerIn(res: Response): Caller {
  return res.locals.caller as Caller;
}

function csrfOf(req: Request): string | undefined {
  const header = req.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}
