/** Query parameters of the rule service's API: a bad or repeated one is a 400 that names it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, loadSeed, startTestService } from '../test/rule-service-support.js';

let service: RunningRuleService;

beforeAll(async () => {
  service = await startTestService();
  await loadSeed(service);
});

afterAll(async () => {
  await service?.close();
});

const get = (path: string) => http(`${service.url}${path}`, { token: API_TOKEN });
const JOB = 'name: j\ntaskRoles:\n  w:\n    instances: 1\n    resourcePerInstance: { gpu: 1 }\nextras:\n  hivedScheduler: { jobPriorityClass: oppo }\n';

describe('query parameters', () => {
  it('refuses an audit limit that is not a whole number from 1 to 1000', async () => {
    for (const limit of ['abc', '0', '-5', '2.5', '5000']) {
      const answer = await get(`/api/v1/audit?limit=${limit}`);
      expect(answer.status, limit).toBe(400);
      expect(answer.json, limit).toMatchObject({ error: 'query parameter limit: expected a whole number from 1 to 1000', problems: [{ field: 'limit' }] });
    }
  });

  it('takes a good audit limit and defaults to 100', async () => {
    expect((await http(`${service.url}/api/v1/rules`, { body: { user: '^x$', result: 'retain' }, token: API_TOKEN })).status).toBe(201);
    expect((await get('/api/v1/audit?limit=1')).json.entries).toHaveLength(1);
    expect((await get('/api/v1/audit')).json.entries).toHaveLength(2);
  });

  it('refuses an unknown rules format instead of answering JSON', async () => {
    const answer = await get('/api/v1/rules?format=xml');
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/^query parameter format: Invalid enum value\. Expected 'json' \| 'yaml' \| 'csv', received 'xml'/);
    expect((await get('/api/v1/rules?format=csv')).text).toMatch(/^user,vc,priority/);
    expect((await get('/api/v1/rules?format=json')).json.rules.length).toBeGreaterThan(0);
  });

  it('refuses a repeated parameter instead of ignoring it', async () => {
    const answer = await http(`${service.url}/api/v1/admission?user=alice&user=bob`, { body: JOB, headers: { 'content-type': 'text/yaml' } });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatch(/^query parameter user: Expected string, received array/);
    const named = await http(`${service.url}/api/v1/admission?user=alice`, { body: JOB, headers: { 'content-type': 'text/yaml' } });
    expect(named.json).toMatchObject({ job: { user: 'alice', priority: 'oppo', gpus: 1 } });
  });
});
