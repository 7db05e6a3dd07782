/** POST /api/v1/actions end to end against the fake rest-server: kill, downgrade, idempotency, exemptions, audit. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import type { RunningRuleService } from './service.js';
import {
  API_TOKEN,
  gpuHistoryOpenMetrics,
  http,
  idleGpus,
  sample,
  startPrometheusWithHistory,
  startTestService,
  TEST_IDLE_CRITERION,
} from '../test/rule-service-support.js';

let fake: FakeOpenPai;
let service: RunningRuleService;
let adminToken: string;

let prometheus: { url: string; stop(): Promise<void> };

/** The jobs acted on below, idle for two hours as Prometheus sees them. */
const IDLE_JOBS = ['alice~idle', 'alice~ghost', 'bob~bert', 'bob~plain', 'bob~cheap', 'alice~stuck', 'alice~x'];

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'pai-admin', admin: true }, { name: 'alice' }, { name: 'bob' }, { name: 'vip' }] });
  adminToken = fake.tokenFor('pai-admin', { application: true });
  prometheus = await startPrometheusWithHistory(gpuHistoryOpenMetrics(idleGpus(IDLE_JOBS)));
  service = await startTestService({
    idleCheck: { url: prometheus.url, ...TEST_IDLE_CRITERION },
    openpai: { url: fake.url, token: adminToken, timeoutMs: 2_000 },
    exemptUsers: ['vip'],
    exemptJobs: ['alice~checkpointing'],
  });
}, 60_000);

afterAll(async () => {
  await service?.close();
  await prometheus?.stop();
  await fake?.close();
});

const act = (body: unknown, token: string | undefined = API_TOKEN) => http(`${service.url}/api/v1/actions`, { body, token });
const requestsTo = (job: string) => fake.requests.filter((r) => r.path.startsWith(`/api/v2/jobs/${job}`) || (r.method === 'POST' && r.path === '/api/v2/jobs'));

describe('kill', () => {
  it('stops the job with the admin token and answers done', async () => {
    fake.addJob({ user: 'alice', name: 'idle', gpus: 8, priority: 'prod' });
    const answer = await act({ job: 'alice~idle', action: 'kill', reason: 'idle for 2h', idempotencyKey: 'incident-1/kill' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: 'done', job: 'alice~idle', action: 'kill', replayed: false, steps: ['stopped'] });
    expect(fake.job('alice~idle')?.state).toBe('STOPPED');
    const [stop] = requestsTo('alice~idle');
    expect(stop).toMatchObject({ method: 'PUT', path: '/api/v2/jobs/alice~idle/executionType', body: '{"value":"STOP"}', user: 'pai-admin', status: 202 });
    expect(stop?.headers.authorization).toBe(`Bearer ${adminToken}`);
  });

  it('does it once per idempotency key, and answers the same again', async () => {
    const before = fake.requests.length;
    const again = await act({ job: 'alice~idle', action: 'kill', reason: 'idle for 2h', idempotencyKey: 'incident-1/kill' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ status: 'done', replayed: true });
    expect(fake.requests.length).toBe(before);
    const other = await act({ job: 'bob~x', action: 'kill', reason: '', idempotencyKey: 'incident-1/kill' });
    expect(other.status).toBe(409);
    expect(other.json.error).toMatch(/already used for kill of alice~idle/);
  });

  it('refuses exempt users and jobs without touching them', async () => {
    const before = fake.requests.length;
    const user = await act({ job: 'vip~anything', action: 'kill', reason: 'x', idempotencyKey: 'k-vip' });
    expect(user.status).toBe(403);
    expect(user.json).toMatchObject({ status: 'refused', message: 'vip~anything is on the exemption list' });
    const job = await act({ job: 'alice~checkpointing', action: 'downgrade', reason: 'x', idempotencyKey: 'k-ckpt' });
    expect(job.status).toBe(403);
    expect(fake.requests.length).toBe(before);
  });

  it('reports a missing job as 404 and keeps that answer for the key', async () => {
    const answer = await act({ job: 'alice~ghost', action: 'kill', reason: '', idempotencyKey: 'k-ghost' });
    expect(answer.status).toBe(404);
    expect(answer.json).toMatchObject({ status: 'failed', message: expect.stringMatching(/404 NoJobError/) });
    expect((await act({ job: 'alice~ghost', action: 'kill', reason: '', idempotencyKey: 'k-ghost' })).json.replayed).toBe(true);
  });
});

