/** Bearer tokens for the write API (and the audit log) and, when configured, for the webhook. */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** @param refuseWithout without a configured token: refuse (writes) or let through (an optional webhook token). */
export function requireToken(expectedToken: string | undefined, refuseWithout: boolean): RequestHandler {
  const expected = expectedToken === undefined ? undefined : Buffer.from(expectedToken);
  return (req, res, next) => {
    if (!expected) {
      if (refuseWithout) res.status(403).json({ error: 'refused: the router has no apiToken configured' });
      else next();
      return;
    }
    const given = Buffer.from(bearerToken(req.headers.authorization) ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'a valid bearer token is required' });
      return;
    }
    next();
  };
}
