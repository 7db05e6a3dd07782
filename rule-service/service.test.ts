import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, loadSeed, sample, startTestService } from '../test/rule-service-support.js';

const ORDINARY = 'ordinary users may only submit oppo jobs';
const OVER_20 = 'more than 20 GPUs will fail';

let fake: FakeOpenPai;
let service: RunningRuleService;

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }, { name: 'alice' }, { name: 'fa_bob' }] });
  fake.addJob({ user: 'alice', name: 'running-oppo', gpus: 12, priority: 'oppo', state: 'RUNNING' });
  fake.addJob({ user: 'alice', name: 'waiting-oppo', gpus: 4, priority: 'oppo', state: 'WAITING' });
  fake.addJob({ user: 'alice', name: 'done', gpus: 64, priority: 'oppo', state: 'SUCCEEDED' });
  fake.addJob({ user: 'fa_bob', name: 'prod-one', gpus: 1, priority: 'prod' });
  service = await startTestService({ openpai: { url: fake.url, token: fake.tokenFor('admin', { application: true }), timeoutMs: 2_000 } });
  await loadSeed(service);
});

afterAll(async () => {
  await service?.close();
  await fake?.close();
});

const admit = (body: unknown, init: { headers?: Record<string, string>; query?: string; token?: string } = {}) =>
  http(`${service.url}/api/v1/admission${init.query ?? ''}`, { body, headers: init.headers, token: init.token });

describe('POST /api/v1/admission', () => {
  it('decides a summary with the holdings given in the request', async () => {
    const answer = await admit({ user: 'alice', vc: 'default', priority: 'prod', gpus: 2, held: { oppo: 19 } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      result: 'fail',
      priority: 'oppo',
      reasons: [ORDINARY, OVER_20],
      matched: [4, 3],
      holdings: { source: 'request', oppo: 19 },
      store: 'ok',
      notes: [],
    });
  });

  it("reads the user's running and waiting jobs from rest-server when no holdings are given", async () => {
    const before = fake.requests.length;
    const ok = await admit({ user: 'alice', priority: 'oppo', gpus: 4 });
    expect(ok.json).toMatchObject({ result: 'retain', priority: 'oppo', matched: [2], holdings: { source: 'rest-server', oppo: 16, prod: 0 } });
    const over = await admit({ user: 'alice', priority: 'oppo', gpus: 5 });
    expect(over.json).toMatchObject({ result: 'fail', reasons: [OVER_20], matched: [3] });
    const asked = fake.requests.slice(before).filter((r) => r.method === 'GET' && r.path === '/api/v2/jobs');
    expect(asked).toHaveLength(2);
    expect(asked[0]?.query).toMatchObject({ username: 'alice', state: 'RUNNING,WAITING,STOPPING' });
    expect(asked[0]?.user).toBe('admin');
  });

  it('counts fa* high-priority holdings across jobs', async () => {
    expect((await admit({ user: 'fa_bob', priority: 'prod', gpus: 1 })).json).toMatchObject({ result: 'retain', priority: 'prod', matched: [5] });
    expect((await admit({ user: 'fa_bob', priority: 'test', gpus: 2 })).json).toMatchObject({ result: 'oppo', priority: 'oppo', matched: [6, 2] });
  });

  it('takes a job protocol in YAML with the user from ?user=', async () => {
    const job =
      'protocolVersion: 2\nname: bert\ntype: job\ndefaults:\n  virtualCluster: nlp\ntaskRoles:\n  worker:\n    instances: 2\n    resourcePerInstance: { cpu: 8, memoryMB: 16384, gpu: 2 }\n    commands: [python train.py]\nextras:\n  hivedScheduler:\n    jobPriorityClass: prod\n';
    const answer = await admit(job, { headers: { 'content-type': 'text/yaml' }, query: '?user=alice' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      job: { user: 'alice', vc: 'nlp', priority: 'prod', gpus: 4 },
      result: 'oppo',
      reasons: [ORDINARY],
      holdings: { source: 'rest-server', oppo: 16 },
    });
  });

  it('takes a JSON job protocol with the user from the bearer token, and treats an unset class as test', async () => {
    const job = { name: 'small', taskRoles: { main: { resourcePerInstance: { gpu: 1 } } } };
    const answer = await admit(job, { token: fake.tokenFor('fa_bob') });
    expect(answer.json).toMatchObject({ job: { user: 'fa_bob', vc: 'default', priority: 'test', gpus: 1 }, result: 'retain', priority: 'test' });
  });

  it('takes {user, job} with the job as YAML text', async () => {
    const answer = await admit({ user: 'user_proh', job: 'name: x\ntaskRoles:\n  a:\n    resourcePerInstance:\n      gpu: 0\n', held: {} });
    expect(answer.json).toMatchObject({ result: 'fail', matched: [7], holdings: { source: 'request' } });
  });

  it('answers 400 with what was wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ user: 'alice', priority: 'urgent', gpus: 1 }, /priority: Invalid enum value/],
      [{ user: 'alice', priority: 'prod', gpus: -1 }, /gpus: Number must be greater than or equal to 0/],
      [{ user: 'alice', priority: 'prod', gpus: 1, colour: 'red' }, /Unrecognized key.*colour/],
      [{ user: 'a'.repeat(129), priority: 'prod', gpus: 1 }, /user: String must contain at most 128/],
      [{ name: 'x', taskRoles: {} }, /whose job is it/],
      [{ user: 'alice', job: { name: 'x', taskRoles: {} } }, /taskRoles: a job needs at least one task role/],
      [{ user: 'alice', job: { name: 'x', taskRoles: { a: {} }, extras: { hivedScheduler: { jobPriorityClass: 'urgent' } } } }, /jobPriorityClass/],
    ];
    for (const [body, message] of cases) {
      const answer = await admit(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error).toMatch(message);
    }
    const yaml = await admit('name: [unclosed', { headers: { 'content-type': 'text/yaml' }, query: '?user=alice' });
    expect(yaml.status).toBe(400);
    expect(yaml.json.error).toMatch(/not valid YAML/);
    const json = await admit('{"user":', { headers: { 'content-type': 'application/json' } });
    expect(json.status).toBe(400);
  });
});

