/**
 * The admission rule engine (DESIGN §6), pure: rules and a job in, a decision out.
 *
 * Rules are walked from the highest id to the lowest. A rule matches when every non-empty field
 * matches, its priority field tested against the job's priority as it stands at that rule. A
 * priority result lowers the priority and the walk goes on; `retain` stops there; `fail` stops and
 * rejects. Running out of rules keeps the current priority. A matching rule whose result would
 * raise the priority is ignored (and reported): rules only ever move a job down.
 */
import { compare } from './comparison.js';
import { heldAboveOppo, heldAtLevel, isPriority, PRIORITY_RANK, type Holdings, type Priority } from './priority.js';
import { compileRule, type CompiledRule, type Rule, type RuleResult } from './rule.js';

export interface AdmissionInput {
  user: string;
  vc: string;
  /** The priority the job was submitted with. */
  priority: Priority;
  /** GPUs the job asks for. */
  gpus: number;
  /** GPUs the user holds now in running or waiting jobs, per priority. */
  held: Holdings;
}

export interface Decision {
  /** `fail`; `retain` when the final priority is the submitted one; else the final priority. */
  result: RuleResult;
  /** The priority the job runs with (the submitted one on `fail`, as it stood when rejected). */
  priority: Priority;
  /** Non-empty descriptions of the matched rules, in matching order. */
  reasons: string[];
  /** Ids of the matched rules, in matching order. */
  matched: number[];
  /** Rules that matched but were ignored because their result would have raised the priority. */
  ignored: number[];
}

/** Rules compiled and sorted in matching order (highest id first). */
export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  /** Whether any rule looks at holdings (if none does, nobody needs to ask rest-server). */
  readonly usesHoldings: boolean;
}

export const EMPTY_RULE_SET: RuleSet = { rules: [], usesHoldings: false };

export function compileRuleSet(rules: readonly Rule[], patternCache = new Map<string, RegExp>()): RuleSet {
  const compiled = [...rules].sort((a, b) => b.id - a.id).map((r) => compileRule(r, patternCache));
  return { rules: compiled, usesHoldings: compiled.some((r) => r.occupied !== undefined || r.occupiedHigh !== undefined) };
}

export function decide(ruleSet: RuleSet, job: AdmissionInput): Decision {
  let priority = job.priority;
  const reasons: string[] = [];
  const matched: number[] = [];
  const ignored: number[] = [];
  const occupiedHigh = heldAboveOppo(job.held) + job.gpus;
  for (const rule of ruleSet.rules) {
    if (!matches(rule, job, priority, occupiedHigh)) continue;
    // Rules only ever move a job down: one that would raise it is a broken rule, not a decision.
    if (isPriority(rule.result) && PRIORITY_RANK[rule.result] > PRIORITY_RANK[priority]) {
      ignored.push(rule.id);
      continue;
    }
    matched.push(rule.id);
    if (rule.description !== '') reasons.push(rule.description);
    if (rule.result === 'fail') return { result: 'fail', priority, reasons, matched, ignored };
    if (rule.result === 'retain') break;
    priority = rule.result;
  }
  return { result: priority === job.priority ? 'retain' : priority, priority, reasons, matched, ignored };
}

function matches(rule: CompiledRule, job: AdmissionInput, priority: Priority, occupiedHigh: number): boolean {
  if (!rule.priorities[priority]) return false;
  if (rule.user && !rule.user.test(job.user)) return false;
  if (rule.vc && !rule.vc.test(job.vc)) return false;
  if (rule.requested && !compare(job.gpus, rule.requested)) return false;
  if (rule.occupied && !compare(heldAtLevel(job.held, priority) + job.gpus, rule.occupied)) return false;
  if (rule.occupiedHigh && !compare(occupiedHigh, rule.occupiedHigh)) return false;
  return true;
}
