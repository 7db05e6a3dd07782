/** The on-call board in headless Chromium (Debian's chromium, driven by playwright-core). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { API_TOKEN, request, startTestRouter, testOptions } from '../testing/harness.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let profile: string;
let browser: BrowserContext;
let page: Page;
let running: RunningRouter;

beforeAll(async () => {
  running = await startTestRouter(await testOptions(), new ManualClock(TUESDAY_10));
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-7', { startsAt: TUESDAY_10 })]) });
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-8', { severity: '2', startsAt: TUESDAY_10, summary: 'ECC <errors> on node-8' })]) });
  profile = mkdtempSync(join(tmpdir(), 'router-chromium-'));
  // A fresh profile directory each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await running?.close();
  rmSync(profile, { recursive: true, force: true });
});

describe('the on-call board', () => {
  it('shows who is on call, the open incidents and their SLA countdowns', async () => {
    await page.goto(`${running.url}/`);
    expect(await page.getByTestId('oncall-now').textContent()).toBe('ben');
    expect(await page.locator('#oncall').textContent()).toContain('Next: cho');
    expect(await page.locator('#incidents tbody tr').count()).toBe(2);
    expect(await page.getByTestId('status-1').textContent()).toBe('open');
    // Escaped, not injected.
    expect(await page.locator('#incidents').textContent()).toContain('ECC <errors> on node-8');
    const countdown = await page.locator('tr[data-incident="1"] [data-deadline]').textContent();
    expect(countdown).toMatch(/^(in|overdue by) /);
  });

  it('asks for the token, then acknowledges with one click', async () => {
    await page.goto(`${running.url}/`);
    await page.locator('tr[data-incident="1"] button[data-action="ack"]').click();
    expect(await page.locator('#message').textContent()).toBe('Enter the API token first.');
    expect((await request(`${running.url}/api/v1/incidents/1`)).json.incident.status).toBe('open');

    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-save');
    await page.locator('tr[data-incident="1"] button[data-action="ack"]').click();
    await page.waitForFunction(() => document.querySelector('#message')?.textContent?.startsWith('Failed'));
    expect(await page.locator('#message').textContent()).toContain('a valid bearer token is required');

    await page.fill('#token-input', API_TOKEN);
    await page.click('#token-save');
    await Promise.all([page.waitForEvent('load'), page.locator('tr[data-incident="1"] button[data-action="ack"]').click()]);
    expect(await page.getByTestId('status-1').textContent()).toContain('acknowledged');
    expect(await page.getByTestId('status-1').textContent()).toContain('by board');
    expect((await request(`${running.url}/api/v1/incidents/1`)).json.incident).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'board' });
    // The token stays for the tab: no prompt on the next page.
    expect(await page.locator('#token-input').isHidden()).toBe(true);
  });

  it("shows an incident's timeline, and resolves it from there", async () => {
    await page.goto(`${running.url}/incidents/1`);
    const timeline = await page.locator('#timeline').textContent();
    expect(timeline).toContain('opened');
    expect(timeline).toContain('acknowledged via the API');
    await Promise.all([page.waitForEvent('load'), page.locator('button[data-action="resolve"]').click()]);
    expect(await page.getByTestId('status-1').textContent()).toBe('resolved');
    expect(await page.locator('#postmortem').textContent()).toContain('## Why it happened');
    await page.goto(`${running.url}/`);
    expect(await page.locator('#incidents tbody tr').count()).toBe(1);
  });
});
