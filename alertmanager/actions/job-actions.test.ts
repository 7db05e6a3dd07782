/**
 * Job actions end to end: the router in front of the real rule service (in-process, its own SQLite
 * database), which acts on the fake OpenPAI rest-server; mails land on a real SMTP server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from '../../rule-service/service.js';
import { idleGpus } from '../../test/rule-service-support.js';
import type { RunningRouter } from '../service.js';
import { RULE_SERVICE_TOKEN, useActionsWorld, WEBHOOK_TOKEN } from '../testing/actions-fixture.js';
import { API_TOKEN, request } from '../testing/harness.js';
import { webhook, type TestAlert } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const MIN = 60_000;

/** The jobs acted on below, idle for two hours as Prometheus sees them (the rule service checks before it acts). */
const IDLE_JOBS = ['alice~graced', 'alice~train', 'alice~big', 'bob~b1', 'bob~b2', 'bob~b3'];
const bed = useActionsWorld(
  [{ name: 'admin', admin: true }, { name: 'alice', email: 'alice@research.example' }, { name: 'bob' }],
  idleGpus(IDLE_JOBS),
  TUESDAY_10,
);
let ruleService: RunningRuleService;
let running: RunningRouter;

beforeAll(async () => {
  ruleService = await bed.startRuleService();
});
afterAll(async () => {
  await ruleService?.close();
});
afterEach(async () => {
  await running?.close();
});

async function startWithActions(actions: Record<string, unknown>): Promise<void> {
  running = await bed.startRouter(bed.clock, { ruleService: { url: ruleService.url }, actions: { grace: '10m', minGrace: '5m', ...actions } });
}

function jobAlert(job: string, action = 'kill', status: 'firing' | 'resolved' = 'firing'): TestAlert {
  const user = job.split('~')[0] as string;
  return {
    labels: { alertname: 'JobLowGpuUtilization', severity: '3', cluster: 'prod-a', job, user, vc: 'default', action },
    annotations: { summary: `${job} uses its GPUs below 5 %`, description: 'Low utilization for 2 hours.', runbook_url: 'https://runbooks.example/low-util' },
    startsAt: TUESDAY_10 - 5 * MIN,
    status,
    ...(status === 'resolved' ? { endsAt: bed.clock.now() } : {}),
  };
}

const post = (alerts: TestAlert[]) => request(`${running.url}/api/v1/alertmanager`, { body: webhook(alerts), token: WEBHOOK_TOKEN });
async function after(ms: number): Promise<void> {
  bed.clock.advance(ms);
  await running.router.runDueTimers();
  await drain();
}
/** Delivers until nothing is left (a rule-service answer queues the result mail). */
async function drain(): Promise<void> {
  for (let i = 0; i < 5 && (await running.router.deliverOutbox()) > 0; i++);
}
const audit = async (subject: string) =>
  ((await request(`${running.url}/api/v1/audit?subject=${encodeURIComponent(subject)}`, { token: API_TOKEN })).json.entries as any[])
    .map((e) => e.event)
    .reverse();
