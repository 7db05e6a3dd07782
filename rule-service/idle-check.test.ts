/**
 * Kill and downgrade only for jobs Prometheus confirms idle, against Debian's Prometheus holding
 * known history (backfilled with promtool): idle jobs are acted on; busy ones, ones with too little
 * or no data, and any job while Prometheus is down are refused, with the reason in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import { freePort } from '../test/ports.js';
import {
  API_TOKEN,
  gpuHistoryOpenMetrics,
  http,
  sample,
  startPrometheusWithHistory,
  startTestService,
  TEST_IDLE_CRITERION,
} from '../test/rule-service-support.js';
import { idleQueries, judgeIdle } from './idle-check.js';
import type { RunningRuleService } from './service.js';

let fake: FakeOpenPai;
let prometheus: { url: string; stop(): Promise<void> };
let service: RunningRuleService;

beforeAll(async () => {
  fake = await startFakeOpenPai({
    users: [{ name: 'pai-admin', admin: true }, { name: 'alice' }, { name: 'bob' }, { name: 'carol' }, { name: 'dave' }, { name: 'erin' }, { name: 'frank' }],
  });
  const jobs = [
    ['alice', 'idle-train'],
    ['bob', 'busy-train'],
    ['carol', 'just-started'],
    ['dave', 'unseen'],
    ['alice', 'idle-two'],
    ['erin', 'mig-idle'],
    ['frank', 'mig-busy'],
  ];
  for (const [user, name] of jobs) fake.addJob({ user: user as string, name: name as string, gpus: 2, priority: 'prod' });
  prometheus = await startPrometheusWithHistory(
    gpuHistoryOpenMetrics([
      { node: 'w0', uuid: 'GPU-a0', job: 'alice~idle-train', utilization: 0.02, sinceSeconds: 7_200 },
      { node: 'w0', uuid: 'GPU-a1', job: 'alice~idle-train', utilization: 0.06, sinceSeconds: 7_200 },
      { node: 'w1', uuid: 'GPU-b0', job: 'bob~busy-train', utilization: 0.9, sinceSeconds: 7_200 },
      { node: 'w1', uuid: 'GPU-b1', job: 'bob~busy-train', utilization: 0.01, sinceSeconds: 7_200 },
      { node: 'w2', uuid: 'GPU-c0', job: 'carol~just-started', utilization: 0.0, sinceSeconds: 600 },
      { node: 'w2', uuid: 'GPU-c1', job: 'alice~idle-two', utilization: 0.0, sinceSeconds: 7_200 },
      // One GPU in MIG mode, shared: an idle job on GPU instance 1, a busy one on instance 2.
      { node: 'w3', uuid: 'GPU-m0', job: 'erin~mig-idle', utilization: 0.03, sinceSeconds: 7_200, gpuInstanceId: 1 },
      { node: 'w3', uuid: 'GPU-m0', job: 'frank~mig-busy', utilization: 0.8, sinceSeconds: 7_200, gpuInstanceId: 2 },
    ]),
  );
  service = await startTestService({
    openpai: { url: fake.url, token: fake.tokenFor('pai-admin', { application: true }), timeoutMs: 2_000 },
    idleCheck: { url: prometheus.url, ...TEST_IDLE_CRITERION },
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await prometheus?.stop();
  await fake?.close();
});

const act = (job: string, action: 'kill' | 'downgrade', key: string, url = service.url) =>
  http(`${url}/api/v1/actions`, { body: { job, action, reason: 'low utilization', idempotencyKey: key }, token: API_TOKEN });
const auditOf = async (job: string) => (await http(`${service.url}/api/v1/audit?subject=${job}`, { token: API_TOKEN })).json.entries;

describe('the idleness check before an action', () => {
  it('kills a job whose GPUs averaged 4 % over the last hour', async () => {
    const answer = await act('alice~idle-train', 'kill', 'idle-1');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'done',
      check: expect.stringMatching(/alice~idle-train confirmed idle: GPUs busy 4% on average over the last 3600s/),
    });
    expect(fake.job('alice~idle-train')?.state).toBe('STOPPED');
  });

  it('refuses a busy job (one GPU at 90 % lifts the average to 45 %), leaving it running, and audits why', async () => {
    const answer = await act('bob~busy-train', 'downgrade', 'busy-1');
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ status: 'refused', message: expect.stringMatching(/bob~busy-train is not idle: its GPUs were busy 45.5% on average/) });
    expect(fake.job('bob~busy-train')?.state).toBe('RUNNING');
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v2/jobs/bob~busy-train'))).toEqual([]);
    const [entry] = await auditOf('bob~busy-train');
    expect(entry).toMatchObject({ event: 'action.downgrade', detail: { status: 'refused', message: expect.stringMatching(/not idle/) } });
  });

  it('judges a job on a MIG instance by that instance: the idle one is killed, the busy one beside it refused', async () => {
    const idle = await act('erin~mig-idle', 'kill', 'mig-idle-1');
    expect(idle.status).toBe(200);
    expect(idle.json).toMatchObject({ status: 'done', check: expect.stringMatching(/erin~mig-idle confirmed idle: GPUs busy 3% on average/) });
    expect(fake.job('erin~mig-idle')?.state).toBe('STOPPED');
    const busy = await act('frank~mig-busy', 'kill', 'mig-busy-1');
    expect(busy.status).toBe(403);
    expect(busy.json.message).toMatch(/frank~mig-busy is not idle: its GPUs were busy 80% on average/);
    expect(fake.job('frank~mig-busy')?.state).toBe('RUNNING');
  });

  it('refuses a job with too little history, and one Prometheus has never seen', async () => {
    const young = await act('carol~just-started', 'kill', 'young-1');
    expect(young.status).toBe(403);
    expect(young.json.message).toMatch(/over only \d+ of 60 points of the last 3600s, too little to confirm it idle/);
    const unseen = await act('dave~unseen', 'kill', 'unseen-1');
    expect(unseen.status).toBe(403);
    expect(unseen.json.message).toMatch(/Prometheus has no GPU utilization for dave~unseen/);
    expect(fake.job('carol~just-started')?.state).toBe('RUNNING');
    expect(fake.job('dave~unseen')?.state).toBe('RUNNING');
  });

  it('refuses everything while Prometheus is unreachable, and without a Prometheus configured', async () => {
    const down = await startTestService({
      openpai: { url: fake.url, token: fake.tokenFor('pai-admin', { application: true }), timeoutMs: 2_000 },
      idleCheck: { ...TEST_IDLE_CRITERION, url: `http://127.0.0.1:${await freePort()}` },
    });
    const none = await startTestService({ openpai: { url: fake.url, token: fake.tokenFor('pai-admin', { application: true }), timeoutMs: 2_000 } });
    try {
      const unreachable = await act('alice~idle-two', 'kill', 'down-1', down.url);
      expect(unreachable.status).toBe(403);
      expect(unreachable.json).toMatchObject({
        status: 'refused',
        message: expect.stringMatching(/cannot ask Prometheus whether alice~idle-two is idle \(.*unreachable: ECONNREFUSED\)/),
      });
      const unconfigured = await act('alice~idle-two', 'kill', 'none-1', none.url);
      expect(unconfigured.json).toMatchObject({ status: 'refused', message: expect.stringMatching(/no Prometheus configured/) });
      expect(fake.job('alice~idle-two')?.state).toBe('RUNNING');
      expect(sample((await http(`${down.url}/metrics`)).text, 'gpuwatch_rule_service_actions_total{action="kill",result="refused"}')).toBe(1);
    } finally {
      await down.close();
      await none.close();
    }
  });
});

describe('the idleness verdict (pure)', () => {
  const criterion = { windowSeconds: 600, threshold: 0.1 };

  it('asks for the job by its exact id, escaped', () => {
    expect(idleQueries('a~"b"', criterion).average).toContain('gpuwatch_job_gpu_allocated{job="a~\\"b\\""}');
    expect(idleQueries('a~b', criterion).average).toMatch(/\[600s:10s\]\)$/);
    expect(idleQueries('a~b', criterion).average).toContain(
      'on (node, uuid, gpu_instance_id) group_right () max by (node, uuid, gpu_instance_id, job) (gpuwatch_job_gpu_allocated{job="a~b",gpu_instance_id!=""})',
    );
  });

  it('is idle only strictly below the threshold', () => {
    expect(judgeIdle('a~b', criterion, 0.0999, 60).idle).toBe(true);
    expect(judgeIdle('a~b', criterion, 0.1, 60).idle).toBe(false);
    expect(judgeIdle('a~b', criterion, 0.01, 29).idle).toBe(false);
    expect(judgeIdle('a~b', criterion, undefined, undefined).idle).toBe(false);
  });
});
