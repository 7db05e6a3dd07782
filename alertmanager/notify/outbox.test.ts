import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { NOTIFICATION_KINDS } from '../../src/config/router.js';
import type { RunningRouter } from '../service.js';
import { request, startTestRouter, testOptions } from '../testing/harness.js';
import { useRouterTestbed } from '../testing/testbed.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';
import { MailTemplates } from './templates.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');

interface Captured {
  path: string;
  body: any;
}

/** A chat/webhook receiver on loopback that answers with the queued statuses (then 200). */
async function startReceiver(): Promise<{ url: string; received: Captured[]; statuses: number[]; close(): Promise<void> }> {
  const received: Captured[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, received, statuses, close: () => new Promise((r) => server.close(() => r())) };
}

const bed = useRouterTestbed(TUESDAY_10);
let running: RunningRouter;

afterEach(async () => {
  await running?.close();
});

const outboxRows = () =>
  running.db.selectFrom('router_outbox').select(['channel', 'kind', 'status', 'attempts', 'next_attempt_at', 'last_error']).orderBy('id').execute();

describe('the outbox', () => {
  it('delays pages through an SMTP outage and delivers each once when the server is back', async () => {
    running = await startTestRouter(await testOptions({}, bed.smtp.port), bed.clock);
    await bed.smtp.stop();
    await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]) });
    expect(await running.router.deliverOutbox()).toBe(0);
    const [failed] = await outboxRows();
    expect(await running.router.outbox.nextAttemptAt()).toBe(Number(failed?.next_attempt_at));
    expect(failed).toMatchObject({ channel: 'email', kind: 'page', status: 'pending', attempts: 1 });
    expect(failed?.last_error).toMatch(/ECONNREFUSED|connect/i);
    // Backoff: the first retry comes 1 s (±20 %) later, not before.
    expect(Number(failed?.next_attempt_at) - TUESDAY_10).toBeGreaterThanOrEqual(800);
    expect(await running.router.deliverOutbox()).toBe(0);
    expect((await outboxRows())[0]?.attempts).toBe(1);
    bed.clock.advance(1_300);
    expect(await running.router.deliverOutbox()).toBe(0);
    expect((await outboxRows())[0]).toMatchObject({ status: 'pending', attempts: 2 });

    await bed.smtp.listen();
    bed.clock.advance(60_000);
    expect(await running.router.deliverOutbox()).toBe(1);
    expect(await running.router.deliverOutbox()).toBe(0);
    expect(bed.smtp.mails.map((m) => m.to)).toEqual([['ben@oncall.example']]);
    expect(await running.router.outbox.nextAttemptAt()).toBeUndefined();
    expect((await outboxRows())[0]).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    const metrics = (await request(`${running.url}/metrics`)).text;
    expect(metrics).toContain('gpuwatch_router_notifications_total{channel="email",result="failed"} 2');
    expect(metrics).toContain('gpuwatch_router_notifications_total{channel="email",result="sent"} 1');
  });

  it('gives up on a mail the server rejects for good (550), and keeps retrying a 451', async () => {
    running = await startTestRouter(await testOptions({}, bed.smtp.port), bed.clock);
    bed.smtp.rejectWith = { code: 451, message: 'try again later' };
    await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]) });
    await running.router.deliverOutbox();
    expect((await outboxRows())[0]).toMatchObject({ status: 'pending', attempts: 1 });
    bed.smtp.rejectWith = { code: 550, message: 'no such mailbox' };
    bed.clock.advance(5_000);
    await running.router.deliverOutbox();
    expect((await outboxRows())[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect((await outboxRows())[0]?.last_error).toMatch(/550/);
    bed.clock.advance(3_600_000);
    expect(await running.router.deliverOutbox()).toBe(0);
  });

  it('fails a row of an unknown channel or shape for good, naming the field, and delivers the others', async () => {
    running = await startTestRouter(await testOptions({}, bed.smtp.port), bed.clock);
    const stored = (channel: string, kind: string, target: unknown, payload: unknown) => ({
      channel,
      kind,
      incident_id: null,
      target: JSON.stringify(target),
      payload: JSON.stringify(payload),
      status: 'pending' as const,
      attempts: 0,
      next_attempt_at: TUESDAY_10,
      lease_owner: null,
      lease_until: null,
      last_error: null,
      created_at: TUESDAY_10,
      sent_at: null,
    });
    await running.db
      .insertInto('router_outbox')
      .values([
        stored('email', 'page', { cc: ['ben@oncall.example'] }, { data: {}, messageId: '<m@x>' }),
        stored('email', 'gossip', { to: ['ben@oncall.example'] }, { data: {}, messageId: '<m@x>' }),
        stored('fax', 'page', {}, {}),
        stored('webhook', 'page', { url: 42, timeoutMs: 1_000 }, { data: {}, to: [] }),
      ])
      .execute();
    await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]) });
    expect(await running.router.deliverOutbox()).toBe(5);
    const rows = await outboxRows();
    expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual([
      ['email', 'failed', 1],
      ['email', 'failed', 1],
      ['fax', 'failed', 1],
      ['webhook', 'failed', 1],
      ['email', 'sent', 1],
    ]);
    expect(rows[0]?.last_error).toBe('outbox row 1 (email, page) does not fit its channel: target.to: Required');
    expect(rows[1]?.last_error).toMatch(/^outbox row 2 \(email, gossip\) does not fit its channel: kind: Invalid enum value/);
    expect(rows[2]?.last_error).toMatch(
      /^outbox row 3 \(fax, page\) does not fit its channel: channel: Invalid discriminator value\. Expected 'email' \| 'webhook' \| 'rule-service'/,
    );
    expect(rows[3]?.last_error).toBe('outbox row 4 (webhook, page) does not fit its channel: target.url: Expected string, received number');
    expect(bed.smtp.mails.map((m) => m.to)).toEqual([['ben@oncall.example']]);
    bed.clock.advance(3_600_000);
    expect(await running.router.deliverOutbox()).toBe(0);
  });

  it('posts JSON and Slack-compatible webhooks, retrying a failing receiver', async () => {
    const receiver = await startReceiver();
    try {
      running = await startTestRouter(
        await testOptions({
          webhooks: [
            { url: `${receiver.url}/json`, format: 'json' },
            { url: `${receiver.url}/chat`, format: 'slack', events: ['page', 'resolved'] },
          ],
        }),
        bed.clock,
      );
      receiver.statuses.push(503);
      const alert = gpuAlert('node-1', { startsAt: TUESDAY_10, summary: 'XID 79 <fell off the bus>' });
      await request(`${running.url}/api/v1/alertmanager`, { body: webhook([alert]) });
      await running.router.deliverOutbox();
      expect(receiver.received).toHaveLength(2);
      bed.clock.advance(2_000);
      await running.router.deliverOutbox();
      expect(receiver.received).toHaveLength(3);
      const json = receiver.received.filter((r) => r.path === '/json').at(-1)?.body;
      expect(json).toMatchObject({
        version: '1',
        event: 'page',
        summary: '[SEV1] XID 79 <fell off the bus> (prod-a) #1',
        incident: { id: 1, severity: 1, cluster: 'prod-a', status: 'open' },
        recipients: ['ben@oncall.example'],
      });
      const chat = receiver.received.find((r) => r.path === '/chat')?.body;
      expect(chat).toEqual({ text: `:rotating_light: *[SEV1] XID 79 &lt;fell off the bus&gt; (prod-a) #1*\n<${running.url}/incidents/1|Open the incident>` });
      const metrics = (await request(`${running.url}/metrics`)).text;
      expect(metrics).toContain('gpuwatch_router_notifications_total{channel="chat",result="sent"} 1');
      expect(metrics).toMatch(/gpuwatch_router_notifications_total\{channel="webhook",result="failed"\} 1/);
    } finally {
      await receiver.close();
    }
  });
});

