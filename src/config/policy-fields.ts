/**
 * The building blocks every alert policy in gpuwatch.yaml shares: severity, `for`, windows,
 * thresholds, exemptions, per-VC/priority/cluster overrides and job actions. The policies themselves
 * (with their defaults) are in policies.ts.
 */
import { z } from 'zod';
import { duration } from './duration-field.js';

/** An empty YAML mapping (`policies:` with nothing under it) reads as null: treat it as "all defaults". */
export function section<T extends z.ZodTypeAny>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

export const SEVERITY_MEANING = '0: a whole production cluster is down, 1: an important feature is down, 2: some jobs fail consistently, 3: random failures';

export type Severity = 0 | 1 | 2 | 3;

export const severity = z
  .number()
  .refine(
    (n) => Number.isInteger(n) && n >= 0 && n <= 3,
    (n) => ({ message: `severity must be 0, 1, 2 or 3 (${SEVERITY_MEANING}); got ${n}` }),
  )
  .transform((n) => n as Severity);

/** A share between 0 and 1 (utilization is a 0-1 ratio in every gpuwatch metric, never a percentage). */
export const ratio = z.number().refine(
  (n) => n >= 0 && n <= 1,
  (n) => ({ message: `expected a ratio between 0 and 1 (e.g. 0.1 for 10%); got ${n}` }),
);

/** A ratio a condition "above it" can still exceed: 1 would make the alert impossible. */
export const ratioBelowOne = z.number().refine(
  (n) => n >= 0 && n < 1,
  (n) => ({ message: `expected a ratio from 0 up to (not including) 1, e.g. 0.2 for 20%; got ${n}` }),
);

export const count = z.number().int().nonnegative();

/**
 * A regular expression in Prometheus's (RE2) syntax, matched against the whole label value.
 * Rejects what RE2 cannot do (look-around, back-references), which JavaScript would accept.
 */
export const labelRegex = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    if (/\(\?<?[=!]/.test(text) || /\\[1-9]/.test(text)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}": look-around and back-references are not supported by Prometheus regexes` });
      return;
    }
    try {
      new RegExp(text);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is not a valid regular expression` });
    }
  });

/** Jobs a job policy never alerts on (and never acts on): any match exempts the job. */
export const exemptSchema = section(
  z
    .object({
      users: z.array(labelRegex).default([]),
      vcs: z.array(labelRegex).default([]),
      /** OpenPAI job ids, `user~jobname`. */
      jobs: z.array(labelRegex).default([]),
    })
    .strict(),
);

export const actionSchema = section(
  z
    .object({
      /** notify: warn the owner only; downgrade / kill: after the grace period, through the rule service. */
      type: z.enum(['notify', 'downgrade', 'kill']).default('notify'),
      /** Time between the warning to the job's owner and the action. */
      grace: duration.default('1h'),
    })
    .strict(),
);

export type PolicyAction = z.output<typeof actionSchema>;
export type Exempt = z.output<typeof exemptSchema>;

/** The labels an override may select on, and which policies allow which. */
export const JOB_OVERRIDE_KEYS = ['vc', 'priority', 'cluster'] as const;
export type OverrideKey = (typeof JOB_OVERRIDE_KEYS)[number];

const overrideSettings = {
  for: duration.optional(),
  severity: severity.optional(),
};

/** Overrides of a policy whose series carry no job labels: by cluster only. */
export function clusterOverrides<T extends z.ZodTypeAny>(threshold: T) {
  return z.array(z.object({ cluster: labelRegex, threshold: threshold.optional(), ...overrideSettings }).strict()).default([]);
}

/** Overrides of a policy with no threshold, by cluster only. */
export const clusterOverridesNoThreshold = z.array(z.object({ cluster: labelRegex, ...overrideSettings }).strict()).default([]);

/** Overrides of a job policy: each selects on exactly one of vc, priority or cluster. */
export function jobOverrides<T extends z.ZodTypeAny>(threshold: T) {
  return z
    .array(
      z
        .object({
          vc: labelRegex.optional(),
          priority: labelRegex.optional(),
          cluster: labelRegex.optional(),
          threshold: threshold.optional(),
          action: actionSchema.optional(),
          ...overrideSettings,
        })
        .strict()
        .superRefine((o, ctx) => {
          const keys = JOB_OVERRIDE_KEYS.filter((k) => o[k] !== undefined);
          if (keys.length !== 1) {
            ctx.addIssue({
              code: z.ZodIssueCode.custom,
              message: `an override selects on exactly one of vc, priority or cluster (got ${keys.length === 0 ? 'none' : keys.join(' and ')})`,
            });
          }
        }),
    )
    .default([]);
}

/** The fields every policy has, with that policy's defaults. */
export function common(defaults: { for: string; severity: Severity }) {
  return {
    enabled: z.boolean().default(true),
    for: duration.default(defaults.for),
    severity: severity.default(defaults.severity),
  };
}
