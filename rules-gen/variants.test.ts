import { describe, expect, it } from 'vitest';
import { applicableOverride, isExempt } from '../src/config/policy-match.js';
import { matches, variantsOf, type PolicyLike } from './variants.js';

const POLICY: PolicyLike<number> & { threshold: number } = {
  for: '30m',
  severity: 2,
  threshold: 0.1,
  exempt: { users: ['admin'], vcs: [], jobs: ['.*~interactive-.*'] },
  overrides: [
    { vc: 'nlp.*', threshold: 0.05 },
    { priority: 'oppo', threshold: 0.2 },
    { vc: 'nlp-large', threshold: 0.5 }, // shadowed by the first: never applies
    { cluster: 'lab|edge', threshold: 0.3 },
  ],
};

const VALUES = {
  user: ['alice', 'admin', ''],
  job: ['alice~train', 'alice~interactive-1', ''],
  vc: ['nlp', 'nlp-large', 'cv', ''],
  priority: ['oppo', 'prod', ''],
  cluster: ['lab', 'edge', 'main', ''],
};

/** Every combination of the label values above (a missing label is the empty value). */
function* labelSets(): Generator<Record<string, string>> {
  for (const user of VALUES.user)
    for (const job of VALUES.job)
      for (const vc of VALUES.vc) for (const priority of VALUES.priority) for (const cluster of VALUES.cluster) yield { user, job, vc, priority, cluster };
}

describe('the generated variants and the shared precedence (src/config/policy-match.ts)', () => {
  it('put every series in exactly the variant the rule service picks, and exempt series in none', () => {
    const variants = variantsOf(POLICY);
    let checked = 0;
    for (const labels of labelSets()) {
      const selected = variants.flatMap((v, i) => (v.matchers.every((m) => matches(m, labels[m.label] ?? '')) ? [i] : []));
      // variantsOf puts the base first, then one variant per override.
      const expected = isExempt(POLICY.exempt, labels) ? [] : [applicableOverride(POLICY.overrides ?? [], labels) + 1];
      expect(selected, JSON.stringify(labels)).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(3 * 3 * 4 * 3 * 4);
  });

  it('lets the first matching override win', () => {
    expect(applicableOverride(POLICY.overrides ?? [], { vc: 'nlp-large', priority: 'oppo' })).toBe(0);
    expect(applicableOverride(POLICY.overrides ?? [], { vc: 'cv', priority: 'oppo', cluster: 'lab' })).toBe(1);
    expect(applicableOverride(POLICY.overrides ?? [], { vc: 'cv', priority: 'prod', cluster: 'edge' })).toBe(3);
    expect(applicableOverride(POLICY.overrides ?? [], { vc: 'xnlp', cluster: 'lab-2' })).toBe(-1);
  });
});
