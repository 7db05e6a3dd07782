/**
 * How a policy's exemptions and overrides apply to one series' labels — the one definition both the
 * generator (which turns them into matchers, rules-gen/variants.ts) and the rule service (which
 * checks a job's labels before it acts, rule-service/runtime-check.ts) use:
 * - regexes match the whole label value, as in Prometheus; a missing label is "";
 * - a series matching any exemption is out of the policy;
 * - otherwise the first override whose label regex matches applies, else the base settings.
 */
import { JOB_OVERRIDE_KEYS, type Exempt, type OverrideKey } from './policy-fields.js';

export type OverrideSelector = Partial<Record<OverrideKey, string>>;

/** The label an override selects on (the schema allows exactly one). */
export function overrideKeyOf(o: OverrideSelector): OverrideKey {
  const key = JOB_OVERRIDE_KEYS.find((k) => o[k] !== undefined);
  if (key === undefined) throw new Error('override without vc, priority or cluster');
  return key;
}

/** The exemptions as (label, regex) pairs. */
export function exemptionsOf(exempt: Exempt | undefined): { label: 'user' | 'vc' | 'job'; pattern: string }[] {
  if (!exempt) return [];
  return [
    ...exempt.users.map((pattern) => ({ label: 'user' as const, pattern })),
    ...exempt.vcs.map((pattern) => ({ label: 'vc' as const, pattern })),
    ...exempt.jobs.map((pattern) => ({ label: 'job' as const, pattern })),
  ];
}

/** Whether the whole value matches, as Prometheus matches label regexes (a missing label is ""). */
export function fullMatch(pattern: string, value: string | undefined): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value ?? '');
}

export function isExempt(exempt: Exempt | undefined, labels: Readonly<Record<string, string>>): boolean {
  return exemptionsOf(exempt).some((e) => fullMatch(e.pattern, labels[e.label]));
}

/** The index of the override that applies to the labels (the first that matches), or -1: the base settings. */
export function applicableOverride(overrides: readonly OverrideSelector[], labels: Readonly<Record<string, string>>): number {
  return overrides.findIndex((o) => {
    const key = overrideKeyOf(o);
    return fullMatch(o[key] ?? '', labels[key]);
  });
}
