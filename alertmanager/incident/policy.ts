/**
 * The escalation policy of one incident, frozen when it opens: a config change (a new SLA table,
 * other escalation contacts, new working hours) applies to incidents opened after it, never to an
 * incident half-way through its escalation.
 */
import type { ClusterPriority, WorkingHoursConfig } from '../config.js';
import { slaFor, type SlaRow, type SlaTerms } from '../schedule/sla.js';
import { WorkingHours } from '../schedule/working-hours.js';

export interface EscalationTier {
  name: 'second-line' | 'third-line';
  emails: string[];
}

export interface EscalationPolicy {
  clusterPriority: ClusterPriority;
  sla: SlaRow[];
  workingHours: WorkingHoursConfig;
  /** Paged in order, one per missed acknowledgement deadline. */
  tiers: EscalationTier[];
}

export interface PolicySource {
  sla: readonly SlaRow[];
  workingHours: WorkingHoursConfig;
  escalation: { secondLine: readonly string[]; thirdLine: readonly string[] };
}

export function freezePolicy(source: PolicySource, clusterPriority: ClusterPriority): EscalationPolicy {
  return structuredClone({
    clusterPriority,
    sla: [...source.sla],
    workingHours: source.workingHours,
    tiers: [
      { name: 'second-line', emails: [...source.escalation.secondLine] },
      { name: 'third-line', emails: [...source.escalation.thirdLine] },
    ],
  });
}

export function termsOf(policy: EscalationPolicy, severity: number): SlaTerms {
  return slaFor(policy.sla, severity, policy.clusterPriority);
}

/** When an incident of this severity, (re)paged at `from`, must be acknowledged. */
export function acknowledgeDeadline(policy: EscalationPolicy, severity: number, from: number): number {
  const terms = termsOf(policy, severity);
  return new WorkingHours(policy.workingHours).addTime(from, terms.acknowledgeMs, terms.hours);
}

/** When the next update is due, counting from the last one (or the acknowledgement). */
export function updateDeadline(policy: EscalationPolicy, severity: number, from: number): number {
  const terms = termsOf(policy, severity);
  return new WorkingHours(policy.workingHours).addTime(from, terms.updateMs, terms.hours);
}

/**
 * What happens when acknowledgement deadline number `missed` (0 = the first) passes: the tier to
 * page, and whether another deadline follows. Past the last tier nothing more is sent.
 */
export function escalationStep(policy: EscalationPolicy, missed: number): { tier: EscalationTier; last: boolean } | undefined {
  const tier = policy.tiers[missed];
  if (!tier) return undefined;
  return { tier, last: missed >= policy.tiers.length - 1 };
}
