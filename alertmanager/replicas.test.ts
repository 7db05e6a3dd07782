/**
 * The MySQL path on the machine's MariaDB: two routers with their own connection pools on one
 * database, as two replicas behind Alertmanager's HA pair. Each incident is paged once, each timer
 * fires once, each mail goes out once; an unreachable database answers 503.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import { TcpRelay } from '../src/storage/testing/tcp-relay.js';
import { ManualClock } from './clock.js';
import type { RunningRouter } from './service.js';
import { request, startTestRouter, testOptions } from './testing/harness.js';
import { SmtpSink } from '../stack/mail-catcher.js';
import { gpuAlert, webhook } from './testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const GROUPS = 12;

let database: ThrowawayDatabase;
let smtp: SmtpSink;
let clock: ManualClock;
let first: RunningRouter;
let second: RunningRouter;

beforeAll(async () => {
  database = await createThrowawayMysqlDatabase();
  smtp = await SmtpSink.start();
  clock = new ManualClock(TUESDAY_10);
  const options = await testOptions({ db: database.url }, smtp.port);
  // Started together: both run the migrations and race for the shared settings rows.
  [first, second] = await Promise.all([startTestRouter(options, clock), startTestRouter(options, clock)]);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await smtp?.stop();
  await database?.drop();
});

describe('two routers on one MariaDB', () => {
  it('pages each incident once when both replicas get every webhook, again and again', async () => {
    const bodies = Array.from({ length: GROUPS }, (_, i) =>
      webhook([gpuAlert(`node-${i}`, { startsAt: TUESDAY_10 }), gpuAlert(`node-${i}`, { gpu: '1', startsAt: TUESDAY_10 })]),
    );
    const sends = bodies.flatMap((body) => [first, second, first, second].map((r) => request(`${r.url}/api/v1/alertmanager`, { body })));
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const incidents = (await request(`${second.url}/api/v1/incidents`)).json.incidents as any[];
    expect(incidents).toHaveLength(GROUPS);
    const alerts = await first.db
      .selectFrom('router_alerts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(alerts?.n)).toBe(GROUPS * 2);
    const pages = await first.db
      .selectFrom('router_outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', 'page')
      .executeTakeFirst();
    expect(Number(pages?.n)).toBe(GROUPS);

    expect(await first.router.outbox.nextAttemptAt()).toBe(TUESDAY_10);
    // Both deliver at once; every mail goes out once.
    await Promise.all([first.router.deliverOutbox(), second.router.deliverOutbox()]);
    expect(await second.router.outbox.nextAttemptAt()).toBeUndefined();
    await smtp.waitFor(GROUPS);
    expect(smtp.mails).toHaveLength(GROUPS);
    expect(new Set(smtp.mails.map((m) => m.subject)).size).toBe(GROUPS);
  });

  it('fires each timer once when both replicas poll at the same moment', async () => {
    smtp.mails.length = 0;
    clock.advance(31 * 60_000);
    const fired = await Promise.all([first.router.runDueTimers(), second.router.runDueTimers(), first.router.runDueTimers(), second.router.runDueTimers()]);
    expect(fired.reduce((a, b) => a + b, 0)).toBe(GROUPS);
    const escalations = await first.db
      .selectFrom('router_outbox')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', 'escalation')
      .executeTakeFirst();
    // The second line and the DRI, once per incident.
    expect(Number(escalations?.n)).toBe(GROUPS * 2);
    await Promise.all([first.router.deliverOutbox(), second.router.deliverOutbox()]);
    await smtp.waitFor(GROUPS * 2);
    expect(smtp.mails).toHaveLength(GROUPS * 2);
    const tiers = await first.db.selectFrom('router_incidents').select('escalation_tier').execute();
    expect(tiers.every((t) => t.escalation_tier === 1)).toBe(true);
  });

  it('acknowledges through either replica, once', async () => {
    // InnoDB may skip ids (a transaction retried after a deadlock keeps its number): take the first incident's.
    const id = Number((await first.db.selectFrom('router_incidents').select('id').orderBy('id').executeTakeFirstOrThrow()).id);
    const [a, b] = await Promise.all([
      request(`${first.url}/api/v1/incidents/${id}/ack`, { body: { by: 'ana' }, token: 'router-test-token' }),
      request(`${second.url}/api/v1/incidents/${id}/ack`, { body: { by: 'ben' }, token: 'router-test-token' }),
    ]);
    expect([a.json.changed, b.json.changed].sort()).toEqual([false, true]);
    const events = await first.db.selectFrom('router_events').select('kind').where('incident_id', '=', id).where('kind', '=', 'acknowledged').execute();
    expect(events).toHaveLength(1);
  });
});

describe('a database that cannot be reached', () => {
  it('answers 503 while MariaDB is away, and stores the retried webhook once it is back', async () => {
    const relay = new TcpRelay('127.0.0.1', 3306);
    await relay.start();
    const url = database.url.replace('127.0.0.1:3306', `127.0.0.1:${relay.port}`);
    const router = await startTestRouter(await testOptions({ db: url }), clock);
    try {
      const body = webhook([gpuAlert('node-relay', { startsAt: TUESDAY_10 })]);
      await relay.stop();
      const down = await request(`${router.url}/api/v1/alertmanager`, { body });
      expect(down.status).toBe(503);
      expect(down.json.error).toMatch(/retry/);
      expect((await request(`${router.url}/healthz`)).status).toBe(503);
      await relay.start();
      const up = await request(`${router.url}/api/v1/alertmanager`, { body });
      expect(up.status).toBe(200);
      expect(up.json.opened).toHaveLength(1);
    } finally {
      await router.close();
      await relay.stop();
    }
  });
});
