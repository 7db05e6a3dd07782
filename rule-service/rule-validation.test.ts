import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../src/config/yaml-file.js';
import { MAX_MATCHED_LENGTH, MAX_PATTERN_LENGTH } from './pattern.js';
import { compileRule, normalizeRule, ruleProblems, type RuleFields } from './rule.js';
import { formatRulesCsv, formatRulesYaml, parseRuleFile, parseRulesCsv } from './rule-file.js';

const rule = (fields: Partial<RuleFields>): RuleFields => normalizeRule(fields);

/** A name of the longest length admission accepts, made to make a backtracking pattern fail slowly. */
const adversarial = (unit: string) => unit.repeat(MAX_MATCHED_LENGTH).slice(0, MAX_MATCHED_LENGTH - 1) + '!';

describe('patterns run in linear time', () => {
  it.each([
    '^(?:foo(-bar)?)+$',
    '[\\w-]+@([\\w-]+\\.)+[\\w-]+$',
    '^fa.*',
    '.*',
    '^(fa|fb)_[a-z]+$',
    '^user\\d+$',
    '^(ab){2,4}$',
    '^(?:team-)?[a-z0-9-]+$',
    '\\bfoo\\b',
    '[^/]+',
    'a{5,}',
  ])('accepts the safe pattern %s', (source) => {
    expect(ruleProblems(rule({ user: source }))).toEqual([]);
  });

  it.each([
    ['(a+)+$', 'a'],
    ['(.*)*x', 'a'],
    ['(a|a)*$', 'a'],
    ['(a|ab)*c', 'ab'],
    ['^(\\w+\\s?)+$', 'a'],
    ['(a?)*b', 'a'],
    ['([a-z]+\\d*)+!$', 'a1'],
    ['\\w*\\w*\\w*x', 'a'],
    ['\\w*\\w*\\w*\\w*\\w*\\w*\\w*x', 'a'],
  ])('accepts %s and runs it on a %s-filled name of the longest length without stalling', (source, unit) => {
    expect(ruleProblems(rule({ user: source }))).toEqual([]);
    const compiled = compileRule({ id: 1, ...rule({ user: source }) });
    // Backtracking needs seconds to years for these (a stall hangs the test); the linear
    // fallback finishes, with the answer V8's linear-time engine gives.
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-time flag, switched on by ./pattern.js
    const linear = new RegExp(source, 'l');
    for (let i = 0; i < 10; i++) expect(compiled.user?.test(adversarial(unit))).toBe(linear.test(adversarial(unit)));
  });

  it.each(['^foo-(?=(a+)+$)', '(?!x)a', '(?<=a)b', '(?<!a)b', '(a)\\1', '(?<n>a)\\k<n>', '^[a-z]{1,100}$'])(
    'refuses %s, which needs a backtracking engine, naming the field',
    (source) => {
      const problems = ruleProblems(rule({ vc: source }));
      expect(problems).toEqual([{ field: 'vc', message: expect.stringMatching(/needs a backtracking engine .*linear time/) }]);
    },
  );

  it('refuses a pattern longer than the engine bound', () => {
    expect(ruleProblems(rule({ user: `^${'a'.repeat(MAX_PATTERN_LENGTH)}$` }))[0]?.message).toMatch(new RegExp(`longer than ${MAX_PATTERN_LENGTH} characters`));
  });

  it('decides by what the pattern is, not by how long it took to run: a busy machine changes nothing', () => {
    // The old timed probe refused patterns under load. Here every clock read is a second later
    // than the one before, as on a machine too busy to run anything in time: the verdicts stay.
    let now = 0;
    const clocks = [vi.spyOn(performance, 'now').mockImplementation(() => (now += 1_000)), vi.spyOn(Date, 'now').mockImplementation(() => (now += 1_000))];
    try {
      expect(ruleProblems(rule({ user: '\\w*\\w*\\w*x' }))).toEqual([]);
      expect(ruleProblems(rule({ user: '(a+)+$' }))).toEqual([]);
      expect(ruleProblems(rule({ user: '(?<=a)\\w*x' }))).toHaveLength(1);
    } finally {
      for (const clock of clocks) clock.mockRestore();
    }
  });
});