describe('mail templates', () => {
  it('renders every kind with a subject, a text body and an escaped HTML body', () => {
    const templates = new MailTemplates('Europe/Berlin');
    const incident = {
      id: 7,
      title: 'GPU <b>down</b>',
      severity: 1,
      cluster: 'prod-a',
      clusterPriority: 'production',
      scope: 'node',
      subject: 'n1',
      status: 'open',
      openedAt: TUESDAY_10,
      ackDueAt: TUESDAY_10 + 1_800_000,
      url: 'http://router/incidents/7',
    };
    const data = {
      incident,
      alerts: [],
      incidents: [incident],
      incoming: ['ana'],
      outgoing: ['ben'],
      shiftStart: TUESDAY_10,
      dris: ['ana'],
      job: 'alice~train',
      owner: 'alice',
      action: 'kill',
      actionPast: 'stopped',
      outcome: 'done',
      graceUntil: TUESDAY_10,
      tier: 'second-line',
      ackUrl: 'http://router/ack/x',
      boardUrl: 'http://router/',
    };
    for (const kind of NOTIFICATION_KINDS) {
      const mail = templates.render(kind, data);
      expect(mail.subject.length, kind).toBeGreaterThan(5);
      expect(mail.subject, kind).not.toContain('\n');
      expect(mail.text.length, kind).toBeGreaterThan(20);
      expect(mail.html, kind).toContain('<!doctype html>');
      expect(mail.html, kind).not.toContain('<b>down</b>');
    }
    expect(templates.render('page', data).subject).toBe('[SEV1] GPU <b>down</b> (prod-a) #7');
    expect(templates.render('page', data).html).toContain('GPU &lt;b&gt;down&lt;/b&gt;');
    expect(templates.render('page', data).text).toContain('Acknowledge by: Tue 2025-03-11 10:30');
  });
});
