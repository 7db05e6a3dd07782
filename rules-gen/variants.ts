/**
 * A policy with overrides becomes one alerting rule per variant: each override applies to the series
 * its label regex matches (the first matching override wins), and the base settings to every series
 * no override matches. Exemptions remove series from every variant. Which variant a series falls in
 * is defined once, in src/config/policy-match.ts; the matchers here say the same in PromQL.
 */
import type { Exempt, PolicyAction, Severity } from '../src/config/policy-fields.js';
import { exemptionsOf, fullMatch, overrideKeyOf } from '../src/config/policy-match.js';
import type { Matcher } from './promql.js';

export interface OverrideLike<T> {
  vc?: string;
  priority?: string;
  cluster?: string;
  threshold?: T;
  for?: string;
  severity?: Severity;
  action?: PolicyAction;
}

export interface PolicyLike<T> {
  for: string;
  severity: Severity;
  threshold?: T;
  action?: PolicyAction;
  exempt?: Exempt;
  overrides?: readonly OverrideLike<T>[];
}

export interface Variant<T> {
  /** Matchers to put on the policy's main series. */
  matchers: Matcher[];
  threshold: T;
  for: string;
  severity: Severity;
  action?: PolicyAction;
  /** Words for the description, e.g. ` (override for priority "oppo")`; empty for the base. */
  scope: string;
  /**
   * `override` label of an override's rule, e.g. `priority=~"oppo"`: rules with one alert name must
   * differ in their labels (promtool flags duplicates), and the label tells on-call which limit applied.
   */
  labels: Record<string, string>;
}

/** Matchers that leave out exempt jobs (one per regex; all must hold). */
export function exemptMatchers(exempt: Exempt | undefined): Matcher[] {
  return exemptionsOf(exempt).map(({ label, pattern }): Matcher => ({ label, op: '!~', value: pattern }));
}

export function variantsOf<T>(policy: PolicyLike<T> & { threshold: T }): Variant<T>[];
export function variantsOf(policy: PolicyLike<undefined>): Variant<undefined>[];
export function variantsOf<T>(policy: PolicyLike<T>): Variant<T | undefined>[] {
  const exempt = exemptMatchers(policy.exempt);
  const overrides = policy.overrides ?? [];
  const excluded = (upTo: number): Matcher[] =>
    overrides.slice(0, upTo).map((o) => {
      const key = overrideKeyOf(o);
      return { label: key, op: '!~', value: o[key] ?? '' };
    });
  const variants = overrides.map((o, i): Variant<T | undefined> => {
    const key = overrideKeyOf(o);
    return {
      matchers: [{ label: key, op: '=~', value: o[key] ?? '' }, ...excluded(i), ...exempt],
      threshold: o.threshold ?? policy.threshold,
      for: o.for ?? policy.for,
      severity: o.severity ?? policy.severity,
      ...((o.action ?? policy.action) ? { action: o.action ?? policy.action } : {}),
      scope: ` (override for ${key} "${o[key] ?? ''}")`,
      labels: { override: `${key}=~${JSON.stringify(o[key] ?? '')}` },
    };
  });
  const base: Variant<T | undefined> = {
    matchers: [...excluded(overrides.length), ...exempt],
    threshold: policy.threshold,
    for: policy.for,
    severity: policy.severity,
    ...(policy.action ? { action: policy.action } : {}),
    scope: '',
    labels: {},
  };
  return [base, ...variants];
}

/** Whether `value` satisfies the matcher the way Prometheus evaluates it (regexes match the whole value). */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return fullMatch(m.value, value);
    case '!~':
      return !fullMatch(m.value, value);
  }
}

/**
 * Concrete label values that satisfy every matcher, for generated tests: per label, the first
 * candidate that fits (override and exemption values that are plain words come first). Undefined when
 * some label has no fitting candidate; that variant then gets no generated test.
 */
export function pickLabels(matchers: readonly Matcher[], candidates: Readonly<Record<string, readonly string[]>>): Record<string, string> | undefined {
  const picked: Record<string, string> = {};
  for (const [label, pool] of Object.entries(candidates)) {
    const own = matchers.filter((m) => m.label === label);
    const extra = own.filter((m) => m.op === '=~' || m.op === '=').flatMap((m) => literalAlternatives(m.value));
    const value = [...extra, ...pool].find((v) => own.every((m) => matches(m, v)));
    if (value === undefined) return undefined;
    picked[label] = value;
  }
  return picked;
}

/**
 * Values a simple regex surely matches, for test labels: each alternative with `.*` / `.+` filled
 * in (`nlp|cv` → nlp, cv; `.*~interactive-.*` → x~interactive-x). Candidates are checked with the
 * real matcher before use, so a wrong guess only means a candidate is skipped.
 */
export function literalAlternatives(regex: string): string[] {
  return regex
    .split('|')
    .map((part) =>
      part
        .replace(/^\^|\$$/g, '')
        .replace(/\.[*+]/g, 'x')
        .replace(/\\\./g, '.'),
    )
    .filter((part) => /^[A-Za-z0-9_~.-]+$/.test(part));
}
