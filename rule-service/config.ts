/**
 * The options the rule service runs with, from the `ruleService:` section of gpuwatch.yaml
 * (src/config/rule-service.ts) once token files are read and relative paths resolved.
 */
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../src/config/duration.js';
import { secretReader } from '../src/config/secret-file.js';
import { resolveSqliteUrl } from '../src/storage/database-url.js';
import { policiesSchema, type Policies } from '../src/config/policies.js';
import type { RuleServiceConfig } from '../src/config/rule-service.js';
import type { HoldingsPolicy } from './admission.js';
import type { IdleCheckOptions } from './idle-check.js';
import { runtimePolicyOf, type RuntimeCheckOptions } from './runtime-check.js';

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
export async function resolveRuleServiceConfig(
  config: RuleServiceConfig,
  configFile?: string,
  policies: Policies = policiesSchema.parse(undefined),
): Promise<RuleServiceOptions> {
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
