/** Bearer-token guard for the write endpoints (rule changes, actions, audit). */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { bearerToken } from './token.js';

export function requireApiToken(apiToken: string | undefined): RequestHandler {
  const expected = apiToken === undefined ? undefined : Buffer.from(apiToken);
  return (req, res, next) => {
    if (!expected) {
      res.status(403).json({ error: 'refused: the rule service has no apiToken configured' });
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
