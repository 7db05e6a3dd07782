/**
 * E-mail through SMTP (nodemailer). A job owner's address is looked up at delivery. Every recipient
 * goes to nodemailer as one address object ({name, address}) that was checked to be a single plain
 * address, never as text nodemailer would parse (a comma or a display name there adds recipients).
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpOptions } from '../options.js';
import type { RouterTx } from '../store/db-schema.js';
import type { Channel, DeliveryResult, RowOf } from './outbox.js';
import type { RenderedMail } from './templates.js';

/** Renders a row's mail for its recipient (who gets the acknowledge link), as it is sent. */
export type ComposeMail = (row: RowOf<'email'>, recipient: string) => RenderedMail & { messageId: string };

export type OwnerLookup = { ok: true; name: string; email: string } | { ok: false; permanent: boolean; error: string };

export interface AddressBook {
  ownerOf(job: string): Promise<OwnerLookup>;
}

/** One address, local@domain, with nothing nodemailer or an SMTP server could read as a second one. */
const PLAIN_ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isPlainAddress(text: string): boolean {
  return text.length <= 254 && PLAIN_ADDRESS.test(text);
}

interface Address {
  name: string;
  address: string;
}

/** Work done in the transaction that records a mail as sent (a job action counts its delivered reminders). */
export type AfterMailSent = (trx: RouterTx, row: RowOf<'email'>) => Promise<void>;

export class EmailChannel implements Channel<'email'> {
  private readonly transport: Transporter;

  constructor(
    private readonly smtp: SmtpOptions,
    private readonly compose: ComposeMail,
    private readonly addresses?: AddressBook,
    private readonly afterSent?: AfterMailSent,
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

  async deliver(row: RowOf<'email'>): Promise<DeliveryResult> {
    const target = row.target;
    const to: Address[] = [];
    for (const address of target.to) {
      if (!isPlainAddress(address)) return { ok: false, permanent: true, error: `not a single plain e-mail address: ${JSON.stringify(address.slice(0, 100))}` };
      to.push({ name: '', address });
    }
    const cc: Address[] = (target.cc ?? []).filter(isPlainAddress).map((address) => ({ name: '', address }));
    if (target.ownerOfJob !== undefined) {
      const found = this.addresses
        ? await this.addresses.ownerOf(target.ownerOfJob)
        : { ok: false as const, permanent: true, error: 'no OpenPAI rest-server or owner mail domain configured' };
      if (!found.ok) return { ok: false, permanent: found.permanent, error: `owner of ${target.ownerOfJob}: ${found.error}` };
      to.push({ name: found.name, address: found.email });
    }
    if (to.length === 0 && cc.length === 0) return { ok: false, permanent: true, error: 'no recipients' };
    const mail = this.compose(row, to[0]?.address ?? cc[0]?.address ?? '');
    try {
      const info = await this.transport.sendMail({
        from: this.smtp.from,
        to,
        cc,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
      return { ok: true, detail: { to: to.map((a) => a.address), messageId: info.messageId } };
    } catch (err) {
      const e = err as Error & { responseCode?: number; code?: string };
      // A 5xx answer to the envelope or the message is final (a rejected address); anything else —
      // no connection, a timeout, a 4xx, failed authentication — may heal, so it is retried.
      const permanent = e.responseCode !== undefined && e.responseCode >= 500 && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE');
      return { ok: false, permanent, error: e.message };
    }
  }

  async afterDelivery(trx: RouterTx, row: RowOf<'email'>, result: DeliveryResult): Promise<void> {
    if (result.ok && this.afterSent) await this.afterSent(trx, row);
  }

  close(): void {
    this.transport.close();
  }
}
