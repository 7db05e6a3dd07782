/**
 * Bearer tokens, shared by every gpuwatch service: reading `Authorization: Bearer <token>`,
 * comparing secrets in constant time, and the guard that asks for one token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';

/** The token of an `Authorization: Bearer <token>` header (scheme in any case), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** Whether two secrets are equal, in a time that does not tell where they differ. */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const a = typeof given === 'string' ? Buffer.from(given) : given;
  const b = typeof expected === 'string' ? Buffer.from(expected) : expected;
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Answers 401 with the Bearer challenge. */
export function refuseWithoutBearer(res: Response, error = 'a valid bearer token is required'): void {
  res.status(401).set('www-authenticate', 'Bearer').json({ error });
}

/** What the guard does when no token is configured: let every request through, or refuse (403) saying why. */
export type WithoutToken = 'let-through' | { refuse: string };

/** Lets a request through when its bearer token is `expected`; otherwise answers 401. */
export function requireBearer(expected: string | undefined, withoutToken: WithoutToken): RequestHandler {
  const secret = expected === undefined ? undefined : Buffer.from(expected);
  return (req, res, next) => {
    if (secret === undefined) {
      if (withoutToken === 'let-through') next();
      else res.status(403).json({ error: withoutToken.refuse });
      return;
    }
    if (!sameSecret(bearerToken(req.headers.authorization) ?? '', secret)) {
      refuseWithoutBearer(res);
      return;
    }
    next();
  };
}
