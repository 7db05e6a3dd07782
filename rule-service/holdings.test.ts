/** Which of a user's jobs count as holding GPUs, read from the fake rest-server through the service. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import type { RunningRuleService } from './service.js';
import { http, loadSeed, startTestService } from '../test/rule-service-support.js';

let fake: FakeOpenPai;
let service: RunningRuleService;

beforeAll(async () => {
  fake = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }, { name: 'carol' }] });
  fake.addJob({ user: 'carol', name: 'running', gpus: 8, priority: 'oppo', state: 'RUNNING' });
  fake.addJob({ user: 'carol', name: 'stopping', gpus: 10, priority: 'oppo', state: 'STOPPING' });
  fake.addJob({ user: 'carol', name: 'stopped', gpus: 64, priority: 'oppo', state: 'STOPPED' });
  service = await startTestService({ openpai: { url: fake.url, token: fake.tokenFor('admin', { application: true }), timeoutMs: 2_000 } });
  await loadSeed(service);
});

afterAll(async () => {
  await service?.close();
  await fake?.close();
});

describe('holdings', () => {
  it('counts a job that is still stopping: its GPUs are not free yet', async () => {
    const answer = await http(`${service.url}/api/v1/admission`, { body: { user: 'carol', priority: 'oppo', gpus: 3 } });
    expect(answer.json).toMatchObject({ holdings: { source: 'rest-server', oppo: 18 }, result: 'fail', reasons: ['more than 20 GPUs will fail'] });
    const asked = fake.requests.filter((r) => r.method === 'GET' && r.path === '/api/v2/jobs').at(-1);
    expect(asked?.query.state?.split(',').sort()).toEqual(['RUNNING', 'STOPPING', 'WAITING']);
  });

  it('refuses a job list that does not fit, naming the field, instead of counting nothing', async () => {
    fake.replyWith('/api/v2/jobs', [{ name: 'big', username: 'carol', totalGpuNumber: 30, jobPriority: 'oppo' }]);
    try {
      const answer = await http(`${service.url}/api/v1/admission`, { body: { user: 'carol', priority: 'oppo', gpus: 3 } });
      expect(answer.json).toMatchObject({
        holdings: { source: 'unknown' },
        notes: [expect.stringMatching(/holdings unknown \(rest-server GET \/api\/v2\/jobs answered with an unexpected reply: 0\.state: Required\)/)],
      });
    } finally {
      fake.replyWith('/api/v2/jobs', undefined);
    }
  });
});
