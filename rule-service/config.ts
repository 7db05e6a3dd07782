/**
 * The `ruleService:` section of gpuwatch.yaml, and the options the service runs with once token
 * files are read and relative paths resolved.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../src/config/duration.js';
import { duration } from '../src/config/duration-field.js';
import { databaseUrl, httpUrl, secretFields, secretGivenOnce } from '../src/config/fields.js';
import { DEFAULT_LISTEN, listenAddressWithDefault } from '../src/config/listen-address.js';
import { secretReader } from '../src/config/secret-file.js';
import { resolveSqliteUrl } from '../src/storage/database-url.js';
import { policiesSchema, type Policies } from '../src/config/policies.js';
import type { HoldingsPolicy } from './admission.js';
import type { IdleCheckOptions } from './idle-check.js';
import { runtimePolicyOf, type RuntimeCheckOptions } from './runtime-check.js';

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

/** What the service runs with. */
export interface RuleServiceOptions {
  listen: string;
  db: string;
  storeTimeoutMs: number;
  /** Rules are re-read at least this often (edits made directly in SQL). */
  rulesReloadMs?: number;
  openpai?: { url: string; token?: string; timeoutMs: number };
  /** Where and how the actions confirm that a job is idle; absent: every low-utilization action is refused. */
  idleCheck?: IdleCheckOptions;
  /** Where and against which policy the actions confirm that a job has run too long; absent: every running-too-long action is refused. */
  runtimeCheck?: RuntimeCheckOptions;
  proxyTo?: string;
  holdingsWhenUnreachable: HoldingsPolicy;
  exemptJobs: string[];
  exemptUsers: string[];
  apiToken?: string;
  /** How often a store marked down is probed again. */
  storeRetryMs?: number;
  /** How often the store is checked while it is up (for the health metric when idle). */
  healthIntervalMs?: number;
}

/**
 * Reads token files and resolves relative paths against the config file's directory. `policies`
 * (the same file's) gives the idleness criterion its defaults and the running-too-long thresholds.
 */
export async function resolveRuleServiceConfig(config: RuleServiceConfig, configFile?: string, policies: Policies = policiesSchema.parse(undefined)): Promise<RuleServiceOptions> {
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const source = configFile ?? '(defaults)';
  const secret = secretReader({ base, source, section: 'ruleService' });
  const openpai = config.openpai && {
    url: config.openpai.url,
    token: await secret(config.openpai.token, config.openpai.tokenFile, 'openpai.tokenFile'),
    timeoutMs: parseDuration(config.openpai.timeout) ?? 3_000,
  };
  const low = policies.jobLowUtilization;
  const idleCheck = config.prometheus && {
    url: config.prometheus.url,
    timeoutMs: parseDuration(config.prometheus.timeout) ?? 5_000,
    windowSeconds: Math.round((parseDuration(config.prometheus.idleWindow ?? low.window) ?? 3_600_000) / 1_000),
    threshold: config.prometheus.idleThreshold ?? low.threshold,
  };
  const runtimeCheck = config.prometheus && {
    url: config.prometheus.url,
    timeoutMs: parseDuration(config.prometheus.timeout) ?? 5_000,
    policy: runtimePolicyOf(policies.jobRunningTooLong),
  };
  return {
    listen: config.listen,
    idleCheck,
    runtimeCheck,
    db: resolveSqliteUrl(config.db, base, resolve),
    storeTimeoutMs: parseDuration(config.storeTimeout) ?? 150,
    rulesReloadMs: parseDuration(config.rulesReload) ?? 10_000,
    openpai,
    proxyTo: config.proxyTo,
    holdingsWhenUnreachable: config.holdingsWhenUnreachable,
    exemptJobs: config.exemptJobs,
    exemptUsers: config.exemptUsers,
    apiToken: await secret(config.apiToken, config.apiTokenFile, 'apiTokenFile'),
  };
}
