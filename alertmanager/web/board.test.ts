/** The on-call board in headless Chromium (Debian's chromium, driven by playwright-core). */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { ManualClock } from '../clock.js';
import { launchChromium } from '../../src/testing/chromium.js';
import type { RunningRouter } from '../service.js';
import { request, startTestRouter, testOptions } from '../testing/harness.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const BEN_TOKEN = 'ben-board-token';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let smtp: SmtpSink;
let running: RunningRouter;
let cspViolations: string[];

// One Chromium for the file; every case gets its own router (a fresh in-memory database with the
// same two incidents), its own mail sink and its own browser context (no cookie or page carried
// over), so each case runs alone (`-t`) or in any order.
beforeAll(async () => {
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  smtp = await SmtpSink.start();
  running = await startTestRouter(await testOptions({ web: { users: [{ name: 'ben', token: BEN_TOKEN }] } }, smtp.port), new ManualClock(TUESDAY_10));
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-7', { startsAt: TUESDAY_10 })]) });
  await request(`${running.url}/api/v1/alertmanager`, {
    body: webhook([gpuAlert('node-8', { severity: '2', startsAt: TUESDAY_10, summary: 'ECC <errors> on node-8' })]),
  });
  await running.router.deliverOutbox();
  await smtp.waitFor(2);
  context = await browser.newContext();
  page = await context.newPage();
  cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}, 30_000);

afterEach(async () => {
  expect(cspViolations).toEqual([]);
  await context?.close();
  await running?.close();
  await smtp?.stop();
});

async function logInAsBen(): Promise<void> {
  await page.goto(`${running.url}/login`);
  await page.fill('#token-input', BEN_TOKEN);
  await Promise.all([page.waitForURL(`${running.url}/`), page.click('#login-submit')]);
}

async function acknowledgeOnTheBoard(incident: number): Promise<void> {
  await page.goto(`${running.url}/`);
  await Promise.all([page.waitForEvent('load'), page.locator(`tr[data-incident="${incident}"] button[data-action="ack"]`).click()]);
}

describe('the on-call board', () => {
  it('shows who is on call, the open incidents and their SLA in working time', async () => {
    await page.goto(`${running.url}/`);
    expect(await page.getByTestId('oncall-now').textContent()).toBe('ben');
    expect(await page.locator('#oncall').textContent()).toContain('Next: cho');
    expect(await page.locator('#incidents tbody tr').count()).toBe(2);
    expect(await page.getByTestId('status-1').textContent()).toBe('open');
    // Escaped, not injected.
    expect(await page.locator('#incidents').textContent()).toContain('ECC <errors> on node-8');
    expect(await page.locator('[data-sla="1"]').textContent()).toBe('acknowledge due Tue 10:30 CET · 30m of working time left');
    expect(await page.locator('[data-sla="2"]').textContent()).toBe('acknowledge due Tue 12:00 CET · 2h 0m of working time left');
  });

  it('asks for a login, then acknowledges with one click in the name of the logged-in user', async () => {
    await page.goto(`${running.url}/`);
    await page.locator('tr[data-incident="1"] button[data-action="ack"]').click();
    expect(await page.locator('#message').textContent()).toBe('Log in first.');
    expect((await request(`${running.url}/api/v1/incidents/1`)).json.incident.status).toBe('open');

    await page.click('#login-link');
    await page.fill('#token-input', 'not-the-token');
    await Promise.all([page.waitForEvent('load'), page.click('#login-submit')]);
    expect(await page.locator('#login-error').textContent()).toBe('That token is not valid.');
    await page.fill('#token-input', BEN_TOKEN);
    await Promise.all([page.waitForURL(`${running.url}/`), page.click('#login-submit')]);
    expect(await page.getByTestId('session-user').textContent()).toBe('ben');

    // The login is an HttpOnly cookie: no script can read it, and no token is kept in the page's storage.
    const storage = await page.evaluate(() => ({
      session: JSON.stringify({ ...sessionStorage }),
      local: JSON.stringify({ ...localStorage }),
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ session: '{}', local: '{}', cookie: '' });
    const [cookie] = await context.cookies(running.url);
    expect(cookie).toMatchObject({ name: 'gpuwatch_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(BEN_TOKEN);

    await Promise.all([page.waitForEvent('load'), page.locator('tr[data-incident="1"] button[data-action="ack"]').click()]);
    expect(await page.getByTestId('status-1').textContent()).toContain('acknowledged');
    expect(await page.getByTestId('status-1').textContent()).toContain('by ben');
    expect((await request(`${running.url}/api/v1/incidents/1`)).json.incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ben' });
    expect(await page.locator('[data-sla="1"]').textContent()).toBe('update due Tue 12:00 CET · 2h 0m of working time left');
  });

  it("shows an incident's timeline in the board's time zone, and resolves it from there", async () => {
    await logInAsBen();
    await acknowledgeOnTheBoard(1);
    await page.goto(`${running.url}/incidents/1`);
    const timeline = (await page.locator('#timeline').textContent()) ?? '';
    expect(timeline).toContain('opened');
    expect(timeline).toContain('acknowledged via the board');
    expect(timeline).toContain('acknowledge by Tue 11 Mar 10:30 CET');
    expect(timeline).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    await Promise.all([page.waitForEvent('load'), page.locator('button[data-action="resolve"]').click()]);
    expect(await page.getByTestId('status-1').textContent()).toBe('resolved');
    expect(await page.locator('#postmortem').textContent()).toContain('## Why it happened');
    await page.goto(`${running.url}/`);
    expect(await page.locator('#incidents tbody tr').count()).toBe(1);
  });

  it("acknowledges from the page mail's link only when its button is pressed", async () => {
    const mail = smtp.mails.find((m) => m.subject.includes('#2'));
    const link = /Acknowledge: (\S+)/.exec(mail?.text ?? '')?.[1] as string;
    const htmlLink = /<a href="([^"]+)"[^>]*>Acknowledge<\/a>/.exec(mail?.html ?? '')?.[1];
    expect(htmlLink).toBe(link);
    await page.goto(link);
    expect((await request(`${running.url}/api/v1/incidents/2`)).json.incident.status).toBe('open');
    await Promise.all([page.waitForEvent('load'), page.click('#ack-confirm')]);
    expect(await page.locator('h1').textContent()).toBe('Incident #2 acknowledged');
    expect((await request(`${running.url}/api/v1/incidents/2`)).json.incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'ben@oncall.example' });
  });
});
