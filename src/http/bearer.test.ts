import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerToken, requireBearer, sameSecret } from './bearer.js';
import { listen, type Listening } from './listen.js';

describe('bearerToken', () => {
  it('reads the token of the Bearer scheme, in any case, and nothing else', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('sameSecret', () => {
  it('is true only for the same bytes, whatever the lengths', () => {
    expect(sameSecret('s3cret', 's3cret')).toBe(true);
    expect(sameSecret(Buffer.from('s3cret'), 's3cret')).toBe(true);
    expect(sameSecret('s3cres', 's3cret')).toBe(false);
    expect(sameSecret('s3cret-and-more', 's3cret')).toBe(false);
    expect(sameSecret('', 's3cret')).toBe(false);
  });
});

describe('requireBearer', () => {
  let server: Listening;
  beforeAll(async () => {
    const app = express();
    const ok = (_req: express.Request, res: express.Response) => void res.json({ ok: true });
    app.post('/guarded', requireBearer('s3cret', { refuse: 'no token set' }), ok);
    app.post('/unset-refused', requireBearer(undefined, { refuse: 'no token set' }), ok);
    app.post('/unset-open', requireBearer(undefined, 'let-through'), ok);
    server = await listen(app, '127.0.0.1:0');
  });
  afterAll(() => server.close());

  const post = (path: string, authorization?: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } });

  it('lets the right token through and answers 401 with the challenge otherwise', async () => {
    expect((await post('/guarded', 'Bearer s3cret')).status).toBe(200);
    for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-longer', 'Basic s3cret']) {
      const res = await post('/guarded', authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toEqual({ error: 'a valid bearer token is required' });
    }
  });

  it('without a token, refuses with the reason given or lets every request through', async () => {
    const refused = await post('/unset-refused', 'Bearer anything');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'no token set' });
    expect((await post('/unset-open')).status).toBe(200);
  });
});
