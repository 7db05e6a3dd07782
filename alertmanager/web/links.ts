/** Links in messages and pages: the board, an incident, and signed one-click acknowledge links. */
import { signAckToken } from './ack-token.js';

export class Links {
  constructor(
    private base: string,
    private readonly ackSecret: string,
    private readonly ackTtlMs: number,
  ) {}

  /** Once the server is bound (port 0 in tests), links use the real address unless publicUrl was given. */
  setBase(base: string): void {
    this.base = base.replace(/\/+$/, '');
  }

  get secret(): string {
    return this.ackSecret;
  }

  board(): string {
    return `${this.base}/`;
  }

  incident(id: number): string {
    return `${this.base}/incidents/${id}`;
  }

  ack(incidentId: number, actor: string, now: number): string {
    return `${this.base}/ack/${signAckToken({ incidentId, actor, expiresAt: now + this.ackTtlMs }, this.ackSecret)}`;
  }
}
