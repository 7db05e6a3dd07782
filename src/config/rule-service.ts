/**
 * The `ruleService:` section of gpuwatch.yaml (read by `gpuwatch rule-service`, rule-service/config.ts
 * resolves it into the options the service runs with).
 */
import { z } from 'zod';
import { duration } from './duration-field.js';
import { databaseUrl, httpUrl, secretFields, secretGivenOnce } from './fields.js';
import { DEFAULT_LISTEN, listenAddressWithDefault } from './listen-address.js';

export const DEFAULT_RULE_DB = 'sqlite://./gpuwatch-rules.db';

export const ruleServiceConfigSchema = z
  .object({
    listen: listenAddressWithDefault(DEFAULT_LISTEN.ruleService),
    /** sqlite:///abs.db, sqlite://./relative.db (relative to this file), sqlite::memory:, mysql://user:pass@host:3306/db */
    db: databaseUrl.default(DEFAULT_RULE_DB),
    /** Longest a rule-store read may take on the admission path before the job is kept as submitted. */
    storeTimeout: duration.default('150ms'),
    /** How soon edits made directly in SQL (not through the API or CLI) take effect. */
    rulesReload: duration.default('10s'),
    /** OpenPAI rest-server: holdings for admission, and the admin application token the actions use. */
    openpai: z
      .object({
        url: httpUrl,
        ...secretFields('token'),
        timeout: duration.default('3s'),
      })
      .strict()
      .refine(...secretGivenOnce('token'))
      .optional(),
    /**
     * Prometheus, asked before every kill or downgrade whether its cause holds (without it, every
     * action is refused): for low utilization, whether the job really is idle (the criterion defaults
     * to policies.jobLowUtilization's window and threshold in the same file); for running too long,
     * whether the job has run at least policies.jobRunningTooLong's threshold for it.
     */
    prometheus: z
      .object({
        url: httpUrl,
        timeout: duration.default('5s'),
        idleWindow: duration.optional(),
        idleThreshold: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    /** Proxy mode: the rest-server to sit in front of. */
    proxyTo: httpUrl.optional(),
    /** When holdings are needed but rest-server cannot be read: decide with the job's own GPUs, or reject. */
    holdingsWhenUnreachable: z.enum(['request-only', 'reject']).default('request-only'),
    /** Job ids (user~name) and users the kill/downgrade actions never touch. */
    exemptJobs: z.array(z.string().min(1)).default([]),
    exemptUsers: z.array(z.string().min(1)).default([]),
    /** Bearer token for rule changes, actions and the audit trail; without one those are refused. */
    ...secretFields('apiToken'),
  })
  .strict()
  .refine(...secretGivenOnce('apiToken'));

export type RuleServiceConfig = z.output<typeof ruleServiceConfigSchema>;
