/** E-mail through SMTP (nodemailer). Recipients named by OpenPAI user are looked up at delivery. */
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpOptions } from '../options.js';
import type { Channel, DeliveryResult, OutboxRow } from './outbox.js';
import type { RenderedMail } from './templates.js';

export interface EmailTarget {
  to: string[];
  cc?: string[];
  /** An OpenPAI user whose address is looked up when the mail goes out (job owners). */
  owner?: string;
}

/** Renders a row's mail for its recipient (who gets the acknowledge link), as it is sent. */
export type ComposeMail = (row: OutboxRow, recipient: string) => RenderedMail & { messageId: string };

export interface AddressBook {
  emailOf(user: string): Promise<{ ok: true; email: string } | { ok: false; permanent: boolean; error: string }>;
}

export class EmailChannel implements Channel {
  private readonly transport: Transporter;

  constructor(
    private readonly smtp: SmtpOptions,
    private readonly compose: ComposeMail,
    private readonly addresses?: AddressBook,
  ) {
    // Pooled: a burst of pages reuses a few open connections instead of one handshake per mail.
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 4,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTls,
      auth: smtp.auth,
      connectionTimeout: smtp.timeoutMs,
      greetingTimeout: smtp.timeoutMs,
      socketTimeout: smtp.timeoutMs,
    });
  }

  async deliver(row: OutboxRow): Promise<DeliveryResult> {
    const target = row.target as EmailTarget;
    const to = [...target.to];
    if (target.owner !== undefined) {
      const found = this.addresses ? await this.addresses.emailOf(target.owner) : { ok: false as const, permanent: true, error: 'no OpenPAI rest-server or owner mail domain configured' };
      if (!found.ok) return { ok: false, permanent: found.permanent, error: `address of ${target.owner}: ${found.error}` };
      to.push(found.email);
    }
    if (to.length === 0 && (target.cc ?? []).length === 0) return { ok: false, permanent: true, error: 'no recipients' };
    const mail = this.compose(row, to[0] ?? target.cc?.[0] ?? '');
    try {
      const info = await this.transport.sendMail({
        from: this.smtp.from,
        to,
        cc: target.cc,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
      return { ok: true, detail: { to, messageId: info.messageId } };
    } catch (err) {
      const e = err as Error & { responseCode?: number; code?: string };
      // A 5xx answer to the envelope or the message is final (a rejected address); anything else —
      // no connection, a timeout, a 4xx, failed authentication — may heal, so it is retried.
      const permanent = e.responseCode !== undefined && e.responseCode >= 500 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE');
      return { ok: false, permanent, error: e.message };
    }
  }

  close(): void {
    this.transport.close();
  }
}
