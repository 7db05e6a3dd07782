/** The rule store on a real SQLite database: when rules are re-read, and what is done with bad rows. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { openDatabase } from '../storage/database.js';
import { migrateToLatest } from '../storage/migrate.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';
import { normalizeRule } from './rule.js';
import { RuleStore } from './rule-store.js';
import { decide } from './rules.js';
import { NO_HOLDINGS } from './priority.js';

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
