/**
 * `router.actions.renewal` and `router.actions.notebooks`: how owners keep (renew) or give up
 * (release) a job that is about to be killed or downgraded, and the separate policy for idle
 * interactive jobs (notebooks).
 *
 * Renewal: every owner mail of an action in its grace period carries a signed renew link ("keep
 * my job for another `extend`") and a release link ("stop it now"). An action takes at most
 * `maxRenewals` renewals, which together push its deadline back by at most `maxTotal`. While the
 * action is in grace the owner is reminded every `remindEvery` (with the links, the time and the
 * renewals left); after a renewal the reminders continue against the new deadline.
 *
 * Notebooks: a job is a notebook when its id matches one of `jobs`, its VC one of `vcs`, or any
 * label of `labels` (alert labels the attribution sets, such as `vc`, `priority`, `namespace`)
 * matches its regex. Notebooks wait at least `grace`, are reminded every `remindEvery`, renew
 * under `renewal` (each field defaults to `actions.renewal`'s), and are never killed or downgraded
 * before at least one reminder was delivered to the owner: an action that reaches its deadline
 * with none delivered is postponed by `remindEvery` (recorded) and reminded again.
 *
 * Every regex is matched against the whole value (anchored), and must be RE2 syntax, like the
 * exemptions of the policies.
 */
import { z } from 'zod';
import { positiveDuration } from './duration-field.js';
import { labelRegex } from './policy-fields.js';

const renewalLimits = {
  /** How much one renewal adds to the deadline. */
  extend: positiveDuration.default('4h'),
  /** Renewals one action takes (0: no renew link). */
  maxRenewals: z.number().int().min(0).max(100).default(3),
  /** The most all renewals of one action may add to its deadline. */
  maxTotal: positiveDuration.default('24h'),
};

export const renewalSchema = z
  .object({
    ...renewalLimits,
    /** Between two reminder mails to the owner of an action in its grace period. */
    remindEvery: positiveDuration.default('1h'),
    /** How long a renew or release link stays valid after its mail is sent. */
    linkTtl: positiveDuration.default('24h'),
  })
  .strict();

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a label name, e.g. namespace');

export const notebooksSchema = z
  .object({
    /** OpenPAI job ids (`user~name`) that are notebooks. */
    jobs: z.array(labelRegex).default([]),
    /** Virtual clusters whose jobs are notebooks. */
    vcs: z.array(labelRegex).default([]),
    /** Alert label → regex: a job whose alert carries a matching label is a notebook. */
    labels: z.record(labelName, labelRegex).default({}),
    /** The shortest grace a notebook gets (longer than the alert's, if that is shorter). */
    grace: positiveDuration.default('8h'),
    remindEvery: positiveDuration.default('2h'),
    /** Each field defaults to actions.renewal's. */
    renewal: z
      .object({
        extend: positiveDuration.optional(),
        maxRenewals: z.number().int().min(0).max(100).optional(),
        maxTotal: positiveDuration.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type RenewalConfig = z.output<typeof renewalSchema>;
export type NotebooksConfig = z.output<typeof notebooksSchema>;
