import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpSink } from './mail-catcher.js';

describe('mail catcher', () => {
  let sink: SmtpSink;
  let transport: Transporter;
  let saveDir: string;

  beforeAll(async () => {
    saveDir = await mkdtemp(join(tmpdir(), 'gpuwatch-mails-'));
    sink = await SmtpSink.start(0, { saveDir });
    transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
  });

  afterAll(async () => {
    transport.close();
    await sink.stop();
    await rm(saveDir, { recursive: true, force: true });
  });

  /** Sends a hand-written message as it stands through nodemailer, and returns it as the catcher read it. */
  async function sendRaw(subject: string, headers: string, body: string) {
    const raw = `From: gpuwatch@example.org\r\nTo: oncall@example.org\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n${headers}\r\n\r\n${body}`;
    const before = sink.mails.length;
    await transport.sendMail({ envelope: { from: 'gpuwatch@example.org', to: ['oncall@example.org'] }, raw });
    return (await sink.waitFor(before + 1))[before];
  }

  it('keeps the space after an encoded word in a subject', async () => {
    const mail = await sendRaw('=?UTF-8?Q?Caf=C3=A9?= ready', 'Content-Type: text/plain; charset=utf-8', 'body\r\n');
    expect(mail?.subject).toBe('Café ready');
  });

  it('decodes an ISO-8859-1 subject and a quoted-printable ISO-8859-1 body', async () => {
    const body = 'Le caf=E9 est pr=EAt, une ligne assez longue pour =\r\n\u0065tre coup=E9e.\r\n';
    const mail = await sendRaw(
      '=?ISO-8859-1?Q?Caf=E9_pr=EAt?=',
      'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable',
      body,
    );
    expect(mail?.subject).toBe('Café prêt');
    expect(mail?.text.trim()).toBe('Le café est prêt, une ligne assez longue pour etre coupée.');
  });

  it('reads the text and HTML parts of a multipart mail sent by nodemailer, and saves it as received', async () => {
    const subject = 'GPU 3 on node-7 — Xid 79 (café)';
    const text = `Acknowledge: http://127.0.0.1/ack?i=1&t=${'x'.repeat(90)}\nNodes: node-7 ✓\n`;
    const html = '<p>GPU <b>3</b> on node-7 — <a href="http://127.0.0.1/ack?i=1&amp;t=abc">Acknowledge</a></p>';
    await transport.sendMail({
      from: 'gpuwatch@example.org',
      to: 'oncall@example.org',
      subject,
      text,
      html,
      attachments: [{ filename: 'notes.txt', content: 'not the body' }],
    });
    const [mail] = await sink.waitFor(1, (m) => m.subject === subject);
    expect(mail?.text).toBe(text);
    expect(mail?.html).toBe(html);
    expect(mail?.headers.to).toBe('oncall@example.org');
    expect(mail?.headers['content-type']).toMatch(/^multipart\/mixed/);
    expect(/Acknowledge: (\S+)/.exec(mail?.text ?? '')?.[1]).toBe(`http://127.0.0.1/ack?i=1&t=${'x'.repeat(90)}`);
    const saved = (await readdir(saveDir)).find((name) => name.includes('gpu-3-on-node-7'));
    expect(saved).toBeDefined();
    expect(await readFile(join(saveDir, saved ?? ''), 'utf8')).toMatch(/^Content-Type: multipart\/mixed/m);
  });
});
