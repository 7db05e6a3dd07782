/**
 * Job priorities, high to low: prod > test = default > oppo (DESIGN §6). `default` is what OpenPAI
 * lists for a job without a priority class; `test` is what an unset class means at submission.
 */

export const PRIORITIES = ['prod', 'test', 'default', 'oppo'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const PRIORITY_RANK: Readonly<Record<Priority, number>> = { prod: 2, test: 1, default: 1, oppo: 0 };

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}

/** The next lower priority class a job can be resubmitted with, or undefined at the bottom. */
export function lowerPriority(p: Priority): Priority | undefined {
  if (p === 'prod') return 'test';
  if (p === 'test' || p === 'default') return 'oppo';
  return undefined;
}

/** The value to write into `extras.hivedScheduler.jobPriorityClass` (its schema knows prod/test/oppo). */
export function priorityClassFor(p: Priority): 'prod' | 'test' | 'oppo' {
  return p === 'default' ? 'test' : p;
}

/** GPUs a user holds now, per priority. */
export type Holdings = Readonly<Record<Priority, number>>;

export const NO_HOLDINGS: Holdings = { prod: 0, test: 0, default: 0, oppo: 0 };

export function holdingsOf(partial: Partial<Record<Priority, number>>): Holdings {
  return { ...NO_HOLDINGS, ...partial };
}

/** GPUs held at the same level as `p` (test and default are one level). */
export function heldAtLevel(held: Holdings, p: Priority): number {
  return PRIORITIES.filter((q) => PRIORITY_RANK[q] === PRIORITY_RANK[p]).reduce((sum, q) => sum + held[q], 0);
}

/** GPUs held in jobs above oppo. */
export function heldAboveOppo(held: Holdings): number {
  return PRIORITIES.filter((q) => PRIORITY_RANK[q] > PRIORITY_RANK.oppo).reduce((sum, q) => sum + held[q], 0);
}
