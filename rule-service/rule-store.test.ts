/** The rule store on a real SQLite database: when rules are re-read, and what is done with bad rows. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { openDatabase } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';
import { normalizeRule } from './rule.js';
import { RuleStore } from './rule-store.js';
import { compileRuleSet, decide } from './rules.js';
import { NO_HOLDINGS } from './priority.js';
import type { RuleFields } from './rule.js';
import type { RunningRuleService } from './service.js';
import { http, loadSeed, sample, startTestService } from '../test/rule-service-support.js';

let opened: ReturnType<typeof openDatabase<RuleServiceDatabase>>;
let clock = 0;

beforeEach(async () => {
  opened = openDatabase<RuleServiceDatabase>('sqlite::memory:');
  await migrateToLatest(opened.db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS);
  clock = 1_000_000;
});

afterEach(async () => {
  await opened.close();
});

const job = { user: 'alice', vc: 'default', priority: 'prod' as const, gpus: 1, held: NO_HOLDINGS };

async function decideNow(store: RuleStore) {
  const read = await store.readRuleSet();
  if (!read.ok) throw read.error;
  return decide(read.ruleSet, job);
}

describe('re-reading rules edited directly in SQL', () => {
  it('the first decision after the reload interval already uses the edited rules', async () => {
    const store = new RuleStore(opened.db, { reloadMs: 10_000, now: () => clock });
    await store.create(normalizeRule({ user: '^alice$', result: 'retain' }), 'test');
    expect((await decideNow(store)).result).toBe('retain');
    await opened.db.updateTable('rules').set({ result: 'fail', description: 'alice is on leave' }).execute();
    clock += 5_000;
    expect((await decideNow(store)).result).toBe('retain');
    clock += 5_001;
    expect(await decideNow(store)).toMatchObject({ result: 'fail', reasons: ['alice is on leave'] });
  });
});

describe('rules that would raise a priority', () => {
  it('are ignored at decision time even when they got past the save-time checks', () => {
    const ruleSet = compileRuleSet([
      { id: 2, ...normalizeRule({ user: '^eve$', priority: 'oppo', result: 'prod', description: 'eve goes first' }) },
      { id: 1, ...normalizeRule({ user: '^eve$', result: 'retain', description: 'kept' }) },
    ]);
    expect(decide(ruleSet, { ...job, user: 'eve', priority: 'oppo' })).toEqual({
      result: 'retain',
      priority: 'oppo',
      reasons: ['kept'],
      matched: [1],
      ignored: [2],
    });
  });
});

describe('rows edited directly in SQL', () => {
  let service: RunningRuleService;

  beforeEach(async () => {
    service = await startTestService({ rulesReloadMs: 0 });
    await loadSeed(service);
  });

  afterEach(async () => {
    await service.close();
  });

  const insert = (fields: Partial<RuleFields>) =>
    service.db
      .insertInto('rules')
      .values({
        ...{ user: '', vc: '', priority: '', requested: '', occupied: '', occupied_high: '', result: 'retain', description: '' },
        ...fields,
        updated_at: new Date().toISOString(),
      })
      .execute();

  it('get the API checks when loaded: bad rows are left out, logged, counted and listed by the API', async () => {
    await insert({ user: '^eve$', priority: 'oppo', result: 'prod', description: 'eve goes first' });
    await insert({ user: '^foo-(?=(a+)+$)', result: 'fail' });
    await insert({ vc: 'nlp', occupied: 'lots' });
    const answer = await http(`${service.url}/api/v1/admission`, { body: { user: 'eve', priority: 'oppo', gpus: 1, held: {} } });
    expect(answer.json).toMatchObject({ result: 'retain', priority: 'oppo', matched: [2], ignored: [] });
    const slow = await http(`${service.url}/api/v1/admission`, { body: { user: `foo-${'a'.repeat(40)}!`, priority: 'oppo', gpus: 1, held: {} } });
    expect(slow.json).toMatchObject({ result: 'retain', matched: [2] });
    const listed = await http(`${service.url}/api/v1/rules`);
    expect(listed.json.invalid).toEqual([
      { id: 15, problems: [{ field: 'occupied', message: expect.stringMatching(/not a comparison/) }] },
      { id: 14, problems: [{ field: 'user', message: expect.stringMatching(/needs a backtracking engine/) }] },
      { id: 13, problems: [{ field: 'result', message: expect.stringMatching(/would raise the priority of oppo jobs/) }] },
    ]);
    expect(sample((await http(`${service.url}/metrics`)).text, 'gpuwatch_rule_service_invalid_rules')).toBe(3);
  });
});
