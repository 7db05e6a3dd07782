import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../service.js';
import { API_TOKEN, request, rowCounts, startTestRouter, testOptions } from '../testing/harness.js';
import { useRouterTestbed } from '../testing/testbed.js';
import { fingerprintOf, gpuAlert, webhook } from '../testing/webhooks.js';
import { SEEN_RESOLUTION_MS } from './intake.js';
import { reconcile } from './reconciler.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z'); // 10:00 in Berlin; ben is on call
const MIN = 60_000;

const bed = useRouterTestbed(TUESDAY_10);
let running: RunningRouter;

beforeEach(async () => {
  running = await bed.start();
});

const post = (body: unknown) => request(`${running.url}/api/v1/alertmanager`, { body });
const incidents = async (status = 'all') => (await request(`${running.url}/api/v1/incidents?status=${status}`)).json.incidents as any[];
const deliver = () => running.router.deliverOutbox();

describe('webhook validation', () => {
  it.each([
    ['no alerts list', { version: '4', status: 'firing' }, /^alerts: Required/],
    ['a bad status', webhook([gpuAlert('n1', { startsAt: TUESDAY_10 })], {}), null],
    [
      'a start that is not a time',
      { alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday', fingerprint: 'f1' }] },
      /^alerts\.0\.startsAt: not an RFC 3339 time/,
    ],
    [
      'a label that is not a string',
      { alerts: [{ status: 'firing', labels: { node: 7 }, startsAt: '2025-03-11T09:00:00Z', fingerprint: 'f1' }] },
      /^alerts\.0\.labels\.node: Expected string, received number/,
    ],
    [
      'an unknown alert status',
      { alerts: [{ status: 'pending', labels: {}, startsAt: '2025-03-11T09:00:00Z', fingerprint: 'f1' }] },
      /^alerts\.0\.status: Invalid enum value/,
    ],
    ['a missing fingerprint', { alerts: [{ status: 'firing', labels: {}, startsAt: '2025-03-11T09:00:00Z' }] }, /^alerts\.0\.fingerprint: Required/],
  ])('answers 400 naming the field for %s, and stores nothing', async (_name, body, error) => {
    if (error === null) {
      (body as any).alerts[0].status = 'burning';
      error = /^alerts\.0\.status: Invalid enum value/;
    }
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(error);
    expect(await rowCounts(running)).toEqual({ router_incidents: 0, router_alerts: 0, router_events: 0, router_outbox: 0, router_actions: 0 });
  });

  it('answers 400 to a body that is not JSON', async () => {
    const answer = await request(`${running.url}/api/v1/alertmanager`, { raw: '{"alerts": [', contentType: 'application/json' });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/not valid JSON/);
    expect((await rowCounts(running)).router_alerts).toBe(0);
  });

  it('ignores fields it does not know (newer Alertmanager releases add some)', async () => {
    const body = webhook([gpuAlert('n1', { startsAt: TUESDAY_10 })], { notification_reason: 'new', someFutureField: { a: 1 } });
    (body.alerts[0] as any).extra = 'x';
    const answer = await post(body);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ alerts: 1, firing: 1, opened: [1], paged: [1] });
  });
});