describe('when rest-server cannot be reached for holdings', () => {
  it('decides with the requested GPUs only and says so (default)', async () => {
    const closed = await startFakeOpenPai({ users: [] });
    await closed.close();
    const local = await startTestService({ openpai: { url: closed.url, timeoutMs: 500 } });
    try {
      await loadSeed(local);
      const answer = await http(`${local.url}/api/v1/admission`, { body: { user: 'alice', priority: 'oppo', gpus: 20 } });
      expect(answer.json).toMatchObject({ result: 'retain', holdings: { source: 'unknown', oppo: 0 } });
      expect(answer.json.notes[0]).toMatch(/holdings unknown \(rest-server .* unreachable: ECONNREFUSED\): decided with the requested GPUs only/);
      const metrics = (await http(`${local.url}/metrics`)).text;
      expect(sample(metrics, 'gpuwatch_rule_service_holdings_errors_total')).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('rejects when configured to', async () => {
    const local = await startTestService({ holdingsWhenUnreachable: 'reject' });
    try {
      await loadSeed(local);
      const answer = await http(`${local.url}/api/v1/admission`, { body: { user: 'alice', priority: 'oppo', gpus: 1 } });
      expect(answer.json).toMatchObject({ result: 'fail', priority: 'oppo', matched: [] });
      expect(answer.json.reasons[0]).toMatch(/cannot read your current jobs from OpenPAI \(no rest-server configured\)/);
      // Holdings given in the request need no rest-server.
      expect((await http(`${local.url}/api/v1/admission`, { body: { user: 'alice', priority: 'oppo', gpus: 1, held: {} } })).json.result).toBe('retain');
    } finally {
      await local.close();
    }
  });
});

describe('/api/v1/rules', () => {
  const rules = (path = '', init: Parameters<typeof http>[1] = {}) => http(`${service.url}/api/v1/rules${path}`, init);

  it('lists the rules in matching order, also as YAML and CSV', async () => {
    const list = await rules();
    expect(list.json.rules.map((r: { id: number }) => r.id)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(list.json.rules[8]).toEqual({
      id: 4,
      user: '.*',
      vc: '',
      priority: 'prod/test/default',
      requested: '',
      occupied: '',
      occupiedHigh: '',
      result: 'oppo',
      description: ORDINARY,
    });
    const yaml = await rules('?format=yaml');
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    expect(yaml.text.startsWith('- user: ^fa_test$\n  result: retain\n- user: ^fa_test2$\n')).toBe(true);
    const csv = await rules('?format=csv');
    expect(csv.text.split('\r\n')[0]).toBe('user,vc,priority,requested,occupied,occupiedHigh,result,description');
    expect((await rules('/4')).json.rule.description).toBe(ORDINARY);
    expect((await rules('/999')).status).toBe(404);
  });

  it('refuses changes without the bearer token', async () => {
    expect((await rules('', { body: { user: '.*', result: 'fail' } })).status).toBe(401);
    expect((await rules('', { body: { user: '.*', result: 'fail' }, token: 'wrong' })).status).toBe(401);
    expect((await rules('/1', { method: 'DELETE' })).status).toBe(401);
    const list = await rules();
    expect(list.json.rules).toHaveLength(12);
  });

  it('refuses a lookaround and other invalid rules at save time with every problem', async () => {
    const answer = await rules('', { body: { user: '^foo-(?=(a+)+$)', occupied: 'lots', priority: 'oppo', result: 'prod' }, token: API_TOKEN });
    expect(answer.status).toBe(400);
    expect(answer.json.problems).toEqual([
      { field: 'user', message: expect.stringMatching(/"\^foo-\(\?=\(a\+\)\+\$\)": needs a backtracking engine/) },
      { field: 'occupied', message: expect.stringMatching(/not a comparison/) },
      { field: 'result', message: expect.stringMatching(/would raise the priority of oppo jobs/) },
    ]);
    expect((await rules()).json.rules).toHaveLength(12);
  });

  it('creates a rule on top (matched first), updates it, deletes it, and audits each change', async () => {
    const created = await rules('', {
      body: { user: '^alice$', priority: 'oppo', requested: '>= 8', result: 'fail', description: 'alice: at most 7 GPUs per oppo job' },
      token: API_TOKEN,
    });
    expect(created.status).toBe(201);
    const id = created.json.rule.id as number;
    expect(id).toBeGreaterThan(12);
    expect((await admit({ user: 'alice', priority: 'oppo', gpus: 8, held: {} })).json).toMatchObject({
      result: 'fail',
      reasons: ['alice: at most 7 GPUs per oppo job'],
      matched: [id],
    });

    const updated = await rules(`/${id}`, { method: 'PUT', body: { user: '^alice$', priority: 'oppo', requested: '>= 10', result: 'fail' }, token: API_TOKEN });
    expect(updated.json.rule).toMatchObject({ id, requested: '>= 10', description: '' });
    expect((await admit({ user: 'alice', priority: 'oppo', gpus: 8, held: {} })).json).toMatchObject({ result: 'retain', matched: [2] });

    expect((await rules(`/${id}`, { method: 'DELETE', token: API_TOKEN })).status).toBe(204);
    expect((await rules(`/${id}`, { method: 'DELETE', token: API_TOKEN })).status).toBe(404);
    expect((await rules()).json.rules).toHaveLength(12);

    const audit = await http(`${service.url}/api/v1/audit?subject=rule:${id}`, { token: API_TOKEN });
    expect(audit.json.entries.map((e: { event: string }) => e.event)).toEqual(['rule.delete', 'rule.update', 'rule.create']);
    expect(audit.json.entries[1].detail.before.requested).toBe('>= 8');
  });

  it('places a rule at a chosen free id and refuses a taken one', async () => {
    expect((await rules('', { body: { id: 3, user: 'x' }, token: API_TOKEN })).status).toBe(409);
    const placed = await rules('', { body: { id: 1000, user: '^carol$', result: 'retain' }, token: API_TOKEN });
    expect(placed.json.rule.id).toBe(1000);
    expect((await rules('/1000', { method: 'DELETE', token: API_TOKEN })).status).toBe(204);
  });

  it('refuses writes when no apiToken is configured', async () => {
    const local = await startTestService({ apiToken: undefined });
    try {
      const answer = await http(`${local.url}/api/v1/rules`, { body: { user: '.*' }, token: 'anything' });
      expect(answer.status).toBe(403);
      expect(answer.json.error).toMatch(/no apiToken configured/);
    } finally {
      await local.close();
    }
  });
});

describe('/metrics and /healthz', () => {
  it('counts decisions by result and shows the store up', async () => {
    const metrics = (await http(`${service.url}/metrics`)).text;
    expect(sample(metrics, 'gpuwatch_rule_service_store_up')).toBe(1);
    expect(sample(metrics, 'gpuwatch_rule_service_decisions_total{result="fail"}')).toBeGreaterThanOrEqual(3);
    expect(sample(metrics, 'gpuwatch_rule_service_decisions_total{result="oppo"}')).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'gpuwatch_rule_service_decisions_total{result="retain"}')).toBeGreaterThanOrEqual(3);
    expect(sample(metrics, 'gpuwatch_rule_service_store_errors_total')).toBe(0);
    expect((await http(`${service.url}/healthz`)).json).toEqual({ store: 'ok' });
  });
});