const stopsOf = (job: string) => bed.openpai.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/jobs/${job}/executionType`);

describe('job actions', () => {
  it('with action="notify", tells the owner and nothing else: no timer, no request', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'notebook', gpus: 2 });
    await startWithActions({ dryRun: false });
    await post([jobAlert('alice~notebook', 'notify')]);
    await drain();
    const notice = bed.smtp.mails.find((m) => m.subject.startsWith('Your job'));
    expect(notice).toMatchObject({ to: ['alice@research.example'], subject: 'Your job alice~notebook: alice~notebook uses its GPUs below 5 %' });
    expect(notice?.text).toContain('Nothing will be done to the job');
    await after(60 * MIN);
    expect(stopsOf('alice~notebook')).toEqual([]);
    expect(bed.openpai.job('alice~notebook')?.executionType).toBe('START');
    expect(await audit('alice~notebook')).toEqual(['action.notify']);
    expect((await request(`${running.url}/metrics`)).text).toContain('gpuwatch_router_job_actions_total{action="notify",result="done"} 1');
  });

  it("waits the alert's own action_grace, not the configured grace", async () => {
    bed.openpai.addJob({ user: 'alice', name: 'graced', gpus: 8 });
    await startWithActions({ dryRun: false });
    const alert = jobAlert('alice~graced');
    await post([{ ...alert, annotations: { ...alert.annotations, action_grace: '30m' } }]);
    await drain();
    expect(bed.smtp.mails.find((m) => m.subject.startsWith('Your job'))?.subject).toBe('Your job alice~graced will be stopped at Tue 2025-03-11 10:30 +01:00');
    await after(29 * MIN);
    expect(stopsOf('alice~graced')).toEqual([]);
    await after(MIN);
    expect(stopsOf('alice~graced')).toHaveLength(1);
  });

  it('warns the owner, waits the grace period, then kills through the rule service', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'train', gpus: 8 });
    await startWithActions({ dryRun: false });
    await post([jobAlert('alice~train')]);
    await drain();
    const warning = bed.smtp.mails.find((m) => m.subject.startsWith('Your job'));
    expect(warning).toMatchObject({ to: ['alice@research.example'], subject: 'Your job alice~train will be stopped at Tue 2025-03-11 10:10 +01:00' });
    expect(warning?.text).toContain('https://runbooks.example/low-util');

    await after(9 * MIN);
    expect(stopsOf('alice~train')).toEqual([]);
    await after(MIN);
    expect(stopsOf('alice~train')).toHaveLength(1);
    expect(bed.openpai.job('alice~train')?.executionType).toBe('STOP');
    const result = bed.smtp.mails.find((m) => m.subject.startsWith('Job alice~train'));
    expect(result).toMatchObject({ subject: 'Job alice~train: kill done', to: ['alice@research.example', 'ben@oncall.example'] });
    expect(await audit('alice~train')).toEqual(['action.warn', 'action.request', 'action.done']);
    // The rule service recorded the same action, under the router's idempotency key.
    const theirs = (await request(`${ruleService.url}/api/v1/audit?subject=alice~train`, { token: RULE_SERVICE_TOKEN })).json.entries;
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({
      event: 'action.kill',
      detail: { status: 'done', idempotencyKey: expect.stringMatching(/^gpuwatch-router-[0-9a-f]+-action-1$/) },
    });
    const metrics = (await request(`${running.url}/metrics`)).text;
    expect(metrics).toContain('gpuwatch_router_job_actions_total{action="warn",result="done"} 1');
    expect(metrics).toContain('gpuwatch_router_job_actions_total{action="kill",result="done"} 1');
  });

  it('cancels the action when the alert resolves during the grace period', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'quick', gpus: 1 });
    await startWithActions({ dryRun: false });
    await post([jobAlert('alice~quick')]);
    await after(4 * MIN);
    await post([jobAlert('alice~quick', 'kill', 'resolved')]);
    await after(20 * MIN);
    expect(stopsOf('alice~quick')).toEqual([]);
    expect(bed.openpai.job('alice~quick')?.executionType).toBe('START');
    expect(await audit('alice~quick')).toEqual(['action.warn', 'action.cancelled']);
    expect(bed.smtp.mails.find((m) => m.subject.startsWith('Job alice~quick'))?.subject).toBe('Job alice~quick: kill cancelled');
  });

  it('only records what it would do in dry run (the default), and refuses exempt jobs', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'dry', gpus: 1 });
    bed.openpai.addJob({ user: 'alice', name: 'protected', gpus: 1 });
    await startWithActions({ dryRun: undefined, exemptJobs: ['alice~protected'] });
    await post([jobAlert('alice~dry'), jobAlert('alice~protected')]);
    await drain();
    expect(bed.smtp.mails.find((m) => m.subject.startsWith('Your job alice~dry'))?.text).toContain('dry run');
    await after(10 * MIN);
    expect(stopsOf('alice~dry')).toEqual([]);
    expect(stopsOf('alice~protected')).toEqual([]);
    expect(await audit('alice~dry')).toEqual(['action.warn', 'action.dry_run']);
    expect(await audit('alice~protected')).toEqual(['action.warn', 'action.refused']);
  });

  it('stops at the hourly budget, and mails owners OpenPAI has no address for at the fallback domain', async () => {
    for (const name of ['b1', 'b2', 'b3']) bed.openpai.addJob({ user: 'bob', name, gpus: 1 });
    await startWithActions({ dryRun: false, hourlyBudget: 2 });
    await post([jobAlert('bob~b1'), jobAlert('bob~b2'), jobAlert('bob~b3')]);
    await drain();
    expect(bed.smtp.mails.filter((m) => m.subject.startsWith('Your job bob~')).map((m) => m.to)).toEqual([
      ['bob@users.example'],
      ['bob@users.example'],
      ['bob@users.example'],
    ]);
    await after(10 * MIN);
    const stopped = ['b1', 'b2', 'b3'].filter((n) => stopsOf(`bob~${n}`).length > 0);
    expect(stopped).toEqual(['b1', 'b2']);
    expect(await audit('bob~b3')).toEqual(['action.warn', 'action.refused']);
    const refused = (await request(`${running.url}/api/v1/audit?subject=bob~b3&event=action.refused`, { token: API_TOKEN })).json.entries[0];
    expect(refused.detail.message).toBe('the hourly budget of 2 actions is spent');
  });

  it('downgrades through the rule service, which resubmits the job one priority lower', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'big', gpus: 4, priority: 'prod' });
    await startWithActions({ dryRun: false });
    await post([jobAlert('alice~big', 'downgrade')]);
    await after(10 * MIN);
    expect(bed.openpai.job('alice~big')?.executionType).toBe('STOP');
    expect(bed.openpai.job('alice~big')?.tags).toContain('gpuwatch-downgraded');
    const result = bed.smtp.mails.find((m) => m.subject.startsWith('Job alice~big'));
    expect(result?.subject).toBe('Job alice~big: downgrade done');
    expect(result?.text).toMatch(/Resubmitted as: admin~big-test/);
  });
});
