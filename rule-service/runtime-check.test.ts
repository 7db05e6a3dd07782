/**
 * Kill and downgrade for running too long, against Debian's Prometheus holding known start times
 * (backfilled with promtool): a busy job older than its policy threshold is stopped when the cause
 * is running-too-long and refused when it is low-utilization; a young job, one under a longer
 * threshold, an exempt one, one Prometheus has never seen and any job while Prometheus is down are
 * refused, with the reason in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policiesSchema } from '../src/config/policies.js';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import { freePort } from '../test/ports.js';
import { API_TOKEN, gpuHistoryOpenMetrics, http, startPrometheusWithHistory, startTestService, TEST_IDLE_CRITERION } from '../test/rule-service-support.js';
import { ruleServiceConfigSchema } from '../src/config/rule-service.js';
import { resolveRuleServiceConfig } from './config.js';
import { judgeRuntime, runtimePolicyOf, thresholdFor } from './runtime-check.js';
import type { RunningRuleService } from './service.js';

const DAY = 86_400;
/** The example's policy: 7 days, oppo jobs 2 days; carol's jobs exempt. */
const POLICY = runtimePolicyOf(
  policiesSchema.parse({ jobRunningTooLong: { overrides: [{ priority: 'oppo', threshold: '2d' }], exempt: { users: ['carol'] } } }).jobRunningTooLong,
);

let fake: FakeOpenPai;
let prometheus: { url: string; stop(): Promise<void> };
let service: RunningRuleService;

const busy = (node: string, job: string, priority: string, startedSecondsAgo: number) => ({
  node,
  uuid: `GPU-${node}`,
  job,
  utilization: 0.9,
  sinceSeconds: 7_200,
  priority,
  startedSecondsAgo,
});

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'pai-admin', admin: true }, { name: 'alice' }, { name: 'bob' }, { name: 'carol' }, { name: 'dave' }] });
  for (const job of ['bob~long-busy', 'bob~young', 'alice~prod-3d', 'carol~old', 'dave~unseen', 'alice~down']) {
    const [user, name] = job.split('~') as [string, string];
    fake.addJob({ user, name, gpus: 1, priority: 'oppo' });
  }
  prometheus = await startPrometheusWithHistory(
    gpuHistoryOpenMetrics([
      busy('w0', 'bob~long-busy', 'oppo', 3 * DAY),
      busy('w1', 'bob~young', 'oppo', DAY),
      busy('w2', 'alice~prod-3d', 'prod', 3 * DAY),
      busy('w3', 'carol~old', 'oppo', 9 * DAY),
    ]),
  );
  const target = { url: prometheus.url, timeoutMs: 3_000 };
  service = await startTestService({
    openpai: { url: fake.url, token: fake.tokenFor('pai-admin', { application: true }), timeoutMs: 2_000 },
    idleCheck: { ...target, ...TEST_IDLE_CRITERION },
    runtimeCheck: { ...target, policy: POLICY },
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await prometheus?.stop();
  await fake?.close();
});

const act = (job: string, key: string, cause?: string, url = service.url) =>
  http(`${url}/api/v1/actions`, { body: { job, action: 'kill', reason: 'policy', idempotencyKey: key, ...(cause ? { cause } : {}) }, token: API_TOKEN });
const auditOf = async (job: string) => (await http(`${service.url}/api/v1/audit?subject=${job}`, { token: API_TOKEN })).json.entries;

