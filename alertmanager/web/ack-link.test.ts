/** Acknowledge links from page mails: opening one changes nothing, its button acknowledges; signed at sending, bound to one installation. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RunningRouter } from '../service.js';
import { API_TOKEN, request } from '../testing/harness.js';
import { useRouterTestbed } from '../testing/testbed.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const run = promisify(execFile);
const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const H = 3_600_000;

const bed = useRouterTestbed(TUESDAY_10);
const router = (config: Record<string, unknown> = {}): Promise<RunningRouter> => bed.start(config);

async function pageLink(running: RunningRouter, node: string): Promise<string> {
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert(node, { startsAt: bed.clock.now() })]) });
  await running.router.deliverOutbox();
  const [page] = await bed.smtp.waitFor(1, (m) => m.subject.includes(node));
  return /Acknowledge: (\S+)/.exec(page?.text ?? '')?.[1] as string;
}

const incident = async (running: RunningRouter, id = 1) => (await request(`${running.url}/api/v1/incidents/${id}`)).json.incident;
const press = (link: string, headers: Record<string, string> = {}) =>
  fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });

describe('acknowledge links', () => {
  it('opening the link (a mail scanner, curl) only shows the Acknowledge button; pressing it acknowledges as the recipient', async () => {
    const running = await router();
    const link = await pageLink(running, 'node-1');
    const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', link]);
    expect(stdout).toBe('200');
    await run('curl', ['-sS', '-L', '-o', '/dev/null', link]);
    expect(await incident(running)).toMatchObject({ status: 'open', acknowledgedBy: null });
    const page = await request(link);
    expect(page.text).toContain('<form method="post" action="/ack/');
    expect(page.text).toContain('Acknowledge as ben@oncall.example');

    const pressed = await press(link);
    expect(pressed.status).toBe(200);
    expect(await pressed.text()).toContain('Incident #1 acknowledged');
    expect(await incident(running)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ben@oncall.example' });
    const audit = (await request(`${running.url}/api/v1/audit?subject=incident:1`, { token: API_TOKEN })).json.entries;
    expect(audit.map((e: any) => `${e.event} ${e.actor}`)).toEqual(['incident.acknowledge ben@oncall.example']);
    expect(await (await press(link)).text()).toContain('was already acknowledged');
  });

  it('refuses a button press sent from another site', async () => {
    const running = await router();
    const link = await pageLink(running, 'node-1');
    expect((await press(link, { origin: 'https://attacker.example' })).status).toBe(403);
    expect((await press(link, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await incident(running)).status).toBe('open');
    expect((await press(link, { origin: new URL(running.url).origin })).status).toBe(200);
  });

  it('is signed when the mail goes out: a page held back by an SMTP outage arrives with a link valid for the whole TTL', async () => {
    const running = await router();
    await bed.smtp.stop();
    await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-2', { startsAt: TUESDAY_10 })]) });
    expect(await running.router.deliverOutbox()).toBe(0);
    bed.clock.advance(30 * H);
    await bed.smtp.listen();
    expect(await running.router.deliverOutbox()).toBe(1);
    const [page] = await bed.smtp.waitFor(1);
    const link = /Acknowledge: (\S+)/.exec(page?.text ?? '')?.[1] as string;
    bed.clock.advance(23 * H);
    expect((await request(link)).status).toBe(200);
    expect((await press(link)).status).toBe(200);
    expect((await incident(running)).status).toBe('acknowledged');
    expect((await request(link)).status).toBe(200);
    bed.clock.advance(2 * H);
    expect((await request(link)).status).toBe(410);
  });

  it('works only on the installation that sent it, even with the same configured secret', async () => {
    const first = await router({ ackSecret: 'one-secret-for-both-routers' });
    const link = await pageLink(first, 'node-3');
    // The database re-created (here: a second, fresh one) with the same secret: incident #1 is another incident.
    const second = await router({ ackSecret: 'one-secret-for-both-routers' });
    await request(`${second.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-4', { startsAt: TUESDAY_10 })]) });
    const replayed = link.replace(first.url, second.url);
    expect((await request(replayed)).status).toBe(403);
    expect((await press(replayed)).status).toBe(403);
    expect(await incident(second)).toMatchObject({ id: 1, subject: 'node-4', status: 'open' });
    expect((await press(link)).status).toBe(200);
  });
});
