/**
 * The owner's renew link in headless Chromium: the warning mail as received over SMTP (parsed with
 * mailparser, as the mail catcher does), its link followed, the confirm form submitted — and the
 * action's deadline has moved. Then the board's incident page: its Renew button for a logged-in user.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from '../../rule-service/service.js';
import { idleGpus } from '../../test/rule-service-support.js';
import { useActionsWorld } from '../testing/actions-fixture.js';
import { launchChromium } from '../../src/testing/chromium.js';
import { jobAlert, MIN, renewalBed, type RenewalBed } from '../testing/renewal-fixture.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const BEN_TOKEN = 'ben-board-token';
const bed = useActionsWorld(
  [
    { name: 'admin', admin: true },
    { name: 'dave', email: 'dave@research.example' },
  ],
  idleGpus(['dave~notebook']),
  TUESDAY_10,
);
let ruleService: RunningRuleService;
let browser: Browser;
let page: Page;
let t: RenewalBed | undefined;

beforeAll(async () => {
  ruleService = await bed.startRuleService();
  browser = await launchChromium();
}, 30_000);
afterAll(async () => {
  await browser?.close();
  await ruleService?.close();
});
afterEach(async () => {
  await page?.context().close();
  await t?.close();
  t = undefined;
});

async function notebookWarned(): Promise<RenewalBed> {
  bed.openpai.addJob({ user: 'dave', name: 'notebook', gpus: 2 });
  const notebooks = { jobs: ['.*~notebook'], grace: '2h', remindEvery: '30m', renewal: { extend: '4h', maxRenewals: 2 } };
  t = await renewalBed(bed, ruleService, { dryRun: false, notebooks }, { web: { users: [{ name: 'ben', token: BEN_TOKEN }] } });
  await t.post([jobAlert('dave~notebook', TUESDAY_10 - 5 * MIN)]);
  await t.drain();
  page = await (await browser.newContext()).newPage();
  return t;
}

describe('the renew link, in a browser', () => {
  it("from the received mail's HTML: follow the link, confirm, and the deadline has moved", async () => {
    const t = await notebookWarned();
    const [mail] = await bed.smtp.waitFor(1, (m) => m.subject.startsWith('Your job dave~notebook'));
    expect(mail?.to).toEqual(['dave@research.example']);
    expect((await t.action()).graceUntil).toBe(TUESDAY_10 + 120 * MIN);

    await page.setContent(mail?.html ?? '');
    expect(await page.locator('#renew-link').textContent()).toBe('Keep my job for another 4h');
    await Promise.all([page.waitForURL(/\/actions\/renew\//), page.locator('#renew-link').click()]);
    expect(await page.locator('h1').textContent()).toBe('Keep dave~notebook longer?');
    expect((await t.action()).graceUntil).toBe(TUESDAY_10 + 120 * MIN); // opening the page changed nothing
    await Promise.all([page.waitForEvent('load'), page.locator('#renew-confirm').click()]);
    expect(await page.locator('h1').textContent()).toBe('Renewed dave~notebook');

    expect(await t.action()).toMatchObject({ graceUntil: TUESDAY_10 + 360 * MIN, renewals: 1, renewalsLeft: 1, policy: 'notebook' });
    const renew = (await t.audit('dave~notebook')).find((e) => e.event === 'action.renew');
    expect(renew).toMatchObject({ actor: 'dave', detail: { via: 'e-mail link' } });
  });

  it("the board's incident page shows the action and renews it for a logged-in user", async () => {
    const t = await notebookWarned();
    await page.goto(`${t.running.url}/incidents/1`);
    expect(await page.getByTestId('action-status-1').textContent()).toBe('grace');
    expect(await page.locator('#actions button').count()).toBe(0); // not logged in: no buttons
    await page.goto(`${t.running.url}/login`);
    await page.fill('#token-input', BEN_TOKEN);
    await Promise.all([page.waitForURL(`${t.running.url}/`), page.click('#login-submit')]);
    await page.goto(`${t.running.url}/incidents/1`);
    const before = await page.getByTestId('action-deadline-1').textContent();
    await Promise.all([page.waitForEvent('load'), page.locator('button[data-post="/api/v1/actions/1/renew"]').click()]);
    expect(await page.getByTestId('action-deadline-1').textContent()).not.toBe(before);
    expect(await t.action()).toMatchObject({ graceUntil: TUESDAY_10 + 360 * MIN, renewals: 1 });
    expect((await t.audit('dave~notebook')).find((e) => e.event === 'action.renew')).toMatchObject({ actor: 'ben', detail: { via: 'the board' } });
  });
});