describe('the running-too-long check before an action', () => {
  it('refuses a busy oppo job that started 3 days ago when the cause is low utilization (also when no cause is named)', async () => {
    for (const [key, cause] of [
      ['lu-1', 'low-utilization'],
      ['lu-2', undefined],
    ] as const) {
      const answer = await act('bob~long-busy', key, cause);
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ status: 'refused', cause: 'low-utilization', message: expect.stringMatching(/bob~long-busy is not idle/) });
    }
    expect(fake.job('bob~long-busy')?.state).toBe('RUNNING');
  });

  it('stops the same busy job when the cause is running too long: 3 days is past the 2-day oppo limit', async () => {
    const answer = await act('bob~long-busy', 'rtl-1', 'running-too-long');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'done',
      cause: 'running-too-long',
      check: expect.stringMatching(
        /bob~long-busy confirmed running too long: started 3d\d*[ms0-9]* ago, at least the 2d limit \(override for priority "oppo"\)/,
      ),
    });
    expect(fake.job('bob~long-busy')?.state).toBe('STOPPED');
    const [entry] = await auditOf('bob~long-busy');
    expect(entry).toMatchObject({ event: 'action.kill', detail: { status: 'done', cause: 'running-too-long' } });
  });

  it('refuses a job younger than its threshold, and a 3-day-old prod job (the 7-day base limit applies)', async () => {
    const young = await act('bob~young', 'rtl-young', 'running-too-long');
    expect(young.status).toBe(403);
    expect(young.json.message).toMatch(/bob~young has run 1d[0-9ms]*, less than the 2d policies.jobRunningTooLong allows \(override for priority "oppo"\)/);
    const prod = await act('alice~prod-3d', 'rtl-prod', 'running-too-long');
    expect(prod.json).toMatchObject({
      status: 'refused',
      message: expect.stringMatching(/alice~prod-3d has run 3d[0-9ms]*, less than the 1w policies.jobRunningTooLong allows$/),
    });
    expect(fake.job('bob~young')?.state).toBe('RUNNING');
    expect(fake.job('alice~prod-3d')?.state).toBe('RUNNING');
    const [entry] = await auditOf('bob~young');
    expect(entry).toMatchObject({
      event: 'action.kill',
      detail: { status: 'refused', cause: 'running-too-long', message: expect.stringMatching(/less than the 2d/) },
    });
  });

  it('refuses an exempt job and one Prometheus has no start time for', async () => {
    expect((await act('carol~old', 'rtl-exempt', 'running-too-long')).json.message).toMatch(/carol~old is exempt from policies.jobRunningTooLong/);
    expect((await act('dave~unseen', 'rtl-unseen', 'running-too-long')).json.message).toMatch(
      /Prometheus has no start time \(gpuwatch_job_start_time_seconds\) for dave~unseen/,
    );
    expect(fake.job('carol~old')?.state).toBe('RUNNING');
    expect(fake.job('dave~unseen')?.state).toBe('RUNNING');
  });

  it('refuses while Prometheus is unreachable and without a Prometheus configured, and rejects an unknown cause', async () => {
    const openpai = { url: fake.url, token: fake.tokenFor('pai-admin', { application: true }), timeoutMs: 2_000 };
    const down = await startTestService({ openpai, runtimeCheck: { url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2_000, policy: POLICY } });
    const none = await startTestService({ openpai });
    try {
      const unreachable = await act('alice~down', 'rtl-down', 'running-too-long', down.url);
      expect(unreachable.json).toMatchObject({
        status: 'refused',
        message: expect.stringMatching(/cannot ask Prometheus how long alice~down has run \(.*unreachable: ECONNREFUSED\)/),
      });
      const unconfigured = await act('alice~down', 'rtl-none', 'running-too-long', none.url);
      expect(unconfigured.json).toMatchObject({
        status: 'refused',
        message: expect.stringMatching(/no Prometheus configured .* to confirm how long the job has run/),
      });
      const bad = await act('alice~down', 'rtl-bad', 'too-expensive');
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/cause: Invalid enum value. Expected 'low-utilization' \| 'running-too-long'/);
      expect(fake.job('alice~down')?.state).toBe('RUNNING');
    } finally {
      await down.close();
      await none.close();
    }
  });
});

describe('the running-too-long verdict (pure)', () => {
  it('takes the first override that matches the whole label value, else the base threshold', () => {
    const policy = runtimePolicyOf(
      policiesSchema.parse({
        jobRunningTooLong: { threshold: '7d', overrides: [{ vc: 'nlp.*', threshold: '1d' }, { priority: 'oppo', threshold: '2d' }, { cluster: 'lab' }] },
      }).jobRunningTooLong,
    );
    expect(thresholdFor(policy, { vc: 'nlp-large', priority: 'oppo' })).toEqual({ seconds: DAY, scope: ' (override for vc "nlp.*")' });
    expect(thresholdFor(policy, { vc: 'xnlp', priority: 'oppo' })?.seconds).toBe(2 * DAY);
    expect(thresholdFor(policy, { vc: 'cv', priority: 'oppo-x', cluster: 'lab' })?.seconds).toBe(7 * DAY);
    expect(thresholdFor(policy, { vc: 'cv', priority: 'prod' })).toEqual({ seconds: 7 * DAY, scope: '' });
  });

  it('is too long when any of its series has run its own threshold, never when disabled', () => {
    const series = [
      { labels: { node: 'a', priority: 'prod' }, value: 3 * DAY },
      { labels: { node: 'b', priority: 'oppo' }, value: 2 * DAY },
    ];
    expect(judgeRuntime('a~b', POLICY, series).tooLong).toBe(true);
    expect(judgeRuntime('a~b', POLICY, [{ labels: { priority: 'oppo' }, value: 2 * DAY - 1 }]).tooLong).toBe(false);
    expect(judgeRuntime('a~b', POLICY, []).tooLong).toBe(false);
    expect(judgeRuntime('a~b', { ...POLICY, enabled: false }, series)).toMatchObject({ tooLong: false, message: expect.stringMatching(/disabled/) });
  });

  it("takes its thresholds from the same file's policies.jobRunningTooLong, and needs ruleService.prometheus", async () => {
    const policies = policiesSchema.parse({
      jobRunningTooLong: { threshold: '5d', overrides: [{ vc: 'nlp', threshold: '12h' }], exempt: { jobs: ['.*~keep'] } },
    });
    const options = await resolveRuleServiceConfig(
      ruleServiceConfigSchema.parse({ prometheus: { url: 'http://prometheus:9090', timeout: '2s' } }),
      undefined,
      policies,
    );
    expect(options.runtimeCheck).toEqual({
      url: 'http://prometheus:9090',
      timeoutMs: 2_000,
      policy: {
        enabled: true,
        thresholdSeconds: 5 * DAY,
        overrides: [{ vc: 'nlp', thresholdSeconds: DAY / 2 }],
        exempt: { users: [], vcs: [], jobs: ['.*~keep'] },
      },
    });
    expect((await resolveRuleServiceConfig(ruleServiceConfigSchema.parse({}), undefined, policies)).runtimeCheck).toBeUndefined();
  });
});
