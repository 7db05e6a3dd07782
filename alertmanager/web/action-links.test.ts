/**
 * Renew and release links and the actions API refuse whatever is not theirs: a forged, expired or
 * foreign token, another purpose's token, a cross-site press, a caller without a token — and
 * change nothing when they do. Also the notebook rule's matching (anchored regexes).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from '../../rule-service/service.js';
import { idleGpus } from '../../test/rule-service-support.js';
import { policyOf } from '../actions/renewal-policy.js';
import { useActionsWorld } from '../testing/actions-fixture.js';
import { API_TOKEN, request, testOptions } from '../testing/harness.js';
import { jobAlert, MIN, ownerLinks, press, renewalBed, type RenewalBed } from '../testing/renewal-fixture.js';
import { signAckToken, signLinkToken } from './ack-token.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const bed = useActionsWorld([{ name: 'admin', admin: true }, { name: 'alice' }], idleGpus(['alice~guarded']), TUESDAY_10);
let ruleService: RunningRuleService;
let t: RenewalBed | undefined;

beforeAll(async () => {
  ruleService = await bed.startRuleService();
});
afterAll(async () => {
  await ruleService?.close();
});
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function guarded(): Promise<{ t: RenewalBed; renew: string; release: string; base: string }> {
  bed.openpai.addJob({ user: 'alice', name: 'guarded', gpus: 1 });
  t = await renewalBed(bed, ruleService, { dryRun: false, grace: '3h', renewal: { linkTtl: '1h', remindEvery: '4h' } });
  await t.post([jobAlert('alice~guarded', TUESDAY_10 - 5 * MIN)]);
  await t.drain();
  const links = ownerLinks(bed.smtp.mails.find((m) => m.subject.startsWith('Your job alice~guarded'))?.text);
  return { t, renew: links.renew as string, release: links.release as string, base: t.running.url };
}

async function unchanged(t: RenewalBed): Promise<void> {
  expect(await t.action()).toMatchObject({ status: 'grace', graceUntil: TUESDAY_10 + 180 * MIN, renewals: 0 });
  expect((await t.audit('alice~guarded')).map((e) => e.event)).toEqual(['action.warn']);
  expect(t.stopsOf('alice~guarded')).toEqual([]);
}

describe('renew and release links', () => {
  it('refuse forged, foreign and other-purpose tokens, GET or POST, and change nothing', async () => {
    const { t, renew, base } = await guarded();
    const key = t.running.router.ctx.links.key;
    const expiresAt = bed.clock.now() + 30 * MIN;
    const tampered = `${renew.slice(0, -2)}${renew.endsWith('A') ? 'B' : 'A'}A`;
    const otherInstall = `${base}/actions/renew/${signLinkToken('renew', { subject: 1, actor: 'alice', expiresAt }, { ...key, installId: 'another' })}`;
    const otherOwner = `${base}/actions/renew/${signLinkToken('renew', { subject: 1, actor: 'mallory', expiresAt }, key)}`;
    const ackToken = `${base}/actions/renew/${signAckToken({ incidentId: 1, actor: 'alice', expiresAt }, key)}`;
    const renewAsRelease = renew.replace('/actions/renew/', '/actions/release/');
    for (const [link, status] of [
      [tampered, 403],
      [otherInstall, 403],
      [otherOwner, 403],
      [ackToken, 403],
      [renewAsRelease, 403],
      [`${base}/actions/renew/garbage`, 400],
    ] as const) {
      expect((await request(link)).status, link).toBe(status);
      expect((await press(link)).status, link).toBe(status);
    }
    expect(await (await press(otherOwner)).text()).toContain('this renew link was not made for the owner of this job');
    expect((await press(renew, { origin: 'https://attacker.example' })).status).toBe(403);
    expect((await press(renew, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    await unchanged(t);
  });

  it('expire linkTtl after the mail was sent', async () => {
    const { t, renew, release } = await guarded();
    bed.clock.advance(61 * MIN);
    for (const link of [renew, release]) {
      const pressed = await press(link);
      expect(pressed.status).toBe(410);
      expect(await pressed.text()).toMatch(/link has expired/);
    }
    await unchanged(t);
  });

  it('the actions API answers 401 without a token and with a wrong one, and changes nothing', async () => {
    const { t, base } = await guarded();
    for (const purpose of ['renew', 'release']) {
      expect((await request(`${base}/api/v1/actions/1/${purpose}`, { body: {} })).status).toBe(401);
      expect((await request(`${base}/api/v1/actions/1/${purpose}`, { body: {}, token: 'not-the-token' })).status).toBe(401);
    }
    expect((await request(`${base}/api/v1/actions/1`)).status).toBe(401);
    await unchanged(t);
    expect((await request(`${base}/api/v1/actions/1/renew`, { body: {}, token: API_TOKEN })).status).toBe(200);
  });
});

describe('the notebook rule', () => {
  it('recognises a notebook by job id, VC or alert label, every regex matched against the whole value', async () => {
    const options = await testOptions({ actions: { notebooks: { jobs: ['.*~nb-.*'], vcs: ['interactive'], labels: { namespace: 'jupyter-.*' } } } });
    const actions = options.actions;
    expect(policyOf(actions, { vc: 'default' }, 'alice~nb-1')).toBe('notebook');
    expect(policyOf(actions, { vc: 'interactive' }, 'alice~train')).toBe('notebook');
    expect(policyOf(actions, { vc: 'interactive-2' }, 'alice~train')).toBe('default');
    expect(policyOf(actions, { vc: 'default', namespace: 'jupyter-alice' }, 'alice~train')).toBe('notebook');
    expect(policyOf(actions, { vc: 'default', namespace: 'x-jupyter-alice' }, 'alice~train')).toBe('default');
    expect(policyOf(actions, { vc: 'default' }, 'alice~train')).toBe('default');
  });

  it('is validated like the rest of the config: a bad regex or label name is an error naming the field', async () => {
    await expect(testOptions({ actions: { notebooks: { jobs: ['(a'] } } })).rejects.toThrow(/not a valid regular expression/);
    await expect(testOptions({ actions: { notebooks: { labels: { 'bad-name': '.*' } } } })).rejects.toThrow(/a label name/);
    await expect(testOptions({ actions: { renewal: { extend: '0s' } } })).rejects.toThrow(/must be longer than 0/);
  });
});
