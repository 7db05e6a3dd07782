/**
 * The rule table in SQL, and the compiled rule set admission reads.
 *
 * Admission asks for the rule set on every decision. That costs one small read (the revision row)
 * bounded by a short timeout; the rules themselves are read again when the revision moved (a
 * change through the API or CLI) or when the last read is older than `reloadMs` (edits made
 * directly in SQL), by the first decision that finds them so. When a read fails the store is marked down: admission decides as if there were no rules and
 * does not touch the store again until a background probe finds it readable.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { withTimeout } from '../src/storage/timeout.js';
import { recordAudit } from './audit.js';
import type { RuleServiceDatabase, RulesTable } from './db-schema.js';
import { compileRuleSet, type RuleSet } from './rules.js';
import { normalizeRule, ruleProblems, type Rule, type RuleFields, type RuleProblem } from './rule.js';

export interface RuleStoreOptions {
  /** Longest a read on the admission path may take. */
  timeoutMs?: number;
  /** How often a store marked down is probed. */
  retryMs?: number;
  /** How often the rules are re-read even when the revision did not move. */
  reloadMs?: number;
  /** Told when the store goes down or comes back, and of every failed read. */
  onHealth?: (up: boolean, error?: Error) => void;
  onError?: (error: Error) => void;
  /** Run before each probe while the store is down (reopen the connection, migrate); a throw keeps it down. */
  recover?: () => Promise<void>;
  /** Told, after every read of the rules, of the stored rules that fail the save-time checks (they are left out). */
  onInvalidRules?: (invalid: readonly InvalidRule[]) => void;
  now?: () => number;
}

/** A stored rule that fails the checks a rule must pass to be saved, and why. */
export interface InvalidRule {
  id: number;
  problems: RuleProblem[];
}

/** The stored rules that fail the save-time checks (edits made directly in SQL skip those). */
export function invalidRules(rules: readonly Rule[]): InvalidRule[] {
  return rules.map((rule) => ({ id: rule.id, problems: ruleProblems(normalizeRule(rule)) })).filter((r) => r.problems.length > 0);
}

export type RuleSetRead = { ok: true; ruleSet: RuleSet; revision: number } | { ok: false; error: Error };

interface Cached {
  revision: number;
  ruleSet: RuleSet;
  loadedAt: number;
}

export class RuleStore {
  private cached: Cached | undefined;
  private up = true;
  private lastError: Error | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private loading: { revision: number; promise: Promise<RuleSet> } | undefined;
  private readonly patternCache = new Map<string, RegExp>();
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly reloadMs: number;
  private readonly now: () => number;

  private readonly database: () => Kysely<RuleServiceDatabase>;

