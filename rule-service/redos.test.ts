/**
 * No rule can stall admission: patterns that make a backtracking engine run for seconds are
 * either refused when saved (lookarounds, backreferences) or run in linear time, while the
 * service keeps answering everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRuleService } from './service.js';
import { API_TOKEN, http, startTestService } from '../test/rule-service-support.js';

let service: RunningRuleService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.close();
});

describe('patterns that backtrack catastrophically', () => {
  it('refuses ^foo-(?=(a+)+$) when it is saved, naming the field', async () => {
    const answer = await http(`${service.url}/api/v1/rules`, { body: { user: '^foo-(?=(a+)+$)', result: 'fail' }, token: API_TOKEN });
    expect(answer.status).toBe(400);
    expect(answer.json.problems).toEqual([{ field: 'user', message: expect.stringMatching(/needs a backtracking engine/) }]);
  });

  it('runs nested and polynomial repeats on the longest names without holding up /healthz', async () => {
    const table = ['^foo-(a+)+$', '^(\\w+\\s?)+$', '(.*)*x', '\\w*\\w*\\w*\\w*\\w*\\w*\\w*\\w*x'].map((user) => ({
      user,
      result: 'fail',
      description: `matched ${user}`,
    }));
    const saved = await http(`${service.url}/api/v1/rules`, { method: 'PUT', body: table, token: API_TOKEN });
    expect(saved.status).toBe(200);
    const user = `foo-${'a'.repeat(123)}!`;
    // Admission runs on the service's event loop, in this process: a pattern that backtracked for
    // seconds to years would hold every answer below, and the test would hang instead of passing.
    const admissions = Array.from({ length: 5 }, () => http(`${service.url}/api/v1/admission`, { body: { user, priority: 'oppo', gpus: 1, held: {} } }));
    const health = http(`${service.url}/healthz`);
    for (const answer of await Promise.all(admissions)) expect(answer.json).toMatchObject({ result: 'retain', matched: [] });
    expect((await health).status).toBe(200);
  });
});