describe('other checks when a rule is saved', () => {
  it('refuses patterns that do not compile', () => {
    expect(ruleProblems(rule({ vc: '^(nlp$' }))).toEqual([{ field: 'vc', message: expect.stringMatching(/not a valid regular expression/) }]);
    expect(ruleProblems(rule({ user: 'a//b' }))[0]?.message).toMatch(/empty alternative/);
  });

  it('refuses comparisons that do not parse', () => {
    expect(ruleProblems(rule({ occupied: 'twenty' }))).toEqual([{ field: 'occupied', message: expect.stringMatching(/not a comparison/) }]);
    expect(ruleProblems(rule({ requested: '=> 2' }))[0]?.field).toBe('requested');
    expect(ruleProblems(rule({ occupiedHigh: '>= 2', requested: '!= 0', occupied: '30' }))).toEqual([]);
  });

  it('refuses unknown results', () => {
    expect(ruleProblems(rule({ result: 'urgent' }))[0]).toEqual({ field: 'result', message: expect.stringMatching(/unknown result "urgent"/) });
  });

  it('refuses a result that would raise the priority of any job the rule can match', () => {
    expect(ruleProblems(rule({ priority: 'oppo', result: 'prod' }))[0]?.message).toMatch(/raise the priority of oppo jobs/);
    expect(ruleProblems(rule({ priority: 'test/default', result: 'prod' }))[0]?.message).toMatch(/test\/default/);
    // An empty priority field matches oppo jobs too: only oppo (or retain/fail) is allowed.
    expect(ruleProblems(rule({ result: 'test' }))[0]?.message).toMatch(/raise the priority of oppo jobs/);
    expect(ruleProblems(rule({ priority: '.*', result: 'default' }))).toHaveLength(1);
    expect(ruleProblems(rule({ result: 'oppo' }))).toEqual([]);
    expect(ruleProblems(rule({ priority: 'prod/test/default', result: 'oppo' }))).toEqual([]);
    expect(ruleProblems(rule({ priority: '^prod$', result: 'test' }))).toEqual([]);
    expect(ruleProblems(rule({ priority: 'test', result: 'default' }))).toEqual([]);
  });

  it('refuses a priority pattern that matches no priority', () => {
    expect(ruleProblems(rule({ priority: 'prdo' }))[0]).toEqual({ field: 'priority', message: expect.stringMatching(/matches none of the priorities/) });
  });

  it('treats an empty result as retain', () => {
    expect(rule({ user: '.*' }).result).toBe('retain');
  });
});

describe('rule files', () => {
  const rules = [
    rule({ user: '^fa.*', priority: 'prod/test/default', occupiedHigh: '2', result: 'oppo' }),
    rule({ user: '.*', description: 'a, "quoted"\nreason' }),
  ];

  it('round-trips YAML and CSV', () => {
    expect(parseRuleFile(formatRulesYaml(rules), 'x.yaml', 'yaml')).toEqual(rules);
    expect(parseRulesCsv(formatRulesCsv(rules), 'x.csv')).toEqual(rules);
    expect(formatRulesYaml(rules)).toBe(
      '- user: ^fa.*\n  priority: prod/test/default\n  occupiedHigh: "2"\n  result: oppo\n- user: .*\n  result: retain\n  description: |-\n    a, "quoted"\n    reason\n',
    );
  });

  it('accepts numbers for comparisons', () => {
    expect(parseRuleFile('- occupied: 20\n  result: fail\n', 'r.yaml', 'yaml')[0]?.occupied).toBe('20');
  });

  it('names file, line, column and field for a bad rule', () => {
    const text = '- user: .*\n  result: retain\n- user: ^ok$\n  priority: oppo\n  result: prod\n';
    expect(() => parseRuleFile(text, 'rules.yaml', 'yaml')).toThrow(ConfigError);
    expect(() => parseRuleFile(text, 'rules.yaml', 'yaml')).toThrow(/^rules\.yaml:5:11: 1\.result: "prod" would raise the priority of oppo jobs/);
    expect(() => parseRuleFile('- usr: .*\n', 'rules.yaml', 'yaml')).toThrow(/rules\.yaml:1:3: 0\.usr: unknown key `usr` — did you mean `user`\?/);
  });

  it('names the line of a bad CSV row and refuses unknown columns', () => {
    expect(() => parseRulesCsv('user,result\n.*,retain\n(?=a)b,fail\n', 'r.csv')).toThrow(/^r\.csv:3:1: 1\.user: .*needs a backtracking engine/);
    expect(() => parseRulesCsv('user,colour\n', 'r.csv')).toThrow(/r\.csv:1:2: colour: unknown column/);
    expect(() => parseRulesCsv('user,result\n.*,"retain"x\n', 'r.csv')).toThrow(/^r\.csv:2:2: \(top level\): text after the closing quote/);
  });
});
