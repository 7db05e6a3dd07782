/**
 * A real SMTP server on 127.0.0.1 (smtp-server) that keeps every mail it receives: in memory, read
 * by mailparser (subjects, text and HTML bodies, headers), and, when given a folder, as one .eml
 * file per mail exactly as received (what `gpuwatch stack` shows).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject, type HeaderLines, type Headers } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO). */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  private server: SMTPServer | undefined;
  /** Answer every message with this SMTP error instead of taking it (e.g. 550 for a rejected recipient). */
  rejectWith: { code: number; message: string } | undefined;

  private constructor(
    public port: number,
    private readonly host: string,
    private readonly saveDir: string | undefined,
  ) {}

  /** Listens on host:port (port 0: any free port); with `saveDir`, also writes each mail there. */
  static async start(port = 0, options: { host?: string; saveDir?: string } = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(port, options.host ?? '127.0.0.1', options.saveDir);
    await sink.listen();
    return sink;
  }

  private async save(raw: Buffer, mail: ReceivedMail): Promise<void> {
    if (!this.saveDir) return;
    const slug = mail.subject
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60)
      .toLowerCase();
    const name = `${String(this.mails.length).padStart(4, '0')}-${slug || 'mail'}.eml`;
    await writeFile(join(this.saveDir, name), raw);
  }

  private async keep(raw: Buffer, to: string[], from: string): Promise<void> {
    const mail = { ...(await readMail(raw)), to, from };
    this.mails.push(mail);
    await this.save(raw, mail);
  }

  /** Starts (again) on the same port. */
  async listen(): Promise<void> {
    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.rejectWith) {
            const err = Object.assign(new Error(this.rejectWith.message), { responseCode: this.rejectWith.code });
            callback(err);
            return;
          }
          const to = session.envelope.rcptTo.map((r) => r.address);
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const raw = Buffer.concat(chunks);
          this.keep(raw, to, from).then(
            () => callback(),
            (err: Error) => callback(Object.assign(err, { responseCode: 451 })),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.port = (server.server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits (bounded) until `count` mails match, and returns them. */
  async waitFor(count: number, match: (m: ReceivedMail) => boolean = () => true, timeoutMs = 5_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline)
        throw new Error(`expected ${count} mails, got ${found.length}: ${this.mails.map((m) => `${m.to.join(',')} "${m.subject}"`).join('; ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Subject, bodies and headers of a MIME message, decoded by mailparser (charsets, encoded words, multipart). */
export async function readMail(raw: Buffer): Promise<Omit<ReceivedMail, 'to' | 'from'>> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  return {
    headers: headerTexts(parsed.headers, parsed.headerLines),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html || '',
  };
}

/** Each header as one line of text (lower-case names): decoded where mailparser decodes it, else as sent. */
function headerTexts(headers: Headers, lines: HeaderLines): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const { key, line } of lines) {
    const value = headers.get(key);
    const decoded = typeof value === 'string' ? value : isAddressObject(value) ? value.text : undefined;
    texts[key] =
      decoded ??
      line
        .slice(line.indexOf(':') + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim();
  }
  return texts;
}

function isAddressObject(value: unknown): value is AddressObject {
  return typeof value === 'object' && value !== null && 'text' in value && typeof (value as AddressObject).text === 'string';
}
