/** Links in messages and pages: the board, an incident, and signed acknowledge links. */
import { signAckToken, type AckKey } from './ack-token.js';

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
}
