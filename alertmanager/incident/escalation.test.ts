import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { API_TOKEN, request, startTestRouter, testOptions } from '../testing/harness.js';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const BEN_TOKEN = 'ben-personal-token';

const berlin = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Berlin' }).toMillis();
const FRIDAY_1750 = berlin('2025-03-14T17:50');
const MIN = 60_000;

let smtp: SmtpSink;
let clock: ManualClock;
let running: RunningRouter;
let dir: string;

beforeAll(async () => {
  smtp = await SmtpSink.start();
});
afterAll(async () => {
  await smtp.stop();
});
beforeEach(async () => {
  smtp.mails.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'router-escalation-'));
  clock = new ManualClock(FRIDAY_1750);
  running = await startTestRouter(
    await testOptions({ db: `sqlite://${join(dir, 'router.db')}`, web: { users: [{ name: 'ben', token: BEN_TOKEN }] } }, smtp.port),
    clock,
  );
});
afterEach(async () => {
  await running.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (body: unknown) => request(`${running.url}/api/v1/alertmanager`, { body });
const incident = async (id = 1) => (await request(`${running.url}/api/v1/incidents/${id}`)).json;
/** Moves the clock, fires what is due, delivers what was queued; returns the mails that went out. */
async function at(iso: string) {
  clock.set(berlin(iso));
  const before = smtp.mails.length;
  await running.router.runDueTimers();
  await running.router.deliverOutbox();
  return smtp.mails.slice(before);
}

describe('SLA deadlines and escalation', () => {
  it('escalates a Friday 17:50 severity-1 page on Monday 09:20, then to the third line at 09:50', async () => {
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 - MIN })]));
    expect((await incident()).incident.ackDueAt).toBe(berlin('2025-03-17T09:20'));
    const [page] = await at('2025-03-14T17:50');
    expect(page).toMatchObject({ to: ['ben@oncall.example'], subject: '[SEV1] XID errors on node-9 GPU 0 (prod-a) #1' });

    expect(await at('2025-03-17T09:19')).toEqual([]);
    const second = await at('2025-03-17T09:20');
    expect(second.map((m) => m.to[0]).sort()).toEqual(['ben@oncall.example', 'second@platform.example']);
    expect(second[0]?.subject).toBe('[SEV1] ESCALATED to second-line: XID errors on node-9 GPU 0 (prod-a) #1');
    expect((await incident()).incident).toMatchObject({ escalationTier: 1, ackDueAt: berlin('2025-03-17T09:50') });

    const third = await at('2025-03-17T09:50');
    expect(third.map((m) => m.to[0]).sort()).toEqual(['ben@oncall.example', 'manager@platform.example']);
    expect(third[0]?.subject).toMatch(/ESCALATED to third-line/);
    expect((await incident()).incident).toMatchObject({ escalationTier: 2, ackDueAt: null });
    // Past the last tier nothing more is sent about acknowledging.
    expect((await at('2025-03-18T17:00')).filter((m) => m.subject.includes('ESCALATED'))).toEqual([]);

    const metrics = (await request(`${running.url}/metrics`)).text;
    expect(metrics).toContain('gpuwatch_router_sla_breaches_total{cluster="prod-a",severity="1",kind="acknowledge"} 2');
    expect(metrics).toContain('gpuwatch_router_escalations_total{cluster="prod-a",severity="1",tier="second-line"} 1');
    expect(metrics).toContain('gpuwatch_router_escalations_total{cluster="prod-a",severity="1",tier="third-line"} 1');
    expect(metrics).toContain('gpuwatch_router_incidents_open{cluster="prod-a",severity="1"} 1');
    expect(metrics).toMatch(/gpuwatch_router_notifications_total\{channel="email",result="sent"\} \d+/);
  });

  it('skips holidays and runs around the clock for 24x7 rows', async () => {
    await running.close();
    running = await startTestRouter(
      await testOptions(
        {
          db: `sqlite://${join(dir, 'router.db')}`,
          workingHours: { timeZone: 'Europe/Berlin', holidays: ['2025-03-17'] },
          sla: [
            { severity: 0, acknowledge: '15m', update: '1h', hours: '24x7' },
            { severity: [1, 2, 3], acknowledge: '30m', update: '2h', hours: 'working' },
          ],
        },
        smtp.port,
      ),
      clock,
    );
    await post(webhook([gpuAlert('node-1', { startsAt: FRIDAY_1750 }), gpuAlert('node-2', { severity: '0', startsAt: FRIDAY_1750 })]));
    const [one, zero] = [(await incident(1)).incident, (await incident(2)).incident];
    expect(one.ackDueAt).toBe(berlin('2025-03-18T09:20'));
    expect(zero.ackDueAt).toBe(berlin('2025-03-14T18:05'));
  });

  it('stops escalating once acknowledged; without an update in time it is open again and pages anew', async () => {
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    clock.set(berlin('2025-03-17T09:10'));
    const ack = await request(`${running.url}/api/v1/incidents/1/ack`, { body: {}, token: BEN_TOKEN });
    expect(ack.json).toMatchObject({ changed: true, incident: { status: 'acknowledged', updateDueAt: berlin('2025-03-17T11:10') } });
    // Only the page (queued on Friday) goes out; no escalation.
    expect((await at('2025-03-17T09:30')).map((m) => m.subject)).toEqual(['[SEV1] XID errors on node-9 GPU 0 (prod-a) #1']);
    expect((await at('2025-03-17T11:09')).filter((m) => !m.subject.startsWith('On-call hand-off'))).toEqual([]);
    const pages = await at('2025-03-17T11:10');
    // The acknowledger, and the DRIs on call now (cho took over at 10:00), each with an acknowledge link.
    expect(pages.map((m) => m.to[0]).sort()).toEqual(['ben@oncall.example', 'cho@oncall.example']);
    expect(pages[0]?.subject).toBe('[SEV1] XID errors on node-9 GPU 0 (prod-a) #1');
    expect(pages[0]?.text).toContain('Acknowledged by ben, but no update came within the SLA');
    expect((await incident()).incident).toMatchObject({ status: 'open', acknowledgedBy: null, ackDueAt: berlin('2025-03-17T11:40'), updateDueAt: null });
    // Not acknowledged again: it escalates like a new page.
    expect((await at('2025-03-17T11:40')).map((m) => m.subject)).toContain('[SEV1] ESCALATED to second-line: XID errors on node-9 GPU 0 (prod-a) #1');
    clock.set(berlin('2025-03-17T12:00'));
    expect(
      (await request(`${running.url}/api/v1/incidents/1/update`, { body: { message: 'Drained node-9; replacing the GPU.' }, token: BEN_TOKEN })).json.incident,
    ).toMatchObject({ status: 'acknowledged', updateDueAt: berlin('2025-03-17T14:00') });
    expect(await at('2025-03-17T13:59')).toEqual([]);
    const metrics = (await request(`${running.url}/metrics`)).text;
    expect(metrics).toContain('gpuwatch_router_sla_breaches_total{cluster="prod-a",severity="1",kind="update"} 1');
    expect(metrics).toMatch(/gpuwatch_router_time_to_acknowledge_seconds_count\{cluster="prod-a",severity="1"\} 2/);
    const timeline = (await incident()).timeline.map((e: any) => `${e.kind}:${e.actor}`);
    expect(timeline).toEqual(['opened:alertmanager', 'paged:router', 'acknowledged:ben', 'paged:router', 'escalated:router', 'acknowledged:ben', 'update:ben']);
  });

  it('repeats the escalation tiers `escalation.repeat` more times, then stops', async () => {
    await running.close();
    const escalation = { secondLine: ['second@platform.example'], thirdLine: ['manager@platform.example'], repeat: 1 };
    running = await startTestRouter(await testOptions({ db: `sqlite://${join(dir, 'router.db')}`, escalation }, smtp.port), clock);
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    const tiersAt = async (iso: string) =>
      (await at(iso))
        .filter((m) => m.subject.includes('ESCALATED'))
        .flatMap((m) => m.to)
        .filter((a) => a.includes('platform'));
    expect(await tiersAt('2025-03-17T09:20')).toEqual(['second@platform.example']);
    expect(await tiersAt('2025-03-17T09:50')).toEqual(['manager@platform.example']);
    expect(await tiersAt('2025-03-17T10:20')).toEqual(['second@platform.example']);
    expect(await tiersAt('2025-03-17T10:50')).toEqual(['manager@platform.example']);
    expect((await incident()).incident).toMatchObject({ escalationTier: 4, ackDueAt: null });
    expect(await tiersAt('2025-03-17T11:20')).toEqual([]);
    expect((await incident()).timeline.filter((e: any) => e.kind === 'escalated').map((e: any) => /\(repeat 1\)/.test(e.message))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it('under the default SLA table pages severity 0 around the clock: Saturday 03:00 escalates at 03:30', async () => {
    const saturday = berlin('2025-03-15T03:00');
    clock.set(saturday);
    await post(webhook([gpuAlert('node-1', { severity: '0', startsAt: saturday })]));
    expect((await incident()).incident.ackDueAt).toBe(berlin('2025-03-15T03:30'));
    expect((await at('2025-03-15T03:30')).map((m) => m.subject)).toContain('[SEV0] ESCALATED to second-line: XID errors on node-1 GPU 0 (prod-a) #1');
  });

  it('before the rotation starts pages the second line, and the schedule says when the first shift begins', async () => {
    await running.close();
    const rotation = { handoff: { weekday: 'monday', time: '10:00', timeZone: 'Europe/Berlin' }, start: '2025-04-01' };
    running = await startTestRouter(await testOptions({ db: `sqlite://${join(dir, 'router.db')}`, rotation }, smtp.port), clock);
    const schedule = (await request(`${running.url}/api/v1/oncall`)).json;
    expect(schedule).toMatchObject({ firstShiftAt: '2025-04-07T08:00:00.000Z', now: { dris: [], source: 'not-started', to: '2025-04-07T08:00:00.000Z' } });
    expect(schedule.next[0]).toMatchObject({ from: '2025-04-07T08:00:00.000Z', dris: [{ name: 'ana' }] });
    expect((await request(`${running.url}/api/v1/oncall?at=2025-04-08T00:00:00Z`)).json.firstShiftAt).toBeNull();
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    expect((await at('2025-03-14T17:50')).map((m) => m.to)).toEqual([['second@platform.example']]);
  });

  it('keeps the escalation policy an incident opened with, across a restart with new contacts', async () => {
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    await running.close();
    running = await startTestRouter(
      await testOptions({ db: `sqlite://${join(dir, 'router.db')}`, escalation: { secondLine: ['new-second@platform.example'], thirdLine: [] } }, smtp.port),
      clock,
    );
    const escalated = (await at('2025-03-17T09:20')).filter((m) => m.subject.includes('ESCALATED'));
    expect(escalated.map((m) => m.to[0]).sort()).toEqual(['ben@oncall.example', 'second@platform.example']);
    // An incident opened after the restart follows the new policy.
    await post(webhook([gpuAlert('node-10', { startsAt: clock.now() })]));
    const later = (await at('2025-03-17T09:50')).filter((m) => m.subject.includes('ESCALATED'));
    const to = (id: number) =>
      later
        .filter((m) => m.subject.endsWith(`#${id}`))
        .flatMap((m) => m.to)
        .filter((a) => a.includes('platform'));
    expect(to(1)).toEqual(['manager@platform.example']);
    expect(to(2)).toEqual(['new-second@platform.example']);
  });

  it('sends the incoming DRI a hand-off listing the open incidents', async () => {
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    await request(`${running.url}/api/v1/incidents/1/ack`, { body: { by: 'ben' }, token: API_TOKEN });
    const mails = await at('2025-03-17T10:00');
    const handoff = mails.find((m) => m.subject.startsWith('On-call hand-off'));
    expect(handoff?.subject).toMatch(/^On-call hand-off: cho from Mon 2025-03-17 10:00 \+01:00$/);
    expect(handoff?.to.sort()).toEqual(['ben@oncall.example', 'cho@oncall.example']);
    expect(handoff?.headers.to).toBe('cho@oncall.example');
    expect(handoff?.text).toContain('#1 [SEV1] XID errors on node-9 GPU 0 (prod-a), acknowledged');
    expect((await at('2025-03-17T10:05')).filter((m) => m.subject.startsWith('On-call hand-off'))).toEqual([]);
    const next = await running.db.selectFrom('router_timers').select(['due_at', 'status']).where('name', '=', 'handoff').executeTakeFirst();
    expect(next).toEqual({ due_at: berlin('2025-03-24T10:00'), status: 'pending' });
  });
});

describe('durable timers', () => {
  it('does nothing for a stale or duplicate firing (version token)', async () => {
    await post(webhook([gpuAlert('node-9', { startsAt: FRIDAY_1750 })]));
    const timer = await running.db.selectFrom('router_timers').selectAll().where('name', '=', 'ack:1').executeTakeFirstOrThrow();
    clock.set(berlin('2025-03-17T09:20'));
    expect(await running.router.timers.fire(timer.id, timer.version)).toBe(true);
    // The same claim again (a second replica, a retry): stale.
    expect(await running.router.timers.fire(timer.id, timer.version)).toBe(false);
    const rescheduled = await running.db.selectFrom('router_timers').selectAll().where('name', '=', 'ack:1').executeTakeFirstOrThrow();
    expect(rescheduled.version).toBe(timer.version + 1);
    clock.set(berlin('2025-03-17T09:50'));
    expect(await running.router.timers.fire(timer.id, timer.version)).toBe(false);
    expect(await running.router.timers.fire(rescheduled.id, rescheduled.version)).toBe(true);
    await running.router.deliverOutbox();
    expect(smtp.mails.filter((m) => m.subject.includes('second-line'))).toHaveLength(2);
    expect(smtp.mails.filter((m) => m.subject.includes('third-line'))).toHaveLength(2);
  });
});
