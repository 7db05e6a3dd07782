/** Proxy mode end to end: a client → the rule service → the fake rest-server, all on loopback. */
import { createServer, request as rawRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import type { RunningRuleService } from './service.js';
import { http, loadSeed, startTestService } from '../test/rule-service-support.js';

let fake: FakeOpenPai;
let service: RunningRuleService;

beforeAll(async () => {
  fake = await startFakeOpenPai({
    users: [{ name: 'admin', admin: true }, { name: 'alice', email: 'alice@example.com' }, { name: 'fa_bob' }, { name: 'user_proh' }],
  });
  fake.addJob({ user: 'alice', name: 'old-oppo', gpus: 16, priority: 'oppo', state: 'RUNNING' });
  service = await startTestService({ proxyTo: fake.url });
  await loadSeed(service);
});

afterAll(async () => {
  await service?.close();
  await fake?.close();
});

function jobYaml(name: string, gpus: number, priority?: string): string {
  return [
    '# submitted from the web portal',
    'protocolVersion: 2',
    `name: ${name}`,
    'type: job',
    'taskRoles:',
    '  train:',
    '    instances: 1',
    '    resourcePerInstance:',
    '      cpu: 4',
    '      memoryMB: 8192',
    `      gpu: ${gpus} # per instance`,
    '    commands:',
    '      - python train.py',
    ...(priority ? ['extras:', '  hivedScheduler:', `    jobPriorityClass: ${priority}`] : []),
    '',
  ].join('\n');
}

const submit = (user: string, body: string, contentType = 'text/yaml') =>
  http(`${service.url}/api/v2/jobs`, { method: 'POST', body, token: fake.tokenFor(user), headers: { 'content-type': contentType } });

const postsFor = (name: string) => fake.requests.filter((r) => r.method === 'POST' && r.path === '/api/v2/jobs' && r.body.includes(`name: ${name}`));

describe('job submission through the proxy', () => {
  it('lowers an ordinary user prod job to oppo, keeping the rest of the YAML', async () => {
    const answer = await submit('alice', jobYaml('lowered', 2, 'prod'));
    expect(answer.status).toBe(202);
    expect(answer.json).toEqual({ status: 202, message: 'Update job lowered for user alice successfully.' });
    expect(answer.headers.get('x-gpuwatch-admission')).toBe('oppo');
    const [forwarded] = postsFor('lowered');
    expect(forwarded?.body).toContain('# submitted from the web portal');
    expect(forwarded?.body).toContain('gpu: 2 # per instance');
    expect(parse(forwarded?.body ?? '').extras.hivedScheduler.jobPriorityClass).toBe('oppo');
    expect(forwarded?.headers['content-type']).toBe('text/yaml');
    expect(forwarded?.user).toBe('alice');
    expect(fake.job('alice~lowered')).toMatchObject({ jobPriority: 'oppo', totalGpuNumber: 2, state: 'WAITING' });
  });

  it('forwards a job it keeps byte for byte', async () => {
    const body = jobYaml('kept', 2, 'oppo');
    const answer = await submit('alice', body);
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-gpuwatch-admission')).toBe('retain');
    expect(postsFor('kept')[0]?.body).toBe(body);
  });

  it("refuses with 403 and the reasons, counting the user's jobs on rest-server, and forwards nothing", async () => {
    // alice now holds 16 + 2 + 2 oppo GPUs; 3 more makes 23.
    const answer = await submit('alice', jobYaml('too-big', 3, 'prod'));
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({
      code: 'AdmissionRejectedError',
      message: 'The job was rejected: ordinary users may only submit oppo jobs; more than 20 GPUs will fail',
      reasons: ['ordinary users may only submit oppo jobs', 'more than 20 GPUs will fail'],
      matched: [4, 3],
    });
    expect(postsFor('too-big')).toEqual([]);
    expect(fake.job('alice~too-big')).toBeUndefined();
    const listing = fake.requests.filter((r) => r.path === '/api/v2/jobs' && r.method === 'GET' && r.user === 'alice');
    expect(listing.at(-1)?.query).toMatchObject({ username: 'alice', state: 'RUNNING,WAITING,STOPPING' });
  });

  it('refuses user_proh whatever the job', async () => {
    const answer = await submit('user_proh', jobYaml('anything', 0, 'oppo'));
    expect(answer.status).toBe(403);
    expect(answer.json.message).toBe('The job was rejected: refused by rule 7');
  });

  it('answers a JSON body as rest-server does (it reads YAML only), forwarding nothing', async () => {
    const job = {
      protocolVersion: 2,
      name: 'json-job',
      type: 'job',
      taskRoles: { w: { instances: 3, resourcePerInstance: { cpu: 1, memoryMB: 1024, gpu: 1 } } },
      extras: { hivedScheduler: { jobPriorityClass: 'prod' } },
    };
    const answer = await submit('fa_bob', JSON.stringify(job), 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('InvalidProtocolError');
    expect(fake.requests.filter((r) => r.method === 'POST' && r.body.includes('json-job'))).toEqual([]);
    const direct = await http(`${fake.url}/api/v2/jobs`, {
      method: 'POST',
      body: JSON.stringify(job),
      token: fake.tokenFor('fa_bob'),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.json).toEqual(direct.json);
    expect(fake.job('fa_bob~json-job')).toBeUndefined();
  });

  it('rewrites a job written in flow style (JSON syntax) sent as YAML, keeping it flow style', async () => {
    const text =
      '{"name": "flow-job", "taskRoles": {"w": {"instances": 3, "resourcePerInstance": {"gpu": 1}}}, "extras": {"hivedScheduler": {"jobPriorityClass": "prod"}}}\n';
    const answer = await submit('fa_bob', text, 'text/yaml');
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-gpuwatch-admission')).toBe('oppo');
    const forwarded = fake.requests.find((r) => r.method === 'POST' && r.body.includes('flow-job'));
    expect(forwarded?.body.trim().startsWith('{')).toBe(true);
    expect(parse(forwarded?.body ?? '')).toEqual({ ...JSON.parse(text), extras: { hivedScheduler: { jobPriorityClass: 'oppo' } } });
    expect(fake.job('fa_bob~flow-job')?.jobPriority).toBe('oppo');
  });

  it('sets a priority class on a job that had none when it lowers it', async () => {
    const answer = await submit('alice', jobYaml('no-class', 0));
    expect(answer.status).toBe(202);
    expect(fake.job('alice~no-class')?.jobPriority).toBe('oppo');
  });

  it('answers 400 for a job it cannot read', async () => {
    const bad = await submit('alice', 'name: [unclosed');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('InvalidProtocolError');
  });

  it('decides a job sent with Basic user:applicationToken like one sent with a bearer token', async () => {
    // fa* users may hold 2 GPUs above oppo: 3 in prod becomes oppo.
    const basic = Buffer.from(`fa_bob:${fake.tokenFor('fa_bob', { application: true })}`).toString('base64');
    const answer = await http(`${service.url}/api/v2/jobs`, {
      method: 'POST',
      body: jobYaml('basic-auth', 3, 'prod'),
      headers: { 'content-type': 'text/yaml', authorization: `Basic ${basic}` },
    });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-gpuwatch-admission')).toBe('oppo');
    expect(fake.job('fa_bob~basic-auth')).toMatchObject({ jobPriority: 'oppo', username: 'fa_bob' });
  });

  it('refuses, without forwarding, a submission whose user it cannot tell', async () => {
    const basicForOther = Buffer.from(`fa_bob:${fake.tokenFor('alice', { application: true })}`).toString('base64');
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer opaque-not-a-jwt' },
      { authorization: `Digest username="alice"` },
      { authorization: `Basic ${basicForOther}` },
    ];
    for (const [i, headers] of attempts.entries()) {
      const answer = await http(`${service.url}/api/v2/jobs`, {
        method: 'POST',
        body: jobYaml(`anon-${i}`, 1, 'prod'),
        headers: { 'content-type': 'text/yaml', ...headers },
      });
      expect(answer.status, JSON.stringify(headers)).toBe(401);
      expect(answer.json.code).toBe('UnauthorizedUserError');
      expect(postsFor(`anon-${i}`)).toEqual([]);
    }
  });
});

describe('everything else passes through untouched', () => {
  it('GETs with query strings, headers and the answer as rest-server gave it', async () => {
    const token = fake.tokenFor('alice');
    const direct = await http(`${fake.url}/api/v2/jobs?username=alice&state=RUNNING&withTotalCount=true`, { token });
    const proxied = await http(`${service.url}/api/v2/jobs?username=alice&state=RUNNING&withTotalCount=true`, {
      token,
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(proxied.status).toBe(200);
    expect(proxied.text).toBe(direct.text);
    expect(proxied.json.totalCount).toBe(1);
    expect(proxied.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    const seen = fake.requests.at(-1);
    expect(seen?.headers['x-request-id']).toBe('abc-123');
    expect(seen?.headers.authorization).toBe(`Bearer ${token}`);
    expect(seen?.query).toEqual({ username: 'alice', state: 'RUNNING', withTotalCount: 'true' });
  });

  it('PUT bodies and error statuses', async () => {
    const stop = await http(`${service.url}/api/v2/jobs/alice~kept/executionType`, { method: 'PUT', body: { value: 'STOP' }, token: fake.tokenFor('alice') });
    expect(stop.status).toBe(202);
    expect(fake.requests.at(-1)?.body).toBe('{"value":"STOP"}');
    expect(fake.job('alice~kept')?.state).toBe('STOPPED');
    const forbidden = await http(`${service.url}/api/v2/jobs/alice~lowered/executionType`, {
      method: 'PUT',
      body: { value: 'STOP' },
      token: fake.tokenFor('fa_bob'),
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.code).toBe('ForbiddenUserError');
    const missing = await http(`${service.url}/api/v2/jobs/alice~nope/config`, { token: fake.tokenFor('alice') });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: 'NoJobError', message: 'Job alice~nope is not found.' });
    const config = await http(`${service.url}/api/v2/jobs/alice~kept/config`, { token: fake.tokenFor('alice') });
    expect(config.headers.get('content-type')).toMatch(/text\/yaml/);
    expect(config.text).toBe(jobYaml('kept', 2, 'oppo'));
    const user = await http(`${service.url}/api/v2/users/alice`, { token: fake.tokenFor('admin') });
    expect(user.json.email).toBe('alice@example.com');
  });

  it('answers 502 when rest-server is gone', async () => {
    const gone = await startFakeOpenPai({ users: [] });
    await gone.close();
    const local = await startTestService({ proxyTo: gone.url });
    try {
      const answer = await http(`${local.url}/api/v2/jobs?username=alice`);
      expect(answer.status).toBe(502);
      expect(answer.json.code).toBe('BadGatewayError');
    } finally {
      await local.close();
    }
  });
});

/** Sends a request line with `path` exactly as given (fetch would normalize it). */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = rawRequest({ hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('only paths are forwarded, always to rest-server', () => {
  it('sends a path that looks like another host (//host:port/…) to rest-server, never to that host', async () => {
    const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
    const other = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      res.end('stolen');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
    try {
      const token = fake.tokenFor('alice');
      const before = fake.requests.length;
      const answer = await rawGet(service.url, `//${otherHost}/api/v2/jobs`, { authorization: `Bearer ${token}` });
      expect(seen).toEqual([]);
      expect(answer.body).not.toBe('stolen');
      expect(fake.requests.slice(before).map((r) => r.path)).toEqual([`//${otherHost}/api/v2/jobs`]);
      const absolute = await rawGet(service.url, `http://${otherHost}/api/v2/jobs`, { authorization: `Bearer ${token}` });
      expect(seen).toEqual([]);
      expect(absolute.status).toBe(400);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
