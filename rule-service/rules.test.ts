import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseComparison } from './comparison.js';
import { holdingsOf, type Priority } from './priority.js';
import { patternSource } from './rule.js';
import { parseRuleFile, withMatchingOrderIds } from './rule-file.js';
import { compileRuleSet, decide, EMPTY_RULE_SET, type Decision } from './rules.js';

const SEED_FILE = fileURLToPath(new URL('../examples/rules.yaml', import.meta.url));
const seed = compileRuleSet(withMatchingOrderIds(parseRuleFile(readFileSync(SEED_FILE, 'utf8'), SEED_FILE, 'yaml')));

const ORDINARY = 'ordinary users may only submit oppo jobs';
const OVER_20 = 'more than 20 GPUs will fail';

function check(user: string, priority: Priority, gpus: number, held: Partial<Record<Priority, number>> = {}, vc = 'default'): Decision {
  return decide(seed, { user, vc, priority, gpus, held: holdingsOf(held) });
}

describe('the seed table (DESIGN §6)', () => {
  it('has the twelve rules, the top row with the highest id', () => {
    expect(seed.rules.map((r) => r.id)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(seed.rules[0]?.user?.source).toBe('^fa_test$');
    expect(seed.usesHoldings).toBe(true);
  });

  describe('ordinary users run only oppo, up to 20 GPUs in all', () => {
    it('lowers a prod job to oppo and tells why', () => {
      expect(check('alice', 'prod', 4)).toEqual({ result: 'oppo', priority: 'oppo', reasons: [ORDINARY], matched: [4, 2], ignored: [] });
    });

    it('lowers test and default jobs the same way', () => {
      expect(check('alice', 'test', 1)).toMatchObject({ result: 'oppo', priority: 'oppo', matched: [4, 2] });
      expect(check('alice', 'default', 1)).toMatchObject({ result: 'oppo', priority: 'oppo', matched: [4, 2] });
    });

    it('keeps an oppo job as submitted while the total stays at 20', () => {
      expect(check('alice', 'oppo', 20)).toEqual({ result: 'retain', priority: 'oppo', reasons: [], matched: [2], ignored: [] });
      expect(check('alice', 'oppo', 4, { oppo: 16 })).toEqual({ result: 'retain', priority: 'oppo', reasons: [], matched: [2], ignored: [] });
    });

    it('rejects the 21st oppo GPU, counting what the user already holds', () => {
      expect(check('alice', 'oppo', 21)).toEqual({ result: 'fail', priority: 'oppo', reasons: [OVER_20], matched: [3], ignored: [] });
      expect(check('alice', 'oppo', 5, { oppo: 16 })).toEqual({ result: 'fail', priority: 'oppo', reasons: [OVER_20], matched: [3], ignored: [] });
    });

    it('goes on after the downgrade and lists both reasons, in order, when it then fails', () => {
      expect(check('alice', 'prod', 21)).toEqual({ result: 'fail', priority: 'oppo', reasons: [ORDINARY, OVER_20], matched: [4, 3], ignored: [] });
      expect(check('alice', 'test', 2, { oppo: 19 })).toEqual({ result: 'fail', priority: 'oppo', reasons: [ORDINARY, OVER_20], matched: [4, 3], ignored: [] });
    });

    it('counts only the GPUs held at the priority the job has at that rule', () => {
      // 12 GPUs in older prod jobs do not count against the oppo cap.
      expect(check('alice', 'oppo', 20, { prod: 12 })).toMatchObject({ result: 'retain', matched: [2] });
    });

    it('keeps a zero-GPU oppo job (the last rule)', () => {
      expect(check('alice', 'oppo', 0)).toEqual({ result: 'retain', priority: 'oppo', reasons: [], matched: [1], ignored: [] });
    });
  });

  describe('fa* users run up to 2 GPUs above oppo', () => {
    it('keeps up to 2 high-priority GPUs', () => {
      expect(check('fa_bob', 'prod', 2)).toEqual({ result: 'retain', priority: 'prod', reasons: [], matched: [5], ignored: [] });
      expect(check('fa_bob', 'test', 1, { prod: 1 })).toEqual({ result: 'retain', priority: 'test', reasons: [], matched: [5], ignored: [] });
    });

    it('turns more into oppo and goes on matching with the lowered priority', () => {
      expect(check('fa_bob', 'prod', 3)).toEqual({ result: 'oppo', priority: 'oppo', reasons: [], matched: [6, 2], ignored: [] });
      expect(check('fa_bob', 'test', 1, { prod: 1, test: 1 })).toEqual({ result: 'oppo', priority: 'oppo', reasons: [], matched: [6, 2], ignored: [] });
    });

    it('caps their oppo GPUs at 20, also after a downgrade', () => {
      expect(check('fa_bob', 'oppo', 21)).toEqual({ result: 'fail', priority: 'oppo', reasons: [OVER_20], matched: [3], ignored: [] });
      expect(check('fa_bob', 'prod', 3, { oppo: 18 })).toEqual({ result: 'fail', priority: 'oppo', reasons: [OVER_20], matched: [6, 3], ignored: [] });
    });
  });

  describe('fa_test2 holds up to 4 high-priority and 30 oppo GPUs at once', () => {
    it('keeps 4 high-priority GPUs', () => {
      expect(check('fa_test2', 'prod', 4)).toEqual({ result: 'retain', priority: 'prod', reasons: [], matched: [10], ignored: [] });
      expect(check('fa_test2', 'prod', 1, { test: 3, oppo: 30 })).toMatchObject({ result: 'retain', matched: [10] });
    });

    it('keeps 30 oppo GPUs next to 4 high-priority ones', () => {
      expect(check('fa_test2', 'oppo', 4, { prod: 4, oppo: 26 })).toEqual({ result: 'retain', priority: 'oppo', reasons: [], matched: [8], ignored: [] });
    });

    it('lowers the 5th high-priority GPU to oppo', () => {
      expect(check('fa_test2', 'test', 1, { prod: 4 })).toEqual({ result: 'oppo', priority: 'oppo', reasons: [], matched: [11, 8], ignored: [] });
    });

    it('rejects the 31st oppo GPU, also when it arrives by a downgrade', () => {
      expect(check('fa_test2', 'oppo', 1, { oppo: 30 })).toEqual({ result: 'fail', priority: 'oppo', reasons: [], matched: [9], ignored: [] });
      expect(check('fa_test2', 'prod', 5, { oppo: 26 })).toEqual({ result: 'fail', priority: 'oppo', reasons: [], matched: [11, 9], ignored: [] });
    });

    it('is not caught by the general fa* rules', () => {
      expect(check('fa_test2', 'prod', 3).matched).not.toContain(6);
    });
  });

  it('user_proh can submit nothing', () => {
    for (const priority of ['prod', 'test', 'default', 'oppo'] as const) {
      expect(check('user_proh', priority, 0)).toEqual({ result: 'fail', priority, reasons: [], matched: [7], ignored: [] });
    }
    expect(check('user_proh', 'oppo', 1)).toMatchObject({ result: 'fail' });
  });

  it('fa_test is unrestricted', () => {
    expect(check('fa_test', 'prod', 512, { prod: 64, oppo: 300 })).toEqual({ result: 'retain', priority: 'prod', reasons: [], matched: [12], ignored: [] });
    expect(check('fa_test', 'oppo', 512, { oppo: 300 })).toEqual({ result: 'retain', priority: 'oppo', reasons: [], matched: [12], ignored: [] });
  });
});

describe('decide', () => {
  const rules = (list: Partial<Record<string, string>>[]) =>
    compileRuleSet(
      list.map((r, i) => ({
        user: '',
        vc: '',
        priority: '',
        requested: '',
        occupied: '',
        occupiedHigh: '',
        result: 'retain',
        description: '',
        ...r,
        id: list.length - i,
      })),
    );

  it('keeps every job as submitted when there are no rules', () => {
    expect(decide(EMPTY_RULE_SET, { user: 'a', vc: 'v', priority: 'prod', gpus: 8, held: holdingsOf({}) })).toEqual({
      result: 'retain',
      priority: 'prod',
      reasons: [],
      matched: [],
      ignored: [],
    });
  });

  it('keeps the lowered priority when the rules run out', () => {
    const set = rules([{ priority: 'prod', result: 'test', description: 'no prod here' }]);
    expect(decide(set, { user: 'a', vc: 'v', priority: 'prod', gpus: 1, held: holdingsOf({}) })).toEqual({
      result: 'test',
      priority: 'test',
      reasons: ['no prod here'],
      matched: [1],
      ignored: [],
    });
  });

  it('matches the VC and the requested GPUs', () => {
    const set = rules([{ vc: '^nlp$', requested: '>= 8', result: 'fail', description: 'nlp: at most 7 GPUs per job' }]);
    const job = { user: 'a', priority: 'oppo' as const, held: holdingsOf({}) };
    expect(decide(set, { ...job, vc: 'nlp', gpus: 8 }).result).toBe('fail');
    expect(decide(set, { ...job, vc: 'nlp', gpus: 7 }).result).toBe('retain');
    expect(decide(set, { ...job, vc: 'nlp2', gpus: 8 }).result).toBe('retain');
  });

  it('counts test and default holdings as one level', () => {
    const set = rules([{ priority: 'test/default', occupied: '4', result: 'fail' }]);
    const job = { user: 'a', vc: 'v', priority: 'test' as const, gpus: 1 };
    expect(decide(set, { ...job, held: holdingsOf({ test: 2, default: 2 }) }).result).toBe('fail');
    expect(decide(set, { ...job, held: holdingsOf({ test: 2, default: 1, prod: 5 }) }).result).toBe('retain');
  });

  it('adds the requested GPUs to occupiedHigh whatever the job priority', () => {
    const set = rules([{ occupiedHigh: '== 5', result: 'fail' }]);
    expect(decide(set, { user: 'a', vc: 'v', priority: 'oppo', gpus: 2, held: holdingsOf({ prod: 1, test: 1, default: 1, oppo: 9 }) }).result).toBe('fail');
  });
});

describe('comparisons and patterns', () => {
  it('parses OP N, with a bare N meaning > N', () => {
    expect(parseComparison('20')).toEqual({ op: '>', value: 20 });
    expect(parseComparison(' >= 4 ')).toEqual({ op: '>=', value: 4 });
    expect(parseComparison('<0.5')).toBeUndefined();
    expect(parseComparison('2.5')).toBeUndefined();
    for (const op of ['>', '>=', '<', '<=', '==', '!=']) expect(parseComparison(`${op} 3`)?.op).toBe(op);
    expect(parseComparison('=> 3')).toBeUndefined();
    expect(parseComparison('-1')).toBeUndefined();
    expect(parseComparison('many')).toBeUndefined();
  });

  it('reads a/b/c as ^(a|b|c)$ and leaves other patterns alone', () => {
    expect(patternSource('prod/test/default')).toBe('^(prod|test|default)$');
    expect(patternSource('^fa.*')).toBe('^fa.*');
    expect(patternSource('a\\/b')).toBe('a\\/b');
    expect(patternSource('x\\/y/z')).toBe('^(x\\/y|z)$');
  });
});