  /** `db` may be a function: the connection the service currently holds (it is reopened to recover). */
  constructor(
    db: Kysely<RuleServiceDatabase> | (() => Kysely<RuleServiceDatabase>),
    private readonly options: RuleStoreOptions = {},
  ) {
    this.database = typeof db === 'function' ? db : () => db;
    this.timeoutMs = options.timeoutMs ?? 150;
    this.retryMs = options.retryMs ?? 1_000;
    this.reloadMs = options.reloadMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get db(): Kysely<RuleServiceDatabase> {
    return this.database();
  }

  get healthy(): boolean {
    return this.up;
  }

  /** The rule set to decide with, or why there is none; never waits longer than the timeout. */
  async readRuleSet(): Promise<RuleSetRead> {
    if (!this.up) return { ok: false, error: this.lastError ?? new Error('rule store unavailable') };
    try {
      const revision = await withTimeout(this.readRevision(), this.timeoutMs, 'reading the rule revision');
      const cached = this.cached;
      // Fresh enough: the revision did not move and the last read is within the reload interval.
      if (cached && cached.revision === revision && this.now() - cached.loadedAt <= this.reloadMs) {
        return { ok: true, ruleSet: cached.ruleSet, revision };
      }
      const ruleSet = await withTimeout(this.loadOnce(revision), this.timeoutMs, 'reading the rules');
      return { ok: true, ruleSet, revision };
    } catch (err) {
      this.markDown(err as Error);
      return { ok: false, error: err as Error };
    }
  }

  /** Checks the store now (used at start and by the periodic health check); true when readable. */
  async probe(): Promise<boolean> {
    try {
      if (!this.up && this.options.recover) await this.options.recover();
      await withTimeout(this.readRevision(), Math.max(this.timeoutMs, 1_000), 'probing the rule store');
      this.markUp();
      return true;
    } catch (err) {
      this.markDown(err as Error);
      return false;
    }
  }

  stop(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** All rules in matching order (highest id first). */
  async list(): Promise<Rule[]> {
    const rows = await this.db.selectFrom('rules').selectAll().orderBy('id', 'desc').execute();
    return rows.map(toRule);
  }

  async get(id: number): Promise<Rule | undefined> {
    const row = await this.db.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRule(row) : undefined;
  }

  async revision(): Promise<number> {
    return this.readRevision();
  }

  /** Adds a rule; without an id it gets the highest one and so matches before every other rule. */
  async create(fields: RuleFields, actor: string, id?: number): Promise<Rule> {
    return this.change(async (trx) => {
      const values = { ...toRow(fields), ...(id === undefined ? {} : { id }) };
      const inserted = await trx.insertInto('rules').values(values).executeTakeFirstOrThrow();
      const rule = { id: id ?? Number(inserted.insertId), ...normalizeRule(fields) };
      await recordAudit(trx, { actor, event: 'rule.create', subject: `rule:${rule.id}`, detail: rule });
      return rule;
    });
  }

  async update(id: number, fields: RuleFields, actor: string): Promise<Rule | undefined> {
    return this.change(async (trx) => {
      const before = await trx.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
      if (!before) return undefined;
      await trx.updateTable('rules').set(toRow(fields)).where('id', '=', id).execute();
      const rule = { id, ...normalizeRule(fields) };
      await recordAudit(trx, { actor, event: 'rule.update', subject: `rule:${id}`, detail: { before: toRule(before), after: rule } });
      return rule;
    });
  }

  async remove(id: number, actor: string): Promise<boolean> {
    return this.change(async (trx) => {
      const before = await trx.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
      if (!before) return false;
      await trx.deleteFrom('rules').where('id', '=', id).execute();
      await recordAudit(trx, { actor, event: 'rule.delete', subject: `rule:${id}`, detail: toRule(before) });
      return true;
    });
  }

  /**
   * Imports rules given in matching order. `replace` empties the table first; otherwise they go on
   * top of the existing rules (matched before them). Either way, all or nothing.
   */
  async import(rules: readonly RuleFields[], actor: string, mode: 'replace' | 'append'): Promise<Rule[]> {
    return this.change(async (trx) => {
      if (mode === 'replace') await trx.deleteFrom('rules').execute();
      const created: Rule[] = [];
      // Insert bottom-up so the first rule of the list gets the highest id.
      for (const fields of [...rules].reverse()) {
        const inserted = await trx.insertInto('rules').values(toRow(fields)).executeTakeFirstOrThrow();
        created.unshift({ id: Number(inserted.insertId), ...normalizeRule(fields) });
      }
      await recordAudit(trx, { actor, event: 'rules.import', subject: 'rules', detail: { mode, count: created.length } });
      return created;
    });
  }

  private async change<T>(work: (trx: Transaction<RuleServiceDatabase>) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(async (trx) => {
      const out = await work(trx);
      await trx
        .updateTable('rule_revision')
        .set((eb) => ({ revision: eb('revision', '+', 1) }))
        .where('id', '=', 1)
        .execute();
      return out;
    });
    this.cached = undefined;
    return result;
  }

  private async readRevision(): Promise<number> {
    const row = await this.db.selectFrom('rule_revision').select('revision').where('id', '=', 1).executeTakeFirst();
    return Number(row?.revision ?? 0);
  }

  private async load(revision: number): Promise<RuleSet> {
    const rules = await this.list();
    // The same checks as a save through the API: rows edited directly in SQL are not trusted.
    const invalid = invalidRules(rules);
    const skipped = new Set(invalid.map((r) => r.id));
    this.options.onInvalidRules?.(invalid);
    const ruleSet = compileRuleSet(
      rules.filter((rule) => !skipped.has(rule.id)),
      this.patternCache,
    );
    this.cached = { revision, ruleSet, loadedAt: this.now() };
    return ruleSet;
  }

  /** One read of the rules at a time: decisions that arrive meanwhile wait for the same read. */
  private loadOnce(revision: number): Promise<RuleSet> {
    if (this.loading?.revision !== revision) {
      const promise = this.load(revision).finally(() => {
        if (this.loading?.promise === promise) this.loading = undefined;
      });
      this.loading = { revision, promise };
    }
    return this.loading.promise;
  }

  /** Marks the store unreadable (admission skips it) until a probe finds it readable again. */
  markDown(error: Error): void {
    this.lastError = error;
    this.options.onError?.(error);
    if (this.up) {
      this.up = false;
      this.options.onHealth?.(false, error);
    }
    this.scheduleProbe();
  }

  private markUp(): void {
    if (!this.up) {
      this.up = true;
      this.lastError = undefined;
      this.options.onHealth?.(true);
    }
  }

  private scheduleProbe(): void {
    if (this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, this.retryMs);
    this.probeTimer.unref();
  }
}

function toRow(fields: RuleFields): Omit<Selectable<RulesTable>, 'id'> {
  const r = normalizeRule(fields);
  return {
    user: r.user,
    vc: r.vc,
    priority: r.priority,
    requested: r.requested,
    occupied: r.occupied,
    occupied_high: r.occupiedHigh,
    result: r.result,
    description: r.description,
    updated_at: new Date().toISOString(),
  };
}

function toRule(row: Selectable<RulesTable>): Rule {
  return {
    id: Number(row.id),
    user: row.user,
    vc: row.vc,
    priority: row.priority,
    requested: row.requested,
    occupied: row.occupied,
    occupiedHigh: row.occupied_high,
    result: row.result,
    description: row.description,
  };
}
