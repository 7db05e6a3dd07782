/**
 * Alerts that try to make the router act on someone's job: without the webhook token, with a
 * forged owner, a shortened grace, a job OpenPAI does not know, recipients smuggled into labels, and
 * a request that is still queued when its alert resolves. The router in front of the real rule
 * service, which acts on the fake OpenPAI rest-server; mails land on a real SMTP server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningRuleService } from '../../rule-service/service.js';
import { idleGpus } from '../../test/rule-service-support.js';
import { freePort } from '../../test/ports.js';
import type { RunningRouter } from '../service.js';
import { RULE_SERVICE_TOKEN, useActionsWorld, WEBHOOK_TOKEN } from '../testing/actions-fixture.js';
import { request } from '../testing/harness.js';
import { webhook, type TestAlert } from '../testing/webhooks.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z');
const MIN = 60_000;

/** The jobs below, idle for two hours as Prometheus sees them (the rule service checks before it acts). */
const IDLE_JOBS = ['alice~train', 'alice~waiting', 'alice~ghost', 'bob~train', 'mallory~job'];
const USERS = [
  { name: 'admin', admin: true },
  { name: 'alice', email: 'alice@research.example' },
  { name: 'bob', email: 'bob@research.example' },
  { name: 'mallory', email: '"x" <outsider@evil.example>, mallory@research.example' },
];
const bed = useActionsWorld(USERS, idleGpus(IDLE_JOBS), TUESDAY_10);
let ruleService: RunningRuleService | undefined;
let running: RunningRouter;

const startRules = (listen = '127.0.0.1:0') => bed.startRuleService({ listen });

afterEach(async () => {
  await running?.close();
  await ruleService?.close();
  ruleService = undefined;
});

async function startRouter(ruleServiceUrl: string, actions: Record<string, unknown> = {}): Promise<void> {
  running = await bed.startRouter(bed.clock, { ruleService: { url: ruleServiceUrl, timeout: '1s' }, actions: { dryRun: false, ...actions } });
}

function killAlert(
  job: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; status?: 'firing' | 'resolved' } = {},
): TestAlert {
  return {
    labels: { alertname: 'JobLowGpuUtilization', severity: '3', cluster: 'prod-a', job, action: 'kill', ...extra.labels },
    annotations: { summary: `${job} uses its GPUs below 5 %`, ...extra.annotations },
    startsAt: TUESDAY_10 - 5 * MIN,
    status: extra.status ?? 'firing',
    ...(extra.status === 'resolved' ? { endsAt: bed.clock.now() } : {}),
  };
}
const post = (alerts: TestAlert[], token: string | null = WEBHOOK_TOKEN) =>
  request(`${running.url}/api/v1/alertmanager`, { body: webhook(alerts), token: token ?? undefined });
async function after(ms: number): Promise<void> {
  bed.clock.advance(ms);
  await running.router.runDueTimers();
  for (let i = 0; i < 5 && (await running.router.deliverOutbox()) > 0; i++);
}
const stopsOf = (job: string) => bed.openpai.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/jobs/${job}/executionType`);
const recipients = () => bed.smtp.mails.flatMap((m) => m.to);

describe('forged and hostile alerts', () => {
  it('a webhook without the token is refused and kills nothing', async () => {
    ruleService = await startRules();
    for (let i = 0; i < 12; i++) bed.openpai.addJob({ user: 'alice', name: `victim${i}`, gpus: 8 });
    await startRouter(ruleService.url);
    for (let i = 0; i < 12; i++) {
      const answer = await post([killAlert(`alice~victim${i}`, { labels: { user: 'nobody' }, annotations: { action_grace: '1ms' } })], null);
      expect(answer.status).toBe(401);
    }
    await after(60 * MIN);
    expect(bed.openpai.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(recipients()).toEqual([]);
  });

  it("warns the job's real owner, ignores the user label, and keeps the grace floor against action_grace", async () => {
    ruleService = await startRules();
    bed.openpai.addJob({ user: 'alice', name: 'train', gpus: 8 });
    await startRouter(ruleService.url, { minGrace: '15m', grace: '30m' });
    await post([killAlert('alice~train', { labels: { user: 'nobody' }, annotations: { action_grace: '1ms' } })]);
    await after(0);
    const warning = bed.smtp.mails.find((m) => m.subject.startsWith('Your job'));
    expect(warning?.to).toEqual(['alice@research.example']);
    expect(warning?.subject).toBe('Your job alice~train will be stopped at Tue 2025-03-11 10:15 +01:00');
    expect(recipients().some((r) => r.startsWith('nobody'))).toBe(false);
    await after(14 * MIN);
    expect(stopsOf('alice~train')).toEqual([]);
    await after(MIN);
    expect(stopsOf('alice~train')).toHaveLength(1);
  });

  it('takes no action on a job OpenPAI does not know', async () => {
    ruleService = await startRules();
    await startRouter(ruleService.url, { minGrace: '5m', grace: '5m' });
    await post([killAlert('alice~ghost')]);
    await after(5 * MIN);
    const ruleServiceSaw = (await request(`${ruleService.url}/api/v1/audit?subject=alice~ghost`, { token: RULE_SERVICE_TOKEN })).json.entries;
    expect(ruleServiceSaw).toEqual([]);
    const actions = await running.db.selectFrom('router_actions').select(['status', 'result']).execute();
    expect(actions).toEqual([{ status: 'refused', result: expect.stringContaining('OpenPAI does not know job alice~ghost') }]);
  });

  it('lets no label or OpenPAI field add mail recipients', async () => {
    ruleService = await startRules();
    bed.openpai.addJob({ user: 'bob', name: 'train', gpus: 1 });
    bed.openpai.addJob({ user: 'mallory', name: 'job', gpus: 1 });
    await startRouter(ruleService.url, { minGrace: '5m', grace: '5m' });
    await post([
      killAlert('attacker@evil.example,bob~train', { labels: { alertname: 'A' } }),
      killAlert('bob~train', { labels: { alertname: 'B', user: '"x" <outsider@evil.example>, bob' } }),
      killAlert('mallory~job', { labels: { alertname: 'C' } }),
    ]);
    await after(0);
    const owners = bed.smtp.mails.filter((m) => m.subject.startsWith('Your job')).map((m) => m.to);
    // bob from OpenPAI; mallory's OpenPAI address is not one plain address: the fallback domain.
    expect(owners.sort()).toEqual([['bob@research.example'], ['mallory@users.example']]);
    expect(recipients().filter((r) => r.includes('evil'))).toEqual([]);
  });

  it('drops a queued kill whose alert resolved while the rule service was down', async () => {
    bed.openpai.addJob({ user: 'alice', name: 'waiting', gpus: 8 });
    const port = await freePort();
    await startRouter(`http://127.0.0.1:${port}`, { minGrace: '5m', grace: '5m' });
    await post([killAlert('alice~waiting')]);
    await after(5 * MIN);
    const pending = await running.db.selectFrom('router_outbox').select(['status', 'last_error']).where('channel', '=', 'rule-service').execute();
    expect(pending).toEqual([{ status: 'pending', last_error: expect.stringContaining('rule service unreachable') }]);
    await post([killAlert('alice~waiting', { status: 'resolved' })]);
    ruleService = await startRules(`127.0.0.1:${port}`);
    await after(10 * MIN);
    expect(stopsOf('alice~waiting')).toEqual([]);
    const action = await running.db.selectFrom('router_actions').select(['status', 'result']).executeTakeFirst();
    expect(action).toEqual({ status: 'cancelled', result: expect.stringContaining('the alert resolved before the request could be delivered') });
  });
});
