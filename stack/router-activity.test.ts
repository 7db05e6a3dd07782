/**
 * The human lines `gpuwatch stack` prints, read from a real router (in-process, SQLite) that pages
 * over real SMTP: one per page sent, acknowledgement, escalation and job-action step.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../alertmanager/clock.js';
import type { RunningRouter } from '../alertmanager/service.js';
import { API_TOKEN, request, startTestRouter, TEAM, testOptions } from '../alertmanager/testing/harness.js';
import { gpuAlert, webhook } from '../alertmanager/testing/webhooks.js';
import { activityLine, clockTime } from './activity-line.js';
import { SmtpSink } from './mail-catcher.js';
import { followRouterActivity, type ActivityFollower } from './router-activity.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const MIN = 60_000;
const PEOPLE = { team: TEAM, secondLine: ['second@platform.example'], thirdLine: ['manager@platform.example'] };

let smtp: SmtpSink;
let clock: ManualClock;
let running: RunningRouter;
let follower: ActivityFollower;
const lines: string[] = [];

async function send(alerts: Parameters<typeof webhook>[0]): Promise<void> {
  const answer = await request(`${running.url}/api/v1/alertmanager`, { body: webhook(alerts), token: API_TOKEN });
  expect(answer.status).toBe(200);
}

/** Lets the router deliver what it queued, then reads the new lines. */
async function settle(): Promise<string[]> {
  await running.router.runDueTimers();
  await running.router.deliverOutbox();
  const before = lines.length;
  await follower.poll();
  return lines.slice(before);
}

beforeAll(async () => {
  smtp = await SmtpSink.start();
  clock = new ManualClock(TUESDAY_10);
  running = await startTestRouter(await testOptions({}, smtp.port), clock);
  // Something that happened before the stack started is not printed again.
  await send([gpuAlert('pai-worker-0', { alertname: 'GpuXidError', severity: '2', startsAt: TUESDAY_10 - 10 * MIN, summary: 'an earlier incident' })]);
  await running.router.deliverOutbox();
  follower = await followRouterActivity(running.db, PEOPLE, (line) => lines.push(line), { timeZone: 'UTC', intervalMs: 3_600_000 });
});

afterAll(async () => {
  await follower?.stop();
  await running?.close();
  await smtp?.stop();
});

describe('the router activity lines', () => {
  it('prints one line per page sent, naming the DRI and the incident', async () => {
    await send([
      gpuAlert('pai-worker-1', {
        alertname: 'GpuEccUncorrectable',
        severity: '2',
        gpu: '3',
        startsAt: TUESDAY_10 - MIN,
        summary: 'Uncorrectable ECC errors on GPU 3 of pai-worker-1',
      }),
    ]);
    const printed = await settle();
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^09:00:00 paged (ana|ben|cho) \(DRI\) — #2 SEV2 Uncorrectable ECC errors on GPU 3 of pai-worker-1$/);
    expect(smtp.mails.map((m) => m.to).flat()).toContain(TEAM.find((p) => printed[0]?.includes(`paged ${p.name} `))?.email);
    expect(lines.join('\n')).not.toContain('an earlier incident');
  });

  it('prints the escalation when nobody acknowledges in time, one line per address paged', async () => {
    clock.advance(3 * 60 * MIN);
    const printed = await settle();
    expect(printed.length).toBeGreaterThanOrEqual(2);
    expect(printed).toContainEqual(
      expect.stringMatching(/^\d\d:\d\d:\d\d escalated: paged second@platform\.example \(second line\) — #2 SEV2 Uncorrectable ECC/),
    );
    expect(printed).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d escalated: paged (ana|ben|cho) \(DRI\) — #2 SEV2/));
  });

  it('prints the acknowledgement, with who and how', async () => {
    const answer = await request(`${running.url}/api/v1/incidents/2/ack`, { body: {}, token: API_TOKEN });
    expect(answer.status).toBe(200);
    const printed = await settle();
    expect(printed).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d acknowledged by .+ via the API — #2 SEV2 Uncorrectable ECC errors on GPU 3 of pai-worker-1$/),
    ]);
  });

  it('prints the steps of a job action: the warning to the owner', async () => {
    await send([
      {
        labels: { alertname: 'GpuJobLowUtilization', severity: '3', cluster: 'prod-a', job: 'alice~idle-train', user: 'alice', vc: 'default', action: 'kill' },
        annotations: { summary: 'Job alice~idle-train keeps its GPUs busy only 2% of the time', action_grace: '30m' },
        startsAt: clock.now() - MIN,
      },
    ]);
    const printed = await settle();
    const graceEnd = clockTime(clock.now() + 30 * MIN, 'UTC');
    expect(printed).toContainEqual(
      `${clockTime(clock.now(), 'UTC')} warned alice: alice~idle-train will be stopped at ${graceEnd} if the alert still fires (dry run: nothing is done to the job) — #3 SEV3 Job alice~idle-train keeps its GPUs busy only 2% of the time`,
    );
  });
});

