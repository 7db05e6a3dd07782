/**
 * Renew and release links, reminders and the notebook policy, end to end: the router in front of
 * the real rule service (which acts on the fake OpenPAI), mails on a real SMTP server, a manual clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from '../../rule-service/service.js';
import { idleGpus } from '../../test/rule-service-support.js';
import { useActionsWorld } from '../testing/actions-fixture.js';
import { API_TOKEN, request } from '../testing/harness.js';
import { jobAlert, MIN, ownerLinks, press, renewalBed, type RenewalBed } from '../testing/renewal-fixture.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const JOBS = [
  'alice~train',
  'alice~capped',
  'alice~counted',
  'alice~rem',
  'alice~gone',
  'alice~rel',
  'alice~dry',
  'alice~free',
  'alice~nb-1',
  'alice~plain',
  'alice~durable',
];
const bed = useActionsWorld(
  [
    { name: 'admin', admin: true },
    { name: 'alice', email: 'alice@research.example' },
  ],
  idleGpus(JOBS),
  TUESDAY_10,
);
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

async function start(actions: Record<string, unknown>, jobs: string[]): Promise<RenewalBed> {
  for (const job of jobs) bed.openpai.addJob({ user: 'alice', name: job.split('~')[1] as string, gpus: 1 });
  t = await renewalBed(bed, ruleService, { dryRun: false, ...actions });
  await t.post(jobs.map((job) => jobAlert(job, TUESDAY_10 - 5 * MIN)));
  await t.drain();
  return t;
}

const warningOf = (job: string) => bed.smtp.mails.find((m) => m.subject.startsWith(`Your job ${job}`));
const remindersOf = (job: string) => bed.smtp.mails.filter((m) => m.subject.startsWith(`Reminder: your job ${job}`));
const events = async (t: RenewalBed, job: string) => (await t.audit(job)).map((e) => e.event);
const apiRenew = (t: RenewalBed, id = 1) => request(`${t.running.url}/api/v1/actions/${id}/renew`, { body: {}, token: API_TOKEN });

describe('renewing a job action', () => {
  it('the renew link of the warning postpones the action: deadline and timer move, audit and timeline record it', async () => {
    const t = await start({ grace: '30m', renewal: { extend: '1h', remindEvery: '2h' } }, ['alice~train']);
    const warning = warningOf('alice~train');
    expect(warning?.to).toEqual(['alice@research.example']);
    const { renew, release } = ownerLinks(warning?.text);
    expect(renew).toMatch(/\/actions\/renew\//);
    expect(release).toMatch(/\/actions\/release\//);
    expect(warning?.html).toContain('Keep my job for another 1h');

    // Opening the link (a mail scanner) changes nothing.
    const page = await request(renew as string);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="renew-confirm"');
    expect((await t.action()).graceUntil).toBe(TUESDAY_10 + 30 * MIN);

    const pressed = await press(renew as string);
    expect(pressed.status).toBe(200);
    expect(await pressed.text()).toContain('Renewed alice~train');
    const renewed = await t.action();
    expect(renewed).toMatchObject({ graceUntil: TUESDAY_10 + 90 * MIN, renewals: 1, status: 'grace' });
    const timer = await t.running.db.selectFrom('router_timers').select('due_at').where('name', '=', 'action:1').executeTakeFirstOrThrow();
    expect(Number(timer.due_at)).toBe(TUESDAY_10 + 90 * MIN);
    const entry = (await t.audit('alice~train')).find((e) => e.event === 'action.renew');
    expect(entry).toMatchObject({ actor: 'alice', detail: { via: 'e-mail link', renewals: 1, graceUntil: TUESDAY_10 + 90 * MIN } });
    expect(await t.timeline()).toContainEqual(
      expect.stringMatching(/^renewed alice~train via e-mail link \(1 of 3\): the kill waits until 2025-03-11T10:30:00.000Z$/),
    );

    await t.after(30 * MIN);
    expect(t.stopsOf('alice~train')).toEqual([]);
    await t.after(60 * MIN);
    expect(t.stopsOf('alice~train')).toHaveLength(1);
    expect(await events(t, 'alice~train')).toEqual(['action.warn', 'action.renew', 'action.request', 'action.done']);
  });

  it('caps the time all renewals add (maxTotal): the last one adds what is left, then renewals are refused', async () => {
    const t = await start({ grace: '30m', renewal: { extend: '1h', maxRenewals: 5, maxTotal: '90m' } }, ['alice~capped']);
    expect((await apiRenew(t)).json.action.graceUntil).toBe(TUESDAY_10 + 90 * MIN);
    expect((await apiRenew(t)).json.action.graceUntil).toBe(TUESDAY_10 + 120 * MIN);
    const refused = await apiRenew(t);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toBe(
      'the renewals of alice~capped already add the most time its policy allows; it will be stopped as planned unless the alert resolves',
    );
    expect(await t.action()).toMatchObject({ graceUntil: TUESDAY_10 + 120 * MIN, renewals: 2, renewalsLeft: 0 });
    const renews = (await t.audit('alice~capped')).filter((e) => e.event === 'action.renew');
    expect(renews.map((e) => [e.actor, e.detail.via, e.detail.addedMs])).toEqual([
      ['shared-token', 'the API', 60 * MIN],
      ['shared-token', 'the API', 30 * MIN],
    ]);
  });

  it('caps the number of renewals (maxRenewals), and refuses an action that is no longer in grace', async () => {
    const t = await start({ grace: '30m', renewal: { extend: '10m', maxRenewals: 1 } }, ['alice~counted']);
    const { renew } = ownerLinks(warningOf('alice~counted')?.text);
    expect((await press(renew as string)).status).toBe(200);
    const second = await press(renew as string);
    expect(second.status).toBe(409);
    expect(await second.text()).toContain('alice~counted was renewed 1 times, the most its policy allows (1)');
    await t.after(40 * MIN);
    expect(t.stopsOf('alice~counted')).toHaveLength(1);
    const late = await apiRenew(t);
    expect(late.status).toBe(409);
    expect(late.json.error).toMatch(/no longer in its grace period \(done\); nothing was changed/);
  });
});

describe('reminders', () => {
  it('repeat every remindEvery until the end of grace, and continue against the new deadline after a renewal', async () => {
    const t = await start({ grace: '35m', renewal: { extend: '30m', remindEvery: '10m' } }, ['alice~rem']);
    for (let i = 0; i < 2; i++) await t.after(10 * MIN);
    expect(remindersOf('alice~rem')).toHaveLength(2);
    const reminder = remindersOf('alice~rem')[1];
    expect(reminder?.subject).toBe('Reminder: your job alice~rem will be stopped at Tue 2025-03-11 10:35 +01:00 (15m left)');
    expect(ownerLinks(reminder?.text).renew).toMatch(/\/actions\/renew\//);
    await t.after(5 * MIN);
    await apiRenew(t); // at 25m: the deadline moves from 35m to 65m, the next reminder comes at 35m
    await t.after(5 * MIN);
    expect(remindersOf('alice~rem')).toHaveLength(2);
    for (let i = 0; i < 3; i++) await t.after(10 * MIN); // 40m, 50m, 60m: reminders at 35m (in the first step), 45m, 55m
    expect(remindersOf('alice~rem')).toHaveLength(5);
    expect(t.stopsOf('alice~rem')).toEqual([]);
    await t.after(10 * MIN); // 70m: past the deadline (65m), the action ran, no more reminders
    expect(t.stopsOf('alice~rem')).toHaveLength(1);
    await t.after(30 * MIN);
    expect(remindersOf('alice~rem')).toHaveLength(5);
    const timeline = await t.timeline();
    expect(timeline.filter((m) => m.startsWith('reminded alice'))).toHaveLength(5);
    expect((await t.action()).remindersDelivered).toBe(5);
  });

  it('stop when the alert resolves', async () => {
    const t = await start({ grace: '60m', renewal: { remindEvery: '10m' } }, ['alice~gone']);
    await t.after(10 * MIN);
    expect(remindersOf('alice~gone')).toHaveLength(1);
    await t.post([jobAlert('alice~gone', TUESDAY_10 - 5 * MIN, { status: 'resolved', endsAt: bed.clock.now() })]);
    for (let i = 0; i < 6; i++) await t.after(10 * MIN);
    expect(remindersOf('alice~gone')).toHaveLength(1);
    expect(await events(t, 'alice~gone')).toEqual(['action.warn', 'action.remind', 'action.cancelled']);
  });
});

describe('releasing a job', () => {
  it('acts at once, through the rule service, and stops the reminders', async () => {
    const t = await start({ grace: '2h', renewal: { remindEvery: '10m' } }, ['alice~rel']);
    const { release } = ownerLinks(warningOf('alice~rel')?.text);
    expect((await request(release as string)).text).toContain('id="release-confirm"');
    expect(t.stopsOf('alice~rel')).toEqual([]);
    const pressed = await press(release as string);
    expect(pressed.status).toBe(200);
    await t.drain();
    expect(t.stopsOf('alice~rel')).toHaveLength(1);
    expect(await events(t, 'alice~rel')).toEqual(['action.warn', 'action.release', 'action.request', 'action.done']);
    expect((await t.audit('alice~rel')).find((e) => e.event === 'action.request')?.detail.releasedBy).toBe('alice');
    for (let i = 0; i < 3; i++) await t.after(10 * MIN);
    expect(remindersOf('alice~rel')).toEqual([]);
  });

  it('keeps the safeguards: dry run records "released by owner (dry run)", an exempt job is refused, a spent budget too', async () => {
    const dry = await start({ dryRun: true, grace: '2h' }, ['alice~dry']);
    expect((await press(ownerLinks(warningOf('alice~dry')?.text).release as string)).status).toBe(200);
    const outcome = (await dry.audit('alice~dry')).at(-1);
    expect(outcome).toMatchObject({ event: 'action.dry_run', detail: { message: 'released by alice (dry run): alice~dry would have been stopped' } });
    expect(dry.stopsOf('alice~dry')).toEqual([]);
    await dry.close();

    const live = await start({ grace: '2h', hourlyBudget: 0, exemptJobs: ['alice~free'] }, ['alice~free', 'alice~plain']);
    const release = (id: number) => request(`${live.running.url}/api/v1/actions/${id}/release`, { body: {}, token: API_TOKEN });
    expect((await release(1)).json.action).toMatchObject({ status: 'refused', result: 'alice~free is exempt' });
    expect((await release(2)).json.action).toMatchObject({ status: 'refused', result: 'the hourly budget of 0 actions is spent' });
    expect(live.stopsOf('alice~free')).toEqual([]);
    expect(live.stopsOf('alice~plain')).toEqual([]);
  });
});

describe('the notebook policy', () => {
  it('is never acted on before a reminder was delivered: without one, the deadline is postponed and the reason recorded', async () => {
    const notebooks = { jobs: ['alice~nb-.*'], grace: '30m', remindEvery: '20m' };
    const t = await start({ grace: '10m', notebooks }, ['alice~nb-1', 'alice~plain']);
    expect(await t.action(1)).toMatchObject({ policy: 'notebook', graceUntil: TUESDAY_10 + 30 * MIN });
    expect(await t.action(2)).toMatchObject({ policy: 'default', graceUntil: TUESDAY_10 + 10 * MIN });
    expect(warningOf('alice~nb-1')?.text).toContain('it is an interactive job');
    await bed.smtp.stop(); // the reminders cannot be delivered from now on
    try {
      await t.after(10 * MIN);
      expect(t.stopsOf('alice~plain')).toHaveLength(1); // the default policy needs no reminder
      await t.after(10 * MIN); // 20m: the first reminder is queued, not delivered
      await t.after(10 * MIN); // 30m: the end of grace
      expect(t.stopsOf('alice~nb-1')).toEqual([]);
      expect(await t.action(1)).toMatchObject({ status: 'grace', graceUntil: TUESDAY_10 + 50 * MIN, remindersSent: 2, remindersDelivered: 0 });
      const postponed = (await t.audit('alice~nb-1')).find((e) => e.event === 'action.postpone');
      expect(postponed?.detail.why).toBe('no reminder has reached alice yet (1 queued, none delivered): the notebook policy acts only after one was delivered');
      expect(await t.timeline()).toContainEqual(
        expect.stringMatching(/^kill alice~nb-1: postponed to 2025-03-11T09:50:00.000Z — no reminder has reached alice/),
      );
      await t.after(20 * MIN); // 50m: still none delivered
      expect(t.stopsOf('alice~nb-1')).toEqual([]);
      expect((await t.action(1)).graceUntil).toBe(TUESDAY_10 + 70 * MIN);
    } finally {
      await bed.smtp.listen();
    }
    await t.after(MIN); // the queued reminders go out now
    expect(remindersOf('alice~nb-1').length).toBeGreaterThan(0);
    expect((await t.action(1)).remindersDelivered).toBeGreaterThan(0);
    await t.after(19 * MIN); // 70m: a reminder was delivered, the action goes ahead
    expect(t.stopsOf('alice~nb-1')).toHaveLength(1);
  });
});

describe('after a restart', () => {
  it('keeps the renewed deadline and the reminders: both are durable timers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-renewal-'));
    try {
      const db = { db: `sqlite://${join(dir, 'router.db')}` };
      const actions = { dryRun: false, grace: '30m', renewal: { extend: '1h', remindEvery: '20m' } };
      bed.openpai.addJob({ user: 'alice', name: 'durable', gpus: 1 });
      const before = await renewalBed(bed, ruleService, actions, db);
      await before.post([jobAlert('alice~durable', TUESDAY_10 - 5 * MIN)]);
      await before.drain();
      expect((await press(ownerLinks(warningOf('alice~durable')?.text).renew as string)).status).toBe(200);
      await before.close();

      t = await renewalBed(bed, ruleService, actions, db);
      for (let i = 0; i < 2; i++) await t.after(20 * MIN); // 40m: past the first deadline (30m)
      expect(remindersOf('alice~durable')).toHaveLength(2);
      expect(t.stopsOf('alice~durable')).toEqual([]);
      for (let i = 0; i < 2; i++) await t.after(25 * MIN); // 90m: the renewed deadline
      expect(t.stopsOf('alice~durable')).toHaveLength(1);
    } finally {
      await t?.close();
      t = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
