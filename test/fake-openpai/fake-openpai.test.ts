/** The fake rest-server must behave like the documented API (DESIGN §9), or tests built on it prove nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from './server.js';

let fake: FakeOpenPai;

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }, { name: 'alice', email: 'alice@example.com' }, { name: 'bob' }] });
  fake.addJob({ user: 'alice', name: 'a1', gpus: 4, priority: 'prod', state: 'RUNNING', vc: 'nlp' });
  fake.addJob({ user: 'alice', name: 'a2', gpus: 2, priority: null, state: 'WAITING' });
  fake.addJob({ user: 'alice', name: 'a3', gpus: 8, priority: 'oppo', state: 'SUCCEEDED' });
  fake.addJob({ user: 'bob', name: 'b1', gpus: 1, priority: 'oppo', state: 'RUNNING' });
});

afterAll(async () => {
  await fake?.close();
});

async function call(path: string, init: { method?: string; user?: string; token?: string; body?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  const token = init.token ?? (init.user ? fake.tokenFor(init.user) : undefined);
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(`${fake.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text,
    json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : undefined,
  };
}

describe('fake OpenPAI rest-server', () => {
  it('wants a bearer token it issued', async () => {
    expect((await call('/api/v2/jobs')).status).toBe(401);
    const forged = fake.tokenFor('alice').replace(/\.[^.]+$/, '.forged');
    expect((await call('/api/v2/jobs', { token: forged })).json).toEqual({
      code: 'UnauthorizedUserError',
      message: 'Guest is not allowed to do this operation.',
    });
  });

  it('lists jobs with filters, paging and the total count', async () => {
    const mine = await call('/api/v2/jobs?username=alice&state=RUNNING,WAITING', { user: 'alice' });
    expect(mine.json.map((j: { name: string }) => j.name)).toEqual(['a2', 'a1']);
    expect(mine.json[1]).toMatchObject({ name: 'a1', username: 'alice', state: 'RUNNING', virtualCluster: 'nlp', totalGpuNumber: 4, jobPriority: 'prod' });
    expect((await call('/api/v2/jobs?jobPriority=default', { user: 'bob' })).json.map((j: { name: string }) => j.name)).toEqual(['a2']);
    expect((await call('/api/v2/jobs?vc=nlp', { user: 'bob' })).json).toHaveLength(1);
    const page = await call('/api/v2/jobs?username=alice,bob&offset=1&limit=2&withTotalCount=true', { user: 'bob' });
    expect(page.json.totalCount).toBe(4);
    expect(page.json.data.map((j: { name: string }) => j.name)).toEqual(['a3', 'a2']);
    expect((await call('/api/v2/jobs?limit=50001', { user: 'bob' })).json.code).toBe('InvalidParametersError');
  });

  it('takes YAML submissions, refusing JSON bodies, bad and duplicate ones', async () => {
    const yaml =
      'protocolVersion: 2\nname: y1\ntype: job\ntaskRoles:\n  w:\n    instances: 2\n    resourcePerInstance: {cpu: 1, memoryMB: 512, gpu: 3}\nextras:\n  hivedScheduler:\n    jobPriorityClass: test\n';
    expect((await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: yaml, type: 'text/yaml' })).status).toBe(202);
    expect(fake.job('bob~y1')).toMatchObject({ totalGpuNumber: 6, totalTaskNumber: 2, jobPriority: 'test', state: 'WAITING', config: yaml });
    expect((await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: yaml, type: 'text/yaml' })).json.code).toBe('ConflictJobError');
    const json = JSON.stringify({ name: 'j1', taskRoles: { w: { resourcePerInstance: { gpu: 1 } } } });
    const asJson = await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: json });
    expect(asJson.status).toBe(400);
    expect(asJson.json.code).toBe('InvalidProtocolError');
    expect(fake.job('bob~j1')).toBeUndefined();
    // JSON text is YAML too: sent as YAML it is a job.
    expect((await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: json, type: 'text/yaml' })).status).toBe(202);
    expect(fake.job('bob~j1')?.jobPriority).toBeNull();
    const badClass = JSON.stringify({ name: 'j2', taskRoles: { w: {} }, extras: { hivedScheduler: { jobPriorityClass: 'urgent' } } });
    expect((await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: badClass, type: 'text/yaml' })).json.code).toBe('InvalidProtocolError');
    expect((await call('/api/v2/jobs', { method: 'POST', user: 'bob', body: '{"name":"bad name","taskRoles":{"w":{}}}', type: 'text/yaml' })).status).toBe(400);
  });

  it('serves one job and its config', async () => {
    expect((await call('/api/v2/jobs/alice~a1', { user: 'bob' })).json).toMatchObject({ name: 'a1', jobStatus: { username: 'alice', state: 'RUNNING' } });
    const config = await call('/api/v2/jobs/alice~a1/config', { user: 'bob' });
    expect(config.type).toMatch(/text\/yaml/);
    expect(config.text).toContain('jobPriorityClass: prod');
    expect((await call('/api/v2/jobs/alice~none', { user: 'bob' })).status).toBe(404);
  });

  it('stops jobs for their owner or an admin only: 202, 403, 404', async () => {
    const stop = JSON.stringify({ value: 'STOP' });
    expect((await call('/api/v2/jobs/alice~a1/executionType', { method: 'PUT', user: 'bob', body: stop })).status).toBe(403);
    expect((await call('/api/v2/jobs/alice~zzz/executionType', { method: 'PUT', user: 'admin', body: stop })).status).toBe(404);
    expect((await call('/api/v2/jobs/alice~a1/executionType', { method: 'PUT', user: 'admin', body: stop })).status).toBe(202);
    expect(fake.job('alice~a1')).toMatchObject({ state: 'STOPPED', executionType: 'STOP' });
  });

  it('adds and removes tags', async () => {
    const tag = JSON.stringify({ value: 'hot' });
    expect((await call('/api/v2/jobs/bob~b1/tag', { method: 'PUT', user: 'alice', body: tag })).status).toBe(403);
    expect((await call('/api/v2/jobs/bob~b1/tag', { method: 'PUT', user: 'bob', body: tag })).status).toBe(200);
    expect(fake.job('bob~b1')?.tags).toEqual(['hot']);
    expect((await call('/api/v2/jobs/bob~b1/tag', { method: 'DELETE', user: 'admin', body: tag })).status).toBe(200);
    expect(fake.job('bob~b1')?.tags).toEqual([]);
  });

  it('answers a user with their e-mail', async () => {
    expect((await call('/api/v2/users/alice', { user: 'bob' })).json).toMatchObject({ username: 'alice', email: 'alice@example.com' });
    expect((await call('/api/v2/users/nobody', { user: 'bob' })).json.code).toBe('NoUserError');
  });

  it('records every request with its user and status', () => {
    const last = fake.requests.at(-1);
    expect(last).toMatchObject({ method: 'GET', path: '/api/v2/users/nobody', user: 'bob', status: 404 });
    expect(fake.requests.find((r) => r.path === '/api/v2/jobs/bob~b1/tag' && r.method === 'DELETE')?.body).toBe('{"value":"hot"}');
    expect(fake.requests[0]).toMatchObject({ path: '/api/v2/jobs', status: 401 });
    expect(fake.requests[0]?.user).toBeUndefined();
  });
});
