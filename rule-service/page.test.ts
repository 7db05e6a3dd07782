/** The service's page at /, in headless Chromium (Debian's chromium through playwright-core). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS } from '../src/testing/chromium.js';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, loadSeed, startTestService } from '../test/rule-service-support.js';

const HOSTILE_DESCRIPTION = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
const HOSTILE_USER = '<img src=x onerror="window.pwned=3">';

let service: RunningRuleService;
let profile: string;
let browser: BrowserContext;

beforeAll(async () => {
  service = await startTestService({ rulesReloadMs: 0 });
  await loadSeed(service);
  await http(`${service.url}/api/v1/rules`, { body: { user: '^x<b>$', result: 'fail', description: HOSTILE_DESCRIPTION }, token: API_TOKEN });
  await service.db
    .insertInto('rules')
    .values({
      user: '',
      vc: '',
      priority: 'oppo',
      requested: '',
      occupied: '',
      occupied_high: '',
      result: 'prod',
      description: 'edited in SQL',
      updated_at: new Date().toISOString(),
    })
    .execute();
  await http(`${service.url}/api/v1/admission`, { body: { user: HOSTILE_USER, priority: 'prod', gpus: 1, held: {} } });
  profile = mkdtempSync(join(tmpdir(), 'rule-service-chromium-'));
  browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the page at /', () => {
  it('is HTML, not a JSON 404', async () => {
    const answer = await http(`${service.url}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
    expect(answer.text).toContain('&lt;script&gt;window.pwned');
    expect(answer.text).not.toContain('<script>');
    expect((await http(`${service.url}/nope`)).status).toBe(404);
  });

  it('shows store health, the rules with the invalid one marked, and the last decision, running none of their content', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${service.url}/`);
    expect(await page.locator('#store').textContent()).toMatch(/Rule store:\s+ok.*revision \d+ · 14 rules · 1 invalid, left out/s);
    const rules = page.locator('#rules tr');
    expect(await rules.count()).toBe(15);
    expect(await rules.nth(1).textContent()).toContain('edited in SQL');
    expect(await rules.nth(1).getAttribute('class')).toBe('bad');
    expect(await rules.nth(1).textContent()).toMatch(/result: "prod" would raise the priority of oppo jobs/);
    expect(await rules.nth(2).locator('td').nth(8).textContent()).toBe(HOSTILE_DESCRIPTION);
    expect(await rules.nth(2).locator('td').nth(1).textContent()).toBe('^x<b>$');
    const decision = page.locator('#decisions tr').nth(1);
    expect(await decision.locator('td').nth(1).textContent()).toBe(HOSTILE_USER);
    expect(await decision.locator('td').nth(5).textContent()).toBe('oppo');
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img, script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });
});
