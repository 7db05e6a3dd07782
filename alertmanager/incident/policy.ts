/**
 * The escalation policy of one incident, frozen when it opens: a config change (a new SLA table,
 * other escalation contacts, new working hours) applies to incidents opened after it, never to an
 * incident half-way through its escalation.
 */
import type { ClusterPriority, WorkingHoursConfig } from '../../src/config/router.js';
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
  /** How many times the tiers start over after the last one (absent in policies frozen before it existed: 0). */
  repeat?: number;
}

export interface PolicySource {
  sla: readonly SlaRow[];
  workingHours: WorkingHoursConfig;
  escalation: { secondLine: readonly string[]; thirdLine: readonly string[]; repeat: number };
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
    repeat: source.escalation.repeat,
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
 * page, which round through the tiers this is (0 = the first), and whether another deadline
 * follows. After the last tier the tiers start over `repeat` times; then nothing more is sent.
 */
export function escalationStep(policy: EscalationPolicy, missed: number): { tier: EscalationTier; round: number; last: boolean } | undefined {
  const count = policy.tiers.length;
  const steps = count * ((policy.repeat ?? 0) + 1);
  if (count === 0 || missed >= steps) return undefined;
  return { tier: policy.tiers[missed % count] as EscalationTier, round: Math.floor(missed / count), last: missed >= steps - 1 };
}
