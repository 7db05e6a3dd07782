/** Links in messages and pages: the board, an incident, signed acknowledge links and renew/release links. */
import { signAckToken, signLinkToken, type AckKey } from './ack-token.js';

export class Links {
  constructor(
    private base: string,
    private readonly ackKey: AckKey,
    private readonly ackTtlMs: number,
  ) {}

  /** Once the server is bound (port 0 in tests), links use the real address unless publicUrl was given. */
  setBase(base: string): void {
    this.base = base.replace(/\/+$/, '');
  }

  get key(): AckKey {
    return this.ackKey;
  }

  board(): string {
    return `${this.base}/`;
  }

  incident(id: number): string {
    return `${this.base}/incidents/${id}`;
  }

  /** @param now when the link is sent: it is valid for ackLinkTtl from then. */
  ack(incidentId: number, actor: string, now: number): string {
    return `${this.base}/ack/${signAckToken({ incidentId, actor, expiresAt: now + this.ackTtlMs }, this.ackKey)}`;
  }

  /** A job action's renew or release link for its owner, valid for `ttlMs` from `now` (when the mail is sent). */
  actionLink(purpose: 'renew' | 'release', actionId: number, owner: string, now: number, ttlMs: number): string {
    return `${this.base}/actions/${purpose}/${signLinkToken(purpose, { subject: actionId, actor: owner, expiresAt: now + ttlMs }, this.ackKey)}`;
  }
}
