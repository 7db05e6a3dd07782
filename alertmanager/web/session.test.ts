import { describe, expect, it } from 'vitest';
import { actorOf, Identities } from './identity.js';
import { Sessions } from './session.js';

const H = 3_600_000;
const NOW = Date.parse('2025-03-11T09:00:00Z');

describe('board sessions', () => {
  const identities = new Identities([{ name: 'ana', token: 'ana-token' }], 'shared');
  const sessions = new Sessions('session-key', 12 * H, identities);

  it('reads back who logged in until the session expires', () => {
    const cookie = sessions.issue({ name: 'ana', shared: false }, NOW);
    expect(sessions.verify(cookie, NOW + 12 * H - 1)).toEqual({ name: 'ana', shared: false });
    expect(sessions.verify(cookie, NOW + 12 * H)).toBeUndefined();
    expect(cookie).not.toContain('ana-token');
  });

  it('refuses a changed cookie, another key, and a session whose user got a new token', () => {
    const cookie = sessions.issue({ name: 'ana', shared: false }, NOW);
    const [body, mac] = cookie.split('.') as [string, string];
    const renamed = Buffer.from(JSON.stringify(['shared-token', Math.floor((NOW + H) / 1000), 'x'])).toString('base64url');
    expect(sessions.verify(`${renamed}.${mac}`, NOW)).toBeUndefined();
    expect(sessions.verify(`${body}.${mac.slice(1)}A`, NOW)).toBeUndefined();
    expect(sessions.verify(`${body}`, NOW)).toBeUndefined();
    expect(new Sessions('other-key', 12 * H, identities).verify(cookie, NOW)).toBeUndefined();
    const rotated = new Sessions('session-key', 12 * H, new Identities([{ name: 'ana', token: 'ana-new-token' }], 'shared'));
    expect(rotated.verify(cookie, NOW)).toBeUndefined();
  });

  it('derives the CSRF token from the cookie: another session has another token', () => {
    const first = sessions.issue({ name: 'ana', shared: false }, NOW);
    const second = sessions.issue({ name: 'ana', shared: false }, NOW);
    expect(sessions.checkCsrf(first, sessions.csrfToken(first))).toBe(true);
    expect(sessions.checkCsrf(first, sessions.csrfToken(second))).toBe(false);
    expect(sessions.checkCsrf(first, undefined)).toBe(false);
  });
});

describe('the recorded actor', () => {
  const identities = new Identities([{ name: 'ana', token: 'ana-token' }], 'shared');
  it("is a user's own name whatever the request claims; the shared token says what it is", () => {
    expect(identities.byToken('ana-token')).toEqual({ name: 'ana', shared: false });
    expect(identities.byToken('nope')).toBeUndefined();
    expect(actorOf({ name: 'ana', shared: false }, 'ben')).toBe('ana');
    const shared = identities.byToken('shared');
    expect(shared).toEqual({ name: 'shared-token', shared: true });
    expect(actorOf(shared!, undefined)).toBe('shared-token');
    expect(actorOf(shared!, ' deploy-bot ')).toBe('shared-token (says deploy-bot)');
  });
});
