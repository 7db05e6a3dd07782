/**
 * Who a token belongs to: each user's personal token (router.web.users) or the shared apiToken,
 * which machines use and which is recorded as `shared-token`.
 */
import { sameSecret } from '../../src/http/bearer.js';
import { SHARED_TOKEN_ACTOR } from '../../src/config/router.js';

export interface Identity {
  name: string;
  /** The shared apiToken: nobody in particular. */
  shared: boolean;
}

export class Identities {
  private readonly entries: { identity: Identity; token: Buffer }[];

  constructor(users: readonly { name: string; token: string }[], sharedToken: string | undefined) {
    this.entries = users.map((u) => ({ identity: { name: u.name, shared: false }, token: Buffer.from(u.token) }));
    if (sharedToken !== undefined) this.entries.push({ identity: { name: SHARED_TOKEN_ACTOR, shared: true }, token: Buffer.from(sharedToken) });
  }

  /** Whether any token is configured (without one, every write is refused). */
  get configured(): boolean {
    return this.entries.length > 0;
  }

  byToken(token: string): Identity | undefined {
    const given = Buffer.from(token);
    // Compare with every entry, so the time taken does not tell which one matched.
    let found: Identity | undefined;
    for (const entry of this.entries) {
      if (sameSecret(given, entry.token)) found = entry.identity;
    }
    return found;
  }

  /** The token of a name, to bind a session to it (a new token ends the old sessions). */
  tokenOf(name: string): string | undefined {
    return this.entries.find((e) => e.identity.name === name)?.token.toString();
  }

  identityOf(name: string): Identity | undefined {
    return this.entries.find((e) => e.identity.name === name)?.identity;
  }
}

/**
 * The actor recorded in the audit log: a user's own name, whatever the request says; for the
 * shared token, `shared-token`, with the name the caller gave (if any) kept as what it is, a claim.
 */
export function actorOf(identity: Identity, claimed: string | undefined): string {
  if (!identity.shared) return identity.name;
  return claimed === undefined || claimed.trim() === '' ? identity.name : `${identity.name} (says ${claimed.trim()})`;
}
