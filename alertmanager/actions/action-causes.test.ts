/**
 * The cause of a job action, end to end: the router tells the real rule service (in-process) why it
 * acts, and the rule service confirms that cause from a real Prometheus (backfilled with promtool)
 * before it stops the job on the fake OpenPAI rest-server. The cause is kept in the router's
 * database, so a restart during the grace period keeps it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { policiesSchema } from '../../src/config/policies.js';
import { runtimePolicyOf } from '../../rule-service/runtime-check.js';
import type { RunningRuleService } from '../../rule-service/service.js';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { RULE_SERVICE_TOKEN, useActionsWorld, WEBHOOK_TOKEN } from '../testing/actions-fixture.js';
import { API_TOKEN, request } from '../testing/harness.js';
import { webhook, type TestAlert } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400;

/** Busy oppo jobs (GPUs 90 % busy) that started `days` ago; the policy gives oppo jobs 2 days. */
const JOBS = { 'bob~old-busy': 3, 'bob~old-busy-2': 3, 'bob~young': 1, 'bob~restarted': 3 } as const;
const HISTORY = Object.entries(JOBS).map(([job, days], i) => ({
  node: `w${i}`,
  uuid: `GPU-${i}`,
  job,
  utilization: 0.9,
  sinceSeconds: 7_200,
  startedSecondsAgo: days * DAY,
}));
const bed = useActionsWorld([{ name: 'admin', admin: true }, { name: 'bob' }], HISTORY, TUESDAY_10);

let dir: string;
let ruleService: RunningRuleService;
let running: RunningRouter | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'router-action-causes-'));
  for (const job of Object.keys(JOBS)) bed.openpai.addJob({ user: 'bob', name: job.split('~')[1] as string, gpus: 1, priority: 'oppo' });
  const policy = runtimePolicyOf(policiesSchema.parse({ jobRunningTooLong: { overrides: [{ priority: 'oppo', threshold: '2d' }] } }).jobRunningTooLong);
  ruleService = await bed.startRuleService({ runtimeCheck: { url: bed.prometheus.url, timeoutMs: 3_000, policy } });
});
afterAll(async () => {
  await ruleService?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function startRouter(clock: ManualClock, db = 'sqlite::memory:'): Promise<RunningRouter> {
  running = await bed.startRouter(clock, { db, ruleService: { url: ruleService.url }, actions: { dryRun: false, grace: '10m', minGrace: '5m' } });
  return running;
}

/** A job alert as the generator writes it. */
function jobAlert(alertname: 'GpuJobRunningTooLong' | 'GpuJobLowUtilization', job: string): TestAlert {
  return {
    labels: { alertname, severity: '3', cluster: 'prod-a', job, user: 'bob', vc: 'default', priority: 'oppo', action: 'kill' },
    annotations: { summary: `${alertname} for ${job}` },
    startsAt: TUESDAY_10 - 5 * MIN,
    status: 'firing',
  };
}

async function fireAndWait(router: RunningRouter, clock: ManualClock, alerts: TestAlert[], ms = 10 * MIN): Promise<void> {
  await request(`${router.url}/api/v1/alertmanager`, { body: webhook(alerts), token: WEBHOOK_TOKEN });
  await waitGrace(router, clock, ms);
}
async function waitGrace(router: RunningRouter, clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await router.router.runDueTimers();
  for (let i = 0; i < 5 && (await router.router.deliverOutbox()) > 0; i++);
}
const stopsOf = (job: string) => bed.openpai.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/jobs/${job}/executionType`);
const routerAudit = async (router: RunningRouter, job: string) =>
  ((await request(`${router.url}/api/v1/audit?subject=${job}`, { token: API_TOKEN })).json.entries as any[]).reverse();
const theirAudit = async (job: string) =>
  (await request(`${ruleService.url}/api/v1/audit?subject=${job}`, { token: RULE_SERVICE_TOKEN })).json.entries as any[];

describe('the cause of a job action', () => {
  it('stops a busy job past its limit for GpuJobRunningTooLong, and refuses the same kind of job for GpuJobLowUtilization', async () => {
    const clock = new ManualClock(TUESDAY_10);
    const router = await startRouter(clock);
    await fireAndWait(router, clock, [jobAlert('GpuJobRunningTooLong', 'bob~old-busy'), jobAlert('GpuJobLowUtilization', 'bob~old-busy-2')]);
    expect(stopsOf('bob~old-busy')).toHaveLength(1);
    expect((await routerAudit(router, 'bob~old-busy')).map((e) => e.event)).toEqual(['action.warn', 'action.request', 'action.done']);
    expect((await routerAudit(router, 'bob~old-busy'))[1].detail).toMatchObject({ cause: 'running-too-long' });
    expect((await theirAudit('bob~old-busy'))[0].detail).toMatchObject({
      status: 'done',
      cause: 'running-too-long',
      check: expect.stringMatching(/confirmed running too long/),
    });

    expect(stopsOf('bob~old-busy-2')).toEqual([]);
    const refused = (await routerAudit(router, 'bob~old-busy-2')).at(-1);
    expect(refused).toMatchObject({
      event: 'action.refused',
      detail: { message: expect.stringMatching(/the rule service refused: refused: bob~old-busy-2 is not idle/) },
    });
  });

  it('refuses a job younger than its limit for GpuJobRunningTooLong', async () => {
    const clock = new ManualClock(TUESDAY_10);
    const router = await startRouter(clock);
    await fireAndWait(router, clock, [jobAlert('GpuJobRunningTooLong', 'bob~young')]);
    expect(stopsOf('bob~young')).toEqual([]);
    expect((await routerAudit(router, 'bob~young')).at(-1)).toMatchObject({
      event: 'action.refused',
      detail: { message: expect.stringMatching(/bob~young has run 1d[0-9ms]*, less than the 2d/) },
    });
  });

  it('keeps the cause across a router restart during the grace period', async () => {
    const db = `sqlite://${join(dir, 'router.db')}`;
    const clock = new ManualClock(TUESDAY_10);
    const before = await startRouter(clock, db);
    await fireAndWait(before, clock, [jobAlert('GpuJobRunningTooLong', 'bob~restarted')], 2 * MIN);
    await before.close();
    running = undefined;

    const after = await startRouter(clock, db);
    const [row] = await after.db.selectFrom('router_actions').select(['job', 'cause', 'status']).execute();
    expect(row).toEqual({ job: 'bob~restarted', cause: 'running-too-long', status: 'grace' });
    await waitGrace(after, clock, 10 * MIN);
    expect(stopsOf('bob~restarted')).toHaveLength(1);
    expect((await theirAudit('bob~restarted'))[0].detail).toMatchObject({ status: 'done', cause: 'running-too-long' });
  });
});
