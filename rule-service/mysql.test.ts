/** The MySQL path against the machine's MariaDB: two replicas sharing one throwaway database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import type { RunningRuleService } from './service.js';
import {
  API_TOKEN,
  gpuHistoryOpenMetrics,
  http,
  idleGpus,
  loadSeed,
  startPrometheusWithHistory,
  startTestService,
  TEST_IDLE_CRITERION,
} from '../test/rule-service-support.js';

let db: ThrowawayDatabase;
let fake: FakeOpenPai;
let first: RunningRuleService;
let second: RunningRuleService;
let prometheus: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  db = await createThrowawayMysqlDatabase();
  fake = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }, { name: 'alice' }] });
  const openpai = { url: fake.url, token: fake.tokenFor('admin'), timeoutMs: 2_000 };
  prometheus = await startPrometheusWithHistory(gpuHistoryOpenMetrics(idleGpus(['alice~burn'])));
  const idleCheck = { url: prometheus.url, ...TEST_IDLE_CRITERION };
  first = await startTestService({ db: db.url, openpai, idleCheck });
  second = await startTestService({ db: db.url, openpai, idleCheck, rulesReloadMs: 100 });
  await loadSeed(first);
}, 60_000);

afterAll(async () => {
  await first?.close();
  await second?.close();
  await prometheus?.stop();
  await fake?.close();
  await db?.drop();
});

const admit = (service: RunningRuleService, body: Record<string, unknown>) => http(`${service.url}/api/v1/admission`, { body: { held: {}, ...body } });

describe('rules in MySQL', () => {
  it('decides the seed scenarios from MariaDB', async () => {
    expect((await admit(second, { user: 'alice', priority: 'prod', gpus: 21 })).json).toMatchObject({
      result: 'fail',
      reasons: ['ordinary users may only submit oppo jobs', 'more than 20 GPUs will fail'],
      matched: [4, 3],
      store: 'ok',
    });
    expect((await admit(second, { user: 'fa_test2', priority: 'oppo', gpus: 4, held: { prod: 4, oppo: 26 } })).json).toMatchObject({
      result: 'retain',
      matched: [8],
    });
    expect((await admit(second, { user: 'fa_test', priority: 'prod', gpus: 64 })).json).toMatchObject({ result: 'retain', priority: 'prod', matched: [12] });
  });

  it('gives new rules increasing auto-increment ids, never reusing a deleted one', async () => {
    const a = await http(`${first.url}/api/v1/rules`, { body: { user: '^carol$', result: 'fail', description: 'carol is on leave' }, token: API_TOKEN });
    expect(a.json.rule.id).toBe(13);
    expect((await http(`${first.url}/api/v1/rules/13`, { method: 'DELETE', token: API_TOKEN })).status).toBe(204);
    const b = await http(`${first.url}/api/v1/rules`, { body: { user: '^carol$', result: 'fail', description: 'carol is on leave' }, token: API_TOKEN });
    expect(b.json.rule.id).toBe(14);
  });

  it('shows a change made through one replica at once on the other', async () => {
    expect((await admit(second, { user: 'carol', priority: 'oppo', gpus: 1 })).json).toMatchObject({
      result: 'fail',
      reasons: ['carol is on leave'],
      matched: [14],
    });
    await http(`${first.url}/api/v1/rules/14`, { method: 'DELETE', token: API_TOKEN });
    expect((await admit(second, { user: 'carol', priority: 'oppo', gpus: 1 })).json).toMatchObject({ result: 'retain', matched: [2] });
  });

  it('picks up an edit made directly in SQL after the reload interval', async () => {
    await second.db.updateTable('rules').set({ occupied: '10' }).where('id', '=', 3).execute();
    let reasons: string[] = [];
    for (let i = 0; i < 40 && reasons.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      reasons = (await admit(second, { user: 'alice', priority: 'oppo', gpus: 11 })).json.reasons;
    }
    expect(reasons).toEqual(['more than 20 GPUs will fail']);
  });

  it('keeps idempotency keys in SQL, shared by the replicas', async () => {
    fake.addJob({ user: 'alice', name: 'burn', gpus: 8, priority: 'prod' });
    const request = { job: 'alice~burn', action: 'kill', reason: 'ECC storm', idempotencyKey: 'inc-9/kill' };
    const done = await http(`${first.url}/api/v1/actions`, { body: request, token: API_TOKEN });
    expect(done.json).toMatchObject({ status: 'done', replayed: false });
    const replay = await http(`${second.url}/api/v1/actions`, { body: request, token: API_TOKEN });
    expect(replay.json).toMatchObject({ status: 'done', replayed: true });
    expect(fake.requests.filter((r) => r.path === '/api/v2/jobs/alice~burn/executionType')).toHaveLength(1);
    const audit = await http(`${second.url}/api/v1/audit?subject=alice~burn`, { token: API_TOKEN });
    expect(audit.json.entries).toHaveLength(1);
  });
});
