/**
 * One admission rule (DESIGN §6): what it matches, what it does, and the checks it must pass before
 * it is saved. Empty fields match everything.
 */
import { parseComparison, type Comparison } from './comparison.js';
import { isPriority, PRIORITIES, PRIORITY_RANK, type Priority } from './priority.js';
import { compilePattern, regexProblem } from './pattern.js';

export const RULE_FIELDS = ['user', 'vc', 'priority', 'requested', 'occupied', 'occupiedHigh', 'result', 'description'] as const;
export type RuleField = (typeof RULE_FIELDS)[number];
export type RuleFields = Record<RuleField, string>;

export interface Rule extends RuleFields {
  id: number;
}

export const PATTERN_FIELDS = ['user', 'vc', 'priority'] as const satisfies readonly RuleField[];
export const COMPARISON_FIELDS = ['requested', 'occupied', 'occupiedHigh'] as const satisfies readonly RuleField[];

export type RuleResult = 'retain' | 'fail' | Priority;

/** Longest description a rule may have: it is shown to users, and must fit any SQL text column. */
export const MAX_DESCRIPTION_LENGTH = 2_000;

export interface RuleProblem {
  field: RuleField;
  message: string;
}

/** Trimmed fields with every key present; an empty result means `retain`. */
export function normalizeRule(input: Partial<Record<RuleField, string | number | null | undefined>>): RuleFields {
  const out = {} as RuleFields;
  for (const field of RULE_FIELDS) {
    const value = input[field];
    out[field] = value === null || value === undefined ? '' : String(value).trim();
  }
  if (out.result === '') out.result = 'retain';
  return out;
}

/**
 * The regular expression a pattern field stands for. `a/b/c` is shorthand for `^(a|b|c)$`
 * (each part is itself a pattern; write `\/` for a literal slash); anything else is used as is.
 */
export function patternSource(field: string): string {
  const parts = shorthandParts(field);
  return parts.length === 1 ? field : `^(${parts.join('|')})$`;
}

/** The field split at every unescaped `/` (one part when there is none). */
function shorthandParts(field: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === '\\' && i + 1 < field.length) {
      current += c + field[i + 1];
      i++;
    } else if (c === '/') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

/** Every reason the rule cannot be saved (empty when it is valid). Expects normalized fields. */
export function ruleProblems(rule: RuleFields): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const patterns = new Map<RuleField, RegExp>();
  for (const field of PATTERN_FIELDS) {
    const text = rule[field];
    if (text === '') continue;
    const problem = patternProblem(text);
    if (problem) problems.push({ field, message: problem });
    else patterns.set(field, compilePattern(patternSource(text)));
  }
  for (const field of COMPARISON_FIELDS) {
    if (rule[field] !== '' && parseComparison(rule[field]) === undefined) {
      problems.push({
        field,
        message: `not a comparison ("${rule[field]}"); use OP N with OP one of > >= < <= == != and N a whole number of GPUs, or a bare N meaning > N`,
      });
    }
  }
  if (rule.description.length > MAX_DESCRIPTION_LENGTH) {
    problems.push({ field: 'description', message: `longer than ${MAX_DESCRIPTION_LENGTH} characters (${rule.description.length})` });
  }
  const result = rule.result;
  if (result !== 'retain' && result !== 'fail' && !isPriority(result)) {
    problems.push({ field: 'result', message: `unknown result "${result}"; use retain, fail or a priority (${PRIORITIES.join(', ')})` });
  }
  const priorityPattern = patterns.get('priority');
  if (rule.priority === '' || priorityPattern) {
    const matchable = PRIORITIES.filter((p) => priorityPattern?.test(p) ?? true);
    if (matchable.length === 0) {
      problems.push({
        field: 'priority',
        message: `"${rule.priority}" matches none of the priorities (${PRIORITIES.join(', ')}), so the rule could never match`,
      });
    } else if (isPriority(result)) {
      const raised = matchable.filter((p) => PRIORITY_RANK[result] > PRIORITY_RANK[p]);
      if (raised.length > 0) {
        problems.push({
          field: 'result',
          message: `"${result}" would raise the priority of ${raised.join('/')} jobs this rule matches; rules may only lower priority`,
        });
      }
    }
  }
  return problems;
}

/** Why a pattern field cannot be saved (syntax, empty alternative, length, needs backtracking), or undefined. */
export function patternProblem(text: string): string | undefined {
  const parts = shorthandParts(text);
  if (parts.length > 1 && parts.includes('')) return `"${text}" has an empty alternative in its a/b/c list`;
  const problem = regexProblem(patternSource(text));
  return problem === undefined ? undefined : `"${text}": ${problem}`;
}

/** A rule ready to evaluate: patterns compiled, comparisons parsed. */
export interface CompiledRule {
  id: number;
  user: RegExp | undefined;
  vc: RegExp | undefined;
  /** Which of the four priorities the priority field matches (all when empty). */
  priorities: Readonly<Record<Priority, boolean>>;
  requested: Comparison | undefined;
  occupied: Comparison | undefined;
  occupiedHigh: Comparison | undefined;
  result: RuleResult;
  description: string;
}

/** Compiles a rule that passed `ruleProblems`; throws on one that did not. */
export function compileRule(rule: Rule, patternCache = new Map<string, RegExp>()): CompiledRule {
  const pattern = (text: string): RegExp | undefined => {
    if (text === '') return undefined;
    const source = patternSource(text);
    let re = patternCache.get(source);
    if (!re) {
      re = compilePattern(source);
      patternCache.set(source, re);
    }
    return re;
  };
  const comparison = (field: RuleField): Comparison | undefined => {
    if (rule[field] === '') return undefined;
    const parsed = parseComparison(rule[field]);
    if (!parsed) throw new Error(`rule ${rule.id}: ${field}: not a comparison ("${rule[field]}")`);
    return parsed;
  };
  const result = rule.result === '' ? 'retain' : rule.result;
  if (result !== 'retain' && result !== 'fail' && !isPriority(result)) throw new Error(`rule ${rule.id}: unknown result "${result}"`);
  const priorityPattern = pattern(rule.priority);
  return {
    id: rule.id,
    user: pattern(rule.user),
    vc: pattern(rule.vc),
    priorities: {
      prod: test(priorityPattern, 'prod'),
      test: test(priorityPattern, 'test'),
      default: test(priorityPattern, 'default'),
      oppo: test(priorityPattern, 'oppo'),
    },
    requested: comparison('requested'),
    occupied: comparison('occupied'),
    occupiedHigh: comparison('occupiedHigh'),
    result,
    description: rule.description,
  };
}

function test(re: RegExp | undefined, value: string): boolean {
  return re === undefined || re.test(value);
}
