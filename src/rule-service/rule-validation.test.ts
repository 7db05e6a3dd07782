import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/yaml-file.js';
import { backtrackingHazard } from './regex-safety.js';
import { probeInputs, slowPatterns } from './regex-probe.js';
import { normalizeRule, ruleProblems, type RuleFields } from './rule.js';
import { formatRulesCsv, formatRulesYaml, parseRuleFile, parseRulesCsv } from './rule-file.js';

const rule = (fields: Partial<RuleFields>): RuleFields => normalizeRule(fields);

describe('refusing patterns that backtrack catastrophically', () => {
  it.each(['(a+)+$', '(a|a)*', '(.*)*', '(a|ab)*c', '^(\\w+\\s?)+$', '(a?)*b', '(a?a)+$', '(x(a|a))*y', '([a-z]+\\d*)+!', '(.*a){12}', '(\\d|\\w)+$'])(
    'refuses %s',
    (source) => {
      expect(backtrackingHazard(source)).toBeDefined();
    },
  );

  it.each(['^fa.*', '.*', '^fa_test2$', '^(fa|fb)_[a-z]+$', '^user\\d+$', '^(prod|test|default)$', '^(a[bc])*$', '^(ab){2,4}$', '(a|b)+$', '[(]a+[)]+', '^(?:team-)?[a-z0-9-]+$', '\\(a+\\)+'])(
    'accepts %s',
    (source) => {
      expect(backtrackingHazard(source)).toBeUndefined();
    },
  );

  it('refuses (a+)+$ when a rule is saved, naming the field', () => {
    const problems = ruleProblems(rule({ user: '(a+)+$', result: 'fail' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.field).toBe('user');
    expect(problems[0]?.message).toMatch(/backtrack catastrophically.*nested quantifiers/);
  });

  it('times out a catastrophic pattern in the probe and lets fast ones through', () => {
    const started = performance.now();
    expect([...slowPatterns(['(a+)+$', '^fa.*', '.*'])]).toEqual(['(a+)+$']);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(slowPatterns(['^fa.*', '^(prod|test)$']).size).toBe(0);
    expect(probeInputs('(ab)+').every((s) => s.length === 128)).toBe(true);
  });

  it('refuses at load time a polynomial blow-up that only the probe catches', () => {
    const slow = '^\\w*\\w*\\w*\\w*\\w*\\w*\\w*x$';
    expect(backtrackingHazard(slow)).toBeUndefined();
    expect(() => parseRuleFile(`- user: '${slow}'\n  result: fail\n`, 'r.yaml', 'yaml')).toThrow(/r\.yaml:1:9: 0\.user: .*too slow/);
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
  const rules = [rule({ user: '^fa.*', priority: 'prod/test/default', occupiedHigh: '2', result: 'oppo' }), rule({ user: '.*', description: 'a, "quoted"\nreason' })];

  it('round-trips YAML and CSV', () => {
    expect(parseRuleFile(formatRulesYaml(rules), 'x.yaml', 'yaml')).toEqual(rules);
    expect(parseRulesCsv(formatRulesCsv(rules), 'x.csv')).toEqual(rules);
    expect(formatRulesYaml(rules)).toBe('- user: ^fa.*\n  priority: prod/test/default\n  occupiedHigh: "2"\n  result: oppo\n- user: .*\n  result: retain\n  description: |-\n    a, "quoted"\n    reason\n');
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
    expect(() => parseRulesCsv('user,result\n.*,retain\n(a+)+$,fail\n', 'r.csv')).toThrow(/^r\.csv:3:1: 1\.user: .*catastrophically/);
    expect(() => parseRulesCsv('user,colour\n', 'r.csv')).toThrow(/r\.csv:1:2: colour: unknown column/);
  });
});