describe('downgrade', () => {
  it('tags, stops and resubmits the job one priority lower, and records both ids', async () => {
    fake.addJob({ user: 'bob', name: 'bert', gpus: 8, instances: 2, priority: 'prod', vc: 'nlp' });
    const answer = await act({ job: 'bob~bert', action: 'downgrade', reason: 'low utilization', idempotencyKey: 'incident-2/downgrade' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'done',
      job: 'bob~bert',
      newJob: 'pai-admin~bert-test',
      newPriority: 'test',
      steps: ['tagged gpuwatch-downgraded', 'stopped', 'resubmitted as bert-test at test'],
    });
    expect(requestsTo('bob~bert').map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/jobs/bob~bert/config',
      'PUT /api/v2/jobs/bob~bert/tag',
      'PUT /api/v2/jobs/bob~bert/executionType',
      'POST /api/v2/jobs',
    ]);
    expect(fake.job('bob~bert')).toMatchObject({ state: 'STOPPED', tags: ['gpuwatch-downgraded'] });
    const resubmitted = fake.job('pai-admin~bert-test');
    expect(resubmitted).toMatchObject({ jobPriority: 'test', totalGpuNumber: 8, virtualCluster: 'nlp' });
    const config = parse(resubmitted?.config ?? '');
    expect(config.name).toBe('bert-test');
    expect(config.taskRoles).toEqual(parse(fake.job('bob~bert')?.config ?? '').taskRoles);
  });

  it('lowers test (or no class) to oppo, and refuses an oppo job', async () => {
    fake.addJob({ user: 'bob', name: 'plain', gpus: 1, priority: null });
    const plain = await act({ job: 'bob~plain', action: 'downgrade', reason: '', idempotencyKey: 'k-plain' });
    expect(plain.json).toMatchObject({ status: 'done', newPriority: 'oppo', newJob: 'pai-admin~plain-oppo' });
    fake.addJob({ user: 'bob', name: 'cheap', gpus: 1, priority: 'oppo' });
    const cheap = await act({ job: 'bob~cheap', action: 'downgrade', reason: '', idempotencyKey: 'k-cheap' });
    expect(cheap.status).toBe(409);
    expect(cheap.json.message).toMatch(/already runs at oppo/);
    expect(fake.job('bob~cheap')?.state).toBe('RUNNING');
  });

  it('audits every action with its reason', async () => {
    const audit = await http(`${service.url}/api/v1/audit?subject=bob~bert`, { token: API_TOKEN });
    expect(audit.json.entries).toHaveLength(1);
    expect(audit.json.entries[0]).toMatchObject({
      actor: 'api',
      event: 'action.downgrade',
      subject: 'bob~bert',
      detail: { status: 'done', newJob: 'pai-admin~bert-test', reason: 'low utilization' },
    });
    const all = await http(`${service.url}/api/v1/audit?limit=50`, { token: API_TOKEN });
    const events = all.json.entries.map((e: { event: string; subject: string }) => `${e.event} ${e.subject}`);
    expect(events).toEqual(
      expect.arrayContaining(['action.kill alice~idle', 'action.kill vip~anything', 'action.downgrade alice~checkpointing', 'action.kill alice~ghost']),
    );
  });
});

describe('the actions endpoint', () => {
  it('needs the bearer token and a well-formed request', async () => {
    expect((await act({ job: 'a~b', action: 'kill', reason: '', idempotencyKey: 'k' }, '')).status).toBe(401);
    const bad = await act({ job: 'not-a-job-id', action: 'explode', idempotencyKey: '' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/job: expected an OpenPAI job id.*action: Invalid enum value.*idempotencyKey/);
  });

  it('counts actions by result', async () => {
    const m = (await http(`${service.url}/metrics`)).text;
    expect(sample(m, 'gpuwatch_rule_service_actions_total{action="kill",result="done"}')).toBe(1);
    expect(sample(m, 'gpuwatch_rule_service_actions_total{action="kill",result="replayed"}')).toBe(2);
    expect(sample(m, 'gpuwatch_rule_service_actions_total{action="kill",result="refused"}')).toBe(1);
    expect(sample(m, 'gpuwatch_rule_service_actions_total{action="downgrade",result="done"}')).toBe(2);
  });

  it('answers 409 while the same key is in progress, and takes over a run abandoned long ago', async () => {
    fake.addJob({ user: 'alice', name: 'stuck', gpus: 1, priority: 'prod' });
    const row = { job: 'alice~stuck', action: 'kill', reason: '', status: 'pending', http_status: 409, outcome: '{}', created_at: new Date().toISOString() };
    await service.db
      .insertInto('rule_actions')
      .values({ ...row, idempotency_key: 'k-busy', updated_at: new Date().toISOString() })
      .execute();
    const busy = await act({ job: 'alice~stuck', action: 'kill', reason: '', idempotencyKey: 'k-busy' });
    expect(busy.status).toBe(409);
    expect(busy.json).toMatchObject({ status: 'pending', replayed: true });
    expect(fake.job('alice~stuck')?.state).toBe('RUNNING');
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await service.db
      .insertInto('rule_actions')
      .values({ ...row, idempotency_key: 'k-abandoned', updated_at: longAgo })
      .execute();
    const taken = await act({ job: 'alice~stuck', action: 'kill', reason: '', idempotencyKey: 'k-abandoned' });
    expect(taken.json).toMatchObject({ status: 'done', replayed: false });
    expect(fake.job('alice~stuck')?.state).toBe('STOPPED');
  });

  it('frees the key when rest-server is unreachable, so a retry runs again', async () => {
    const gone = await startFakeOpenPai({ users: [] });
    await gone.close();
    const local = await startTestService({
      openpai: { url: gone.url, token: adminToken, timeoutMs: 500 },
      idleCheck: { url: prometheus.url, ...TEST_IDLE_CRITERION },
    });
    try {
      const first = await http(`${local.url}/api/v1/actions`, {
        body: { job: 'alice~x', action: 'kill', reason: '', idempotencyKey: 'k-retry' },
        token: API_TOKEN,
      });
      expect(first.status).toBe(502);
      expect(first.json).toMatchObject({ status: 'failed', replayed: false, message: expect.stringMatching(/unreachable/) });
      const second = await http(`${local.url}/api/v1/actions`, {
        body: { job: 'alice~x', action: 'kill', reason: '', idempotencyKey: 'k-retry' },
        token: API_TOKEN,
      });
      expect(second.json.replayed).toBe(false);
      const rows = await local.db.selectFrom('rule_actions').selectAll().execute();
      expect(rows).toEqual([]);
    } finally {
      await local.close();
    }
  });
});