describe('intake', () => {
  it('pages the DRI on call once for duplicates, with a working acknowledge link', async () => {
    const body = webhook([gpuAlert('node-7', { startsAt: TUESDAY_10 - 2 * MIN })]);
    expect((await post(body)).json).toMatchObject({ opened: [1], paged: [1] });
    // The same group again: a repeat, the other Alertmanager replica, a retry after a timeout.
    for (let i = 0; i < 3; i++) expect((await post(body)).json).toMatchObject({ unchanged: 1, opened: [], paged: [] });
    await deliver();
    const [page] = await bed.smtp.waitFor(1);
    expect(bed.smtp.mails).toHaveLength(1);
    expect(page?.to).toEqual(['ben@oncall.example']);
    expect(page?.subject).toBe('[SEV1] XID errors on node-7 GPU 0 (prod-a) #1');
    expect(page?.text).toContain('Acknowledge by: Tue 2025-03-11 10:30');
    expect(page?.html).toContain('https://runbooks.example/gpu-xid');
    const link = /Acknowledge: (\S+)/.exec(page?.text ?? '')?.[1] as string;
    expect(link.startsWith(`${running.url}/ack/`)).toBe(true);

    bed.clock.advance(5 * MIN);
    // Opening the link shows the Acknowledge button; pressing it (a POST) acknowledges.
    const press = () => request(link, { method: 'POST', raw: '', contentType: 'application/x-www-form-urlencoded' });
    const ack = await press();
    expect(ack.status).toBe(200);
    expect(ack.text).toContain('Incident #1 acknowledged');
    const [incident] = await incidents();
    expect(incident).toMatchObject({ id: 1, status: 'acknowledged', acknowledgedBy: 'ben@oncall.example', ackDueAt: null });
    expect((await press()).text).toContain('was already acknowledged');
  });

  it('keeps last_seen_at to the minute: repeats within a minute write nothing', async () => {
    const body = webhook([gpuAlert('node-7', { startsAt: TUESDAY_10 - 2 * MIN })]);
    await post(body);
    const lastSeen = async () => Number((await running.db.selectFrom('router_alerts').select('last_seen_at').executeTakeFirstOrThrow()).last_seen_at);
    expect(await lastSeen()).toBe(TUESDAY_10);
    bed.clock.advance(SEEN_RESOLUTION_MS - 1);
    expect((await post(body)).json).toMatchObject({ unchanged: 1 });
    expect(await lastSeen()).toBe(TUESDAY_10);
    bed.clock.advance(1);
    expect((await post(body)).json).toMatchObject({ unchanged: 1 });
    expect(await lastSeen()).toBe(TUESDAY_10 + SEEN_RESOLUTION_MS);
  });

  it('refuses forged and expired acknowledge links', async () => {
    await post(webhook([gpuAlert('node-7', { startsAt: TUESDAY_10 })]));
    await deliver();
    const [page] = await bed.smtp.waitFor(1);
    const link = /Acknowledge: (\S+)/.exec(page?.text ?? '')?.[1] as string;
    const forged = link.replace(/.(?=\.[^.]*$)/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await request(forged)).status).toBe(403);
    expect((await request(`${running.url}/ack/garbage`)).status).toBe(400);
    bed.clock.advance(25 * 3_600_000);
    expect((await request(link)).status).toBe(410);
    expect((await incidents())[0].status).toBe('open');
  });

  it('takes a resolution that overtakes its firing copy as the end of the episode: no page', async () => {
    const alert = gpuAlert('node-3', { startsAt: TUESDAY_10 - 10 * MIN });
    expect((await post(webhook([{ ...alert, status: 'resolved', endsAt: TUESDAY_10 - MIN }]))).json).toMatchObject({ resolved: 1, opened: [] });
    expect((await post(webhook([alert]))).json).toMatchObject({ unchanged: 1, firing: 0, opened: [] });
    expect(await incidents()).toEqual([]);
    await deliver();
    expect(bed.smtp.mails).toEqual([]);
  });

  it('keeps one episode while startsAt moves earlier, and opens a new one after a resolution', async () => {
    const alert = gpuAlert('node-4', { startsAt: TUESDAY_10 - 5 * MIN });
    await post(webhook([alert]));
    await post(webhook([{ ...alert, startsAt: TUESDAY_10 - 9 * MIN }]));
    const row = await running.db.selectFrom('router_alerts').selectAll().where('fingerprint', '=', fingerprintOf(alert.labels)).execute();
    expect(row.map((r) => [r.episode, r.status, Number(r.starts_at)])).toEqual([[1, 'firing', TUESDAY_10 - 9 * MIN]]);

    bed.clock.advance(10 * MIN);
    expect((await post(webhook([{ ...alert, status: 'resolved', endsAt: bed.clock.now() }]))).json).toMatchObject({ resolved: 1, closed: [1] });
    // A late firing copy of the first episode is stale.
    expect((await post(webhook([alert]))).json).toMatchObject({ unchanged: 1 });
    bed.clock.advance(30 * MIN);
    expect((await post(webhook([{ ...alert, startsAt: bed.clock.now() - MIN }]))).json).toMatchObject({ firing: 1, opened: [2], paged: [2] });
    const episodes = await running.db.selectFrom('router_alerts').select(['episode', 'status', 'incident_id']).orderBy('episode').execute();
    expect(episodes).toEqual([
      { episode: 1, status: 'resolved', incident_id: 1 },
      { episode: 2, status: 'firing', incident_id: 2 },
    ]);
    await deliver();
    expect(bed.smtp.mails.map((m) => m.subject.replace(/ \(.*/, ''))).toEqual([
      '[SEV1] XID errors on node-4 GPU 0',
      '[RESOLVED] XID errors on node-4 GPU 0',
      '[SEV1] XID errors on node-4 GPU 0',
    ]);
  });

  it('groups by cluster, alert name and node or job', async () => {
    const answer = await post(
      webhook([
        gpuAlert('node-1', { gpu: '0', startsAt: TUESDAY_10 }),
        gpuAlert('node-1', { gpu: '5', startsAt: TUESDAY_10 }),
        gpuAlert('node-2', { gpu: '0', startsAt: TUESDAY_10 }),
        gpuAlert('node-1', { gpu: '0', startsAt: TUESDAY_10, alertname: 'GpuTooHot' }),
        gpuAlert('node-1', { gpu: '0', startsAt: TUESDAY_10, cluster: 'dev-a' }),
        {
          labels: { alertname: 'JobLowGpuUtilization', severity: '3', cluster: 'prod-a', job: 'alice~train', user: 'alice', node: 'node-1' },
          startsAt: TUESDAY_10,
        },
        {
          labels: { alertname: 'JobLowGpuUtilization', severity: '3', cluster: 'prod-a', job: 'alice~train', user: 'alice', node: 'node-2' },
          startsAt: TUESDAY_10,
        },
      ]),
    );
    expect(answer.json).toMatchObject({ firing: 7, opened: [1, 2, 3, 4, 5] });
    const list = await incidents();
    expect(list.map((i) => [i.cluster, i.scope, i.subject, i.clusterPriority]).sort()).toEqual([
      ['dev-a', 'node', 'node-1', 'dev'],
      ['prod-a', 'job', 'alice~train', 'production'],
      ['prod-a', 'node', 'node-1', 'production'],
      ['prod-a', 'node', 'node-1', 'production'],
      ['prod-a', 'node', 'node-2', 'production'],
    ]);
  });

  it('pages again for a more severe alert joining an acknowledged incident, not for a milder one', async () => {
    await post(webhook([gpuAlert('node-5', { severity: '2', startsAt: TUESDAY_10 })]));
    await request(`${running.url}/api/v1/incidents/1/ack`, { body: { by: 'ben' }, token: API_TOKEN });
    await post(webhook([gpuAlert('node-5', { severity: '2', startsAt: TUESDAY_10 }), gpuAlert('node-5', { gpu: '1', severity: '3', startsAt: TUESDAY_10 })]));
    expect((await incidents())[0]).toMatchObject({ status: 'acknowledged', severity: 2 });
    const raised = await post(webhook([gpuAlert('node-5', { gpu: '2', severity: '0', startsAt: TUESDAY_10 })]));
    expect(raised.json).toMatchObject({ firing: 1, opened: [], paged: [1] });
    expect((await incidents())[0]).toMatchObject({ status: 'open', severity: 0 });
    await deliver();
    expect(bed.smtp.mails.map((m) => m.subject)).toEqual(['[SEV2] XID errors on node-5 GPU 0 (prod-a) #1', '[SEV0] XID errors on node-5 GPU 0 (prod-a) #1']);
    expect(bed.smtp.mails[1]?.text).toContain('Severity raised to 0');
  });

  it('resolves the incident when its last alert resolves, with a postmortem skeleton', async () => {
    const a = gpuAlert('node-6', { startsAt: TUESDAY_10 });
    const b = gpuAlert('node-6', { gpu: '1', startsAt: TUESDAY_10 });
    await post(webhook([a, b]));
    bed.clock.advance(20 * MIN);
    expect((await post(webhook([{ ...a, status: 'resolved', endsAt: bed.clock.now() }, b]))).json).toMatchObject({ resolved: 1, closed: [] });
    bed.clock.advance(20 * MIN);
    expect((await post(webhook([{ ...b, status: 'resolved', endsAt: bed.clock.now() }]))).json).toMatchObject({ resolved: 1, closed: [1] });
    const detail = (await request(`${running.url}/api/v1/incidents/1`)).json;
    expect(detail.incident).toMatchObject({ status: 'resolved', resolvedBy: 'alertmanager' });
    expect(detail.timeline.map((e: any) => e.kind)).toEqual(['opened', 'paged', 'resolved']);
    expect(detail.postmortem.markdown).toContain('## Why it happened');
    expect(detail.postmortem.markdown).toContain('## How to avoid it next time');
    expect(detail.postmortem.markdown).toContain('## Follow-up issues');
    expect(detail.postmortem.timeline).toHaveLength(3);
    // The timers of a resolved incident are cancelled: nothing escalates.
    bed.clock.advance(24 * 3_600_000);
    expect(await running.router.runDueTimers()).toBe(0);
  });

  it('says in the resolved mail who or what resolved it, in plain words', async () => {
    await post(
      webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 }), gpuAlert('node-2', { startsAt: TUESDAY_10 }), gpuAlert('node-3', { startsAt: TUESDAY_10 })]),
    );
    bed.clock.advance(10 * MIN);
    await post(webhook([{ ...gpuAlert('node-1', { startsAt: TUESDAY_10 }), status: 'resolved', endsAt: bed.clock.now() }]));
    await running.router.resolve(2, 'alice', 'GPU replaced');
    // node-3's alert is gone from Alertmanager (silenced when it resolved): the reconciler closes it.
    await reconcile(running.router.ctx, { fingerprints: new Set(), groups: new Set() }, bed.clock.now() + 1);
    await deliver();
    const resolved = bed.smtp.mails
      .filter((m) => m.subject.startsWith('[RESOLVED]'))
      .map((m) => `${m.subject.replace(/ \(.*/, '')} | ${m.text.split('\n')[0]}`);
    expect(resolved).toEqual([
      '[RESOLVED] XID errors on node-1 GPU 0 | Resolved Tue 2025-03-11 10:10 +01:00: Alertmanager reported all its alerts resolved.',
      '[RESOLVED] XID errors on node-2 GPU 0 | Resolved Tue 2025-03-11 10:10 +01:00: alice resolved it by hand.',
      '[RESOLVED] XID errors on node-3 GPU 0 | Resolved Tue 2025-03-11 10:10 +01:00: Alertmanager no longer reports it (its alerts were silenced or inhibited when they resolved).',
    ]);
  });
});

describe('a database that is locked', () => {
  it('answers 503 (Alertmanager retries) and stores nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-lock-'));
    const file = join(dir, 'router.db');
    const locked = await startTestRouter(await testOptions({ db: `sqlite://${file}` }), bed.clock);
    const other = new Database(file);
    try {
      other.exec('BEGIN EXCLUSIVE');
      const answer = await request(`${locked.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]) });
      expect(answer.status).toBe(503);
      other.exec('ROLLBACK');
      expect((await rowCounts(locked)).router_alerts).toBe(0);
      expect((await request(`${locked.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]) })).status).toBe(200);
    } finally {
      other.close();
      await locked.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
