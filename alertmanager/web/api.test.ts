import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { API_TOKEN, request, startTestRouter, testOptions } from '../testing/harness.js';
import { gpuAlert, webhook } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');

const BEN_TOKEN = 'ben-personal-token';
const ANA_TOKEN = 'ana-personal-token';

let running: RunningRouter;
let tokenless: RunningRouter;
let secrets: string;

beforeAll(async () => {
  secrets = mkdtempSync(join(tmpdir(), 'router-tokens-'));
  writeFileSync(join(secrets, 'ana'), `${ANA_TOKEN}\n`);
  const users = [
    { name: 'ben', token: BEN_TOKEN },
    { name: 'ana', tokenFile: join(secrets, 'ana') },
  ];
  running = await startTestRouter(
    await testOptions({
      webhookToken: 'am-secret',
      web: { users },
      rotation: {
        handoff: { weekday: 'monday', time: '10:00', timeZone: 'Europe/Berlin' },
        start: '2025-03-03',
        overrides: [{ from: '2025-03-12', to: '2025-03-12', dris: ['ana'] }],
      },
    }),
    new ManualClock(TUESDAY_10),
  );
  tokenless = await startTestRouter(await testOptions({ apiToken: undefined }), new ManualClock(TUESDAY_10));
  await request(`${running.url}/api/v1/alertmanager`, { body: webhook([gpuAlert('node-1', { startsAt: TUESDAY_10 })]), token: 'am-secret' });
});

afterAll(async () => {
  await running?.close();
  await tokenless?.close();
  rmSync(secrets, { recursive: true, force: true });
});

describe('the API', () => {
  it('tells who is on call at a time, and the changes ahead', async () => {
    const answer = await request(`${running.url}/api/v1/oncall?at=2025-03-11T12:00:00%2B01:00&count=3`);
    expect(answer.json).toEqual({
      at: '2025-03-11T11:00:00.000Z',
      timeZone: 'Europe/Berlin',
      firstShiftAt: null,
      now: { from: '2025-03-10T09:00:00.000Z', to: '2025-03-11T23:00:00.000Z', dris: [{ name: 'ben', email: 'ben@oncall.example' }], source: 'rotation' },
      next: [
        { from: '2025-03-11T23:00:00.000Z', to: '2025-03-12T23:00:00.000Z', dris: [{ name: 'ana', email: 'ana@oncall.example' }], source: 'override' },
        { from: '2025-03-12T23:00:00.000Z', to: '2025-03-17T09:00:00.000Z', dris: [{ name: 'ben', email: 'ben@oncall.example' }], source: 'rotation' },
        { from: '2025-03-17T09:00:00.000Z', to: '2025-03-24T09:00:00.000Z', dris: [{ name: 'cho', email: 'cho@oncall.example' }], source: 'rotation' },
      ],
    });
    expect((await request(`${running.url}/api/v1/oncall?at=soon`)).status).toBe(400);
    expect((await request(`${running.url}/api/v1/oncall`)).json.now.dris[0].name).toBe('ben');
  });

  it('needs the webhook token when one is configured', async () => {
    const body = webhook([gpuAlert('node-2', { startsAt: TUESDAY_10 })]);
    expect((await request(`${running.url}/api/v1/alertmanager`, { body })).status).toBe(401);
    expect((await request(`${running.url}/api/v1/alertmanager`, { body, token: 'wrong' })).status).toBe(401);
    expect((await request(`${tokenless.url}/api/v1/alertmanager`, { body })).status).toBe(200);
  });

  it('needs the bearer token for writes and the audit log, and refuses them without a configured token', async () => {
    expect((await request(`${running.url}/api/v1/incidents/1/ack`, { body: {} })).status).toBe(401);
    expect((await request(`${running.url}/api/v1/incidents/1/ack`, { body: {}, token: 'nope' })).status).toBe(401);
    expect((await request(`${running.url}/api/v1/audit`)).status).toBe(401);
    const refused = await request(`${tokenless.url}/api/v1/incidents/1/ack`, { body: {}, token: 'anything' });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatch(/no apiToken and no web.users configured/);
    expect((await request(`${running.url}/api/v1/incidents/1`)).json.incident.status).toBe('open');
  });

  it('acknowledges, updates and resolves, with clear answers for what cannot be done', async () => {
    const url = (path: string) => `${running.url}/api/v1/incidents/${path}`;
    expect((await request(url('99/ack'), { body: {}, token: API_TOKEN })).status).toBe(404);
    expect((await request(url('x/ack'), { body: {}, token: API_TOKEN })).status).toBe(400);
    expect((await request(url('1/update'), { body: { message: ' ' }, token: API_TOKEN })).status).toBe(400);
    // A personal token is recorded under its owner's name, whatever `by` claims.
    const update = await request(url('1/update'), { body: { by: 'cho', message: 'Looking at it.' }, token: BEN_TOKEN });
    expect(update.json).toMatchObject({ changed: true, incident: { status: 'acknowledged', acknowledgedBy: 'ben' } });
    expect((await request(url('1/ack'), { body: {}, token: API_TOKEN })).json.changed).toBe(false);
    // The shared token is recorded as such; the name it gives is kept as a claim.
    expect((await request(url('1/update'), { body: { by: 'ops-bot', message: 'Ticket filed.' }, token: API_TOKEN })).status).toBe(200);
    expect((await request(url('1/resolve'), { body: { note: 'GPU replaced' }, token: ANA_TOKEN })).json).toMatchObject({
      changed: true,
      incident: { status: 'resolved', resolvedBy: 'ana' },
    });
    expect((await request(url('1/resolve'), { body: {}, token: API_TOKEN })).json.changed).toBe(false);
    expect((await request(url('1/ack'), { body: {}, token: API_TOKEN })).status).toBe(409);
    expect((await request(url('1/update'), { body: { message: 'late' }, token: API_TOKEN })).status).toBe(409);

    const audit = (await request(`${running.url}/api/v1/audit?subject=incident:1`, { token: API_TOKEN })).json.entries;
    expect(audit.map((e: any) => `${e.event} ${e.actor}`)).toEqual([
      'incident.resolve ana',
      'incident.update shared-token (says ops-bot)',
      'incident.update ben',
      'incident.acknowledge ben',
    ]);
    expect((await request(`${running.url}/api/v1/incidents?status=resolved`)).json.incidents.map((i: any) => i.id)).toEqual([1]);
    expect((await request(`${running.url}/api/v1/incidents`)).json.incidents).toEqual([]);
    expect((await request(`${running.url}/api/v1/incidents?status=sideways`)).status).toBe(400);
  });

  it('serves health, metrics and a 404 for the rest', async () => {
    expect((await request(`${running.url}/healthz`)).json).toEqual({ status: 'ok' });
    const metrics = await request(`${running.url}/metrics`);
    for (const name of [
      'gpuwatch_router_incidents_open',
      'gpuwatch_router_time_to_acknowledge_seconds',
      'gpuwatch_router_sla_breaches_total',
      'gpuwatch_router_escalations_total',
      'gpuwatch_router_notifications_total',
      'gpuwatch_router_job_actions_total',
    ]) {
      expect(metrics.text).toContain(`# TYPE ${name}`);
    }
    expect((await request(`${running.url}/api/v1/nothing`)).status).toBe(404);
    expect((await request(`${running.url}/incidents/42`)).status).toBe(404);
  });
});
