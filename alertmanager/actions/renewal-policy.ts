/**
 * Which policy a job action runs under, and what that policy allows: pure functions over the
 * options and the action's row. `notebook` (config actions.notebooks) for interactive jobs,
 * `default` for every other job.
 */
import type { Selectable } from 'kysely';
import { formatDuration } from '../../src/config/duration.js';
import type { ActionOptions, RenewalPolicy } from '../options.js';
import type { ActionsTable } from '../store/db-schema.js';
import type { JobAction } from './action-kinds.js';

export type ActionRow = Selectable<ActionsTable>;
export type PolicyName = 'default' | 'notebook';

export const actionTimerName = (id: number) => `action:${id}`;
export const reminderTimerName = (id: number) => `remind:${id}`;

export const PAST: Record<JobAction, string> = { kill: 'stopped', downgrade: 'stopped and resubmitted at a lower priority' };

/** A notebook: its job id, its VC or one of its alert's labels matches the notebook rule (every regex anchored). */
export function policyOf(actions: Pick<ActionOptions, 'notebooks'>, labels: Record<string, string>, job: string): PolicyName {
  const rule = actions.notebooks;
  const notebook =
    rule.jobs.some((re) => re.test(job)) ||
    rule.vcs.some((re) => re.test(labels.vc ?? '')) ||
    rule.labels.some(([name, re]) => labels[name] !== undefined && re.test(labels[name] as string));
  return notebook ? 'notebook' : 'default';
}

/** A job or user the config exempts from actions (by its id, its user part, or the owner OpenPAI names). */
export function isExempt(actions: Pick<ActionOptions, 'exemptJobs' | 'exemptUsers'>, row: Pick<ActionRow, 'job' | 'owner'>): boolean {
  const user = row.job.split('~')[0] as string;
  return actions.exemptJobs.includes(row.job) || actions.exemptUsers.includes(user) || actions.exemptUsers.includes(row.owner);
}

export function renewalRules(actions: Pick<ActionOptions, 'renewal' | 'notebooks'>, policy: string): RenewalPolicy {
  return policy === 'notebook' ? actions.notebooks.renewal : actions.renewal;
}

/** What the owner may still do: renewals left, and how much the next renewal adds (0: none). */
export function renewalRoom(rules: RenewalPolicy, row: Pick<ActionRow, 'renewals' | 'renewed_ms'>): { left: number; nextMs: number } {
  const left = Math.max(0, rules.maxRenewals - Number(row.renewals));
  const room = Math.max(0, rules.maxTotalMs - Number(row.renewed_ms));
  return { left: room > 0 ? left : 0, nextMs: left > 0 ? Math.min(rules.extendMs, room) : 0 };
}

/** "2h30m", or "less than a minute": how long until `until`. */
export function timeLeft(until: number, now: number): string {
  const ms = Math.floor((until - now) / 60_000) * 60_000;
  return ms <= 0 ? 'less than a minute' : formatDuration(ms);
}

/** The template data every owner mail of an action carries: what will happen, when, and what the owner may do. */
export function ownerMailData(actions: ActionOptions, row: ActionRow, now: number): Record<string, unknown> {
  const rules = renewalRules(actions, row.policy);
  const room = renewalRoom(rules, row);
  return {
    action: row.action,
    actionPast: PAST[row.action as JobAction],
    graceUntil: Number(row.grace_until),
    timeLeft: timeLeft(Number(row.grace_until), now),
    renewalsLeft: room.left,
    renewalsUsed: Number(row.renewals),
    extend: room.nextMs > 0 ? formatDuration(room.nextMs) : '',
    notebook: row.policy === 'notebook',
    dryRun: actions.dryRun,
  };
}
