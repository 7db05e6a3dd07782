/**
 * The admission-rule proposal (`--propose-rules FILE`, off by default): the recommendations as rules
 * in the rule service's YAML export format, for a person to review and load with
 * `gpuwatch rules import` (or `--append`). Nothing is applied here.
 *
 * Admission rules match users, not job names, so a proposal is one rule per user with recommended
 * recurring jobs: a submission that asks for more GPUs than the most any of the user's recurring
 * jobs was recommended is lowered to oppo (never failed), the description naming the jobs.
 */
import { stringify } from 'yaml';
import type { Recommendation } from './recommend.js';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function proposalRules(recommendations: readonly Recommendation[]): Record<string, string>[] {
  const byUser = new Map<string, Recommendation[]>();
  for (const r of recommendations) {
    if (r.recommendedGpus === undefined || r.recommendedGpus >= r.requestedGpus) continue;
    byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
  }
  return [...byUser.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([user, recs]) => {
      const most = Math.max(...recs.map((r) => r.recommendedGpus ?? 0));
      const jobs = recs.map((r) => `${r.job} ${r.requestedGpus}→${r.recommendedGpus}`).join(', ');
      return {
        user: `^${escapeRegex(user)}$`,
        requested: String(most),
        result: 'oppo',
        description: `rightsize: recurring jobs keep fewer GPUs busy than they request (${jobs}); more than ${most} GPUs runs as oppo`,
      };
    });
}

export function formatProposal(recommendations: readonly Recommendation[], at: string): string {
  const rules = proposalRules(recommendations);
  const header = [
    `# Admission-rule proposal from gpuwatch rightsize (history up to ${at}).`,
    '# Not applied: review it, then put these rules on top of the table with',
    '#   gpuwatch rules import --append THIS_FILE --db <rule store>',
    '# (rules check --rules THIS_FILE ... tries one decision offline first).',
  ].join('\n');
  return `${header}\n${rules.length === 0 ? '[]\n' : stringify(rules, { lineWidth: 0 })}`;
}