describe('the router activity lines for an IM webhook', () => {
  it('prints a page sent to the webhook too', async () => {
    const hook = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(hook.address() as AddressInfo).port}`;
    const router = await startTestRouter(
      await testOptions({ webhooks: [{ url: `http://${host}/hook`, format: 'slack', events: ['page'] }] }),
      new ManualClock(TUESDAY_10),
    );
    try {
      const seen: string[] = [];
      const follow = await followRouterActivity(router.db, PEOPLE, (line) => seen.push(line), { timeZone: 'UTC', intervalMs: 3_600_000 });
      const alert = gpuAlert('pai-worker-1', {
        alertname: 'GpuXidError',
        severity: '2',
        startsAt: TUESDAY_10 - MIN,
        summary: 'XID 79 (critical) on GPU 2 of pai-worker-1',
      });
      expect((await request(`${router.url}/api/v1/alertmanager`, { body: webhook([alert]), token: API_TOKEN })).status).toBe(200);
      await router.router.deliverOutbox();
      await follow.poll();
      await follow.stop();
      expect(seen).toEqual([`09:00:00 paged the ${host} webhook — #1 SEV2 XID 79 (critical) on GPU 2 of pai-worker-1`]);
    } finally {
      await router.close();
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});

describe('activityLine', () => {
  const at = Date.parse('2026-12-02T14:05:12Z');
  const incident = { id: 7, severity: 1, title: 'XID 79 (critical) on GPU 2 of w3' };
  it('words the later steps of a job action', () => {
    const done = {
      source: 'audit' as const,
      at,
      event: 'action.done',
      actor: 'router',
      subject: 'alice~idle',
      detail: { actionId: 1, action: 'kill', message: 'stopped on OpenPAI' },
      incident,
    };
    expect(activityLine(done, PEOPLE, 'UTC')).toBe('14:05:12 kill alice~idle: done — stopped on OpenPAI — #7 SEV1 XID 79 (critical) on GPU 2 of w3');
    const request = { ...done, event: 'action.request', detail: { actionId: 1, action: 'kill' } };
    expect(activityLine(request, PEOPLE, 'UTC')).toBe(
      '14:05:12 grace period over: asked the rule service to kill alice~idle — #7 SEV1 XID 79 (critical) on GPU 2 of w3',
    );
  });

  it('words reminders, renewals, releases and postponements', () => {
    const base = { source: 'audit' as const, at, actor: 'router', subject: 'dave~nb', incident };
    const line = (event: string, detail: Record<string, unknown>, actor = 'router') => activityLine({ ...base, event, actor, detail }, PEOPLE, 'UTC');
    const deadline = Date.parse('2026-12-02T15:00:00Z');
    expect(line('action.remind', { actionId: 1, reminder: 2, graceUntil: deadline })).toBe(
      '14:05:12 reminded the owner of dave~nb (reminder 2, with renew/release links): deadline 15:00:00 — #7 SEV1 XID 79 (critical) on GPU 2 of w3',
    );
    expect(line('action.renew', { actionId: 1, via: 'e-mail link', renewals: 1, graceUntil: deadline }, 'dave')).toBe(
      '14:05:12 dave renewed dave~nb via e-mail link (renewal 1): deadline now 15:00:00 — #7 SEV1 XID 79 (critical) on GPU 2 of w3',
    );
    expect(line('action.release', { actionId: 1, via: 'e-mail link' }, 'dave')).toBe(
      '14:05:12 dave released dave~nb via e-mail link: the action goes ahead now — #7 SEV1 XID 79 (critical) on GPU 2 of w3',
    );
    expect(line('action.postpone', { actionId: 1, graceUntil: deadline, why: 'no reminder has reached dave yet' })).toBe(
      '14:05:12 dave~nb: postponed to 15:00:00 — no reminder has reached dave yet — #7 SEV1 XID 79 (critical) on GPU 2 of w3',
    );
  });

  it('says nothing for audit entries that are not pages, acks or job actions', () => {
    expect(activityLine({ source: 'audit', at, event: 'rotation.handoff', actor: 'router', subject: 'rotation', detail: {} }, PEOPLE, 'UTC')).toBeUndefined();
  });
});
