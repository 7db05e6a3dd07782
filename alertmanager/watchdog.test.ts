/**
 * The dead man's switch on two routers sharing the machine's MariaDB (as two replicas behind
 * Alertmanager's HA pair, each getting every webhook): the Watchdog never opens an incident; when it
 * stops, the DRI on call gets one "silent" mail, and one recovery mail when it is back.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import { ManualClock } from './clock.js';
import type { RunningRouter } from './service.js';
import { request, startTestRouter, testOptions } from './testing/harness.js';
import { SmtpSink } from '../stack/mail-catcher.js';
import { webhook } from './testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z'); // ben is on call
const MIN = 60_000;

let database: ThrowawayDatabase;
let smtp: SmtpSink;
let clock: ManualClock;
let replicas: RunningRouter[];

beforeAll(async () => {
  database = await createThrowawayMysqlDatabase();
  smtp = await SmtpSink.start();
  clock = new ManualClock(TUESDAY_10);
  const options = await testOptions({ db: database.url, watchdog: { timeout: '5m' } }, smtp.port);
  replicas = await Promise.all([startTestRouter(options, clock), startTestRouter(options, clock)]);
});

afterAll(async () => {
  await Promise.all((replicas ?? []).map((r) => r.close()));
  await smtp?.stop();
  await database?.drop();
});

const watchdog = (cluster: string) =>
  webhook([
    {
      labels: { alertname: 'Watchdog', watchdog: 'true', cluster, severity: 'none' },
      annotations: { summary: 'The alert pipeline works' },
      startsAt: TUESDAY_10 - 60 * MIN,
    },
  ]);
/** Both replicas get the webhook at once, as from Alertmanager's two instances. */
const postToBoth = (body: unknown) => Promise.all(replicas.map((r) => request(`${r.url}/api/v1/alertmanager`, { body })));
async function at(ms: number): Promise<string[]> {
  clock.set(ms);
  const before = smtp.mails.length;
  await Promise.all(replicas.map((r) => r.router.runDueTimers()));
  await Promise.all(replicas.map((r) => r.router.deliverOutbox()));
  return smtp.mails.slice(before).map((m) => `${m.to.join(',')}: ${m.subject}`);
}
const berlin = (ms: number) => DateTime.fromMillis(ms, { zone: 'Europe/Berlin' }).toFormat('ccc yyyy-MM-dd HH:mm ZZ');

describe("the dead man's switch on two replicas", () => {
  it('opens no incident, pages once when the Watchdog stops, and once when it is back', async () => {
    // Not seen yet: nothing to miss.
    expect(await at(TUESDAY_10 + 30 * MIN)).toEqual([]);
    let last = 0;
    for (let minute = 30; minute <= 33; minute++) {
      clock.set(TUESDAY_10 + minute * MIN);
      last = clock.now();
      expect((await postToBoth(watchdog('prod-a'))).map((a) => a.status)).toEqual([200, 200]);
      expect(await at(last)).toEqual([]);
    }
    expect((await request(`${replicas[0]?.url}/api/v1/incidents?status=all`)).json.incidents).toEqual([]);
    expect(await replicas[1]?.db.selectFrom('router_watchdogs').select(['cluster', 'last_seen_at']).execute()).toEqual([
      { cluster: 'prod-a', last_seen_at: last },
    ]);

    expect(await at(last + 5 * MIN - 1)).toEqual([]);
    expect(await at(last + 5 * MIN)).toEqual([`ben@oncall.example: [ALERT PIPELINE SILENT] cluster prod-a since ${berlin(last)}`]);
    expect(smtp.mails.at(-1)?.text).toContain('has not arrived for 5 minutes');
    // Still silent: no second mail.
    expect(await at(last + 30 * MIN)).toEqual([]);

    clock.set(last + 40 * MIN);
    await postToBoth(watchdog('prod-a'));
    expect(await at(last + 40 * MIN)).toEqual([`ben@oncall.example: [ALERT PIPELINE BACK] cluster prod-a (${berlin(last + 40 * MIN)})`]);
    expect((await request(`${replicas[0]?.url}/api/v1/incidents?status=all`)).json.incidents).toEqual([]);
  });
});
