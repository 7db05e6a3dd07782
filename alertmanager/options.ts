/**
 * What the router runs with: the `router:` section with secret files read, durations in
 * milliseconds, relative paths resolved against gpuwatch.yaml, and each cluster's priority.
 */
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../src/config/duration.js';
import { secretReader, type ReadSecret } from '../src/config/secret-file.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { resolveSqliteUrl } from '../src/storage/database-url.js';
import type { ClusterPriority, NotificationKind, RotationConfig, RouterConfig, TeamMember, WorkingHoursConfig } from '../src/config/router.js';
import type { NotebooksConfig, RenewalConfig } from '../src/config/router-renewal.js';
import { compileSlaTable, type SlaRow } from './schedule/sla.js';

export interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTls: boolean;
  from: string;
  auth?: { user: string; pass: string };
  timeoutMs: number;
}

export interface WebhookOptions {
  url: string;
  format: 'json' | 'slack';
  events: NotificationKind[];
  timeoutMs: number;
}

export interface RemoteService {
  url: string;
  token?: string;
  timeoutMs: number;
}

export interface ActionOptions {
  dryRun: boolean;
  hourlyBudget: number;
  graceMs: number;
  /** No action waits less than this after the owner's warning. */
  minGraceMs: number;
  ruleService?: RemoteService;
  openpai?: RemoteService;
  ownerEmailDomain?: string;
  exemptJobs: string[];
  exemptUsers: string[];
  /** Renew/release links, reminders and their caps, for every kill/downgrade action. */
  renewal: RenewalOptions;
  notebooks: NotebookOptions;
}

/** What one policy (the default one, or the notebooks') allows an owner. */
export interface RenewalPolicy {
  extendMs: number;
  maxRenewals: number;
  maxTotalMs: number;
  remindEveryMs: number;
}

export interface RenewalOptions extends RenewalPolicy {
  linkTtlMs: number;
}

export interface NotebookOptions {
  /** Anchored regexes: a job id, a VC or an alert label that makes a job a notebook. */
  jobs: RegExp[];
  vcs: RegExp[];
  labels: [string, RegExp][];
  graceMs: number;
  renewal: RenewalPolicy;
}

export interface WebOptions {
  /** Personal tokens by name. */
  users: { name: string; token: string }[];
  secureCookie: boolean;
  sessionTtlMs: number;
}

export interface RouterOptions {
  listen: string;
  db: string;
  /** Base of links in messages; default http://<listen>. */
  publicUrl?: string;
  apiToken?: string;
  web: WebOptions;
  ackSecret?: string;
  ackLinkTtlMs: number;
  webhookToken?: string;
  defaultSeverity: number;
  pagesPerMinute: number;
  watchdog: { timeoutMs: number };
  team: TeamMember[];
  rotation: RotationConfig;
  workingHours: WorkingHoursConfig;
  sla: SlaRow[];
  escalation: { secondLine: string[]; thirdLine: string[]; repeat: number };
  smtp?: SmtpOptions;
  webhooks: WebhookOptions[];
  actions: ActionOptions;
  reconcile: { alertmanagerUrl?: string; intervalMs: number };
  pollIntervalMs: number;
  retry: { minMs: number; maxMs: number };
  /** Cluster name → priority, from the main config's `clusters:`; unknown clusters count as production. */
  clusters: Record<string, ClusterPriority>;
}

const ms = (text: string) => parseDuration(text) ?? 0;

/** Reads secret files (relative to the config file) and converts the section into run-time options. */
export async function resolveRouterConfig(
  config: RouterConfig,
  clusters: readonly { name: string; priority: ClusterPriority }[] = [],
  configFile?: string,
): Promise<RouterOptions> {
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const source = configFile ?? '(defaults)';
  const secret = secretReader({ base, source, section: 'router' });
  const remote = async (
    r: { url: string; token?: string; tokenFile?: string; timeout: string } | undefined,
    field: string,
  ): Promise<RemoteService | undefined> =>
    r && { url: r.url.replace(/\/+$/, ''), token: await secret(r.token, r.tokenFile, `${field}.tokenFile`), timeoutMs: ms(r.timeout) };
  const smtp = config.smtp;
  return {
    listen: config.listen,
    db: resolveSqliteUrl(config.db, base, resolve),
    publicUrl: config.publicUrl?.replace(/\/+$/, ''),
    apiToken: await secret(config.apiToken, config.apiTokenFile, 'apiTokenFile'),
    web: checkTokensDistinct(await resolveWeb(config, secret), await secret(config.apiToken, config.apiTokenFile, 'apiTokenFile'), source),
    ackSecret: await secret(config.ackSecret, config.ackSecretFile, 'ackSecretFile'),
    ackLinkTtlMs: ms(config.ackLinkTtl),
    webhookToken: await secret(config.webhookToken, config.webhookTokenFile, 'webhookTokenFile'),
    defaultSeverity: config.defaultSeverity,
    pagesPerMinute: config.pagesPerMinute,
    watchdog: { timeoutMs: ms(config.watchdog.timeout) },
    team: config.team,
    rotation: config.rotation,
    workingHours: config.workingHours,
    sla: compileSlaTable(config.sla),
    escalation: config.escalation,
    smtp: smtp && {
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTls: smtp.requireTls,
      from: smtp.from,
      auth: smtp.auth && { user: smtp.auth.user, pass: (await secret(smtp.auth.pass, smtp.auth.passFile, 'smtp.auth.passFile')) ?? '' },
      timeoutMs: ms(smtp.timeout),
    },
    webhooks: config.webhooks.map((w) => ({ url: w.url, format: w.format, events: w.events, timeoutMs: ms(w.timeout) })),
    actions: {
      dryRun: config.actions.dryRun,
      hourlyBudget: config.actions.hourlyBudget,
      graceMs: ms(config.actions.grace),
      minGraceMs: ms(config.actions.minGrace),
      ruleService: await remote(config.actions.ruleService, 'actions.ruleService'),
      openpai: await remote(config.actions.openpai, 'actions.openpai'),
      ownerEmailDomain: config.actions.ownerEmailDomain,
      exemptJobs: config.actions.exemptJobs,
      exemptUsers: config.actions.exemptUsers,
      ...renewalOptions(config.actions.renewal, config.actions.notebooks),
    },
    reconcile: { alertmanagerUrl: config.reconcile.alertmanagerUrl?.replace(/\/+$/, ''), intervalMs: ms(config.reconcile.interval) },
    pollIntervalMs: ms(config.pollInterval),
    retry: { minMs: ms(config.retry.min), maxMs: ms(config.retry.max) },
    clusters: Object.fromEntries(clusters.map((c) => [c.name, c.priority])),
  };
}

async function resolveWeb(config: RouterConfig, secret: ReadSecret): Promise<WebOptions> {
  const users: WebOptions['users'] = [];
  for (const [i, user] of config.web.users.entries()) {
    users.push({ name: user.name, token: (await secret(user.token, user.tokenFile, `web.users.${i}.tokenFile`)) ?? '' });
  }
  const secureCookie = config.web.secureCookie === 'auto' ? (config.publicUrl ?? '').startsWith('https://') : config.web.secureCookie;
  return { users, secureCookie, sessionTtlMs: ms(config.web.sessionTtl) };
}

/** One token, one identity: a token shared by two users (or with apiToken) would make the audit log guess. */
function checkTokensDistinct(web: WebOptions, apiToken: string | undefined, source: string): WebOptions {
  const owner = new Map<string, string>(apiToken === undefined ? [] : [[apiToken, 'apiToken']]);
  for (const [i, user] of web.users.entries()) {
    const taken = owner.get(user.token);
    if (taken !== undefined) {
      const field = `router.web.users.${i}`;
      const message = `${user.name}'s token is the same as ${taken === 'apiToken' ? 'the shared apiToken' : `${taken}'s`}; every user needs a token of their own`;
      throw new ConfigError(`${source}: ${field}: ${message}`, source, [{ file: source, field, message }]);
    }
    owner.set(user.token, user.name);
  }
  return web;
}

const anchored = (text: string) => new RegExp(`^(?:${text})$`);

/** The renewal settings in milliseconds; the notebooks' renewal fields fall back to actions.renewal's. */
function renewalOptions(renewal: RenewalConfig, notebooks: NotebooksConfig): { renewal: RenewalOptions; notebooks: NotebookOptions } {
  const own = notebooks.renewal;
  return {
    renewal: {
      extendMs: ms(renewal.extend),
      maxRenewals: renewal.maxRenewals,
      maxTotalMs: ms(renewal.maxTotal),
      remindEveryMs: ms(renewal.remindEvery),
      linkTtlMs: ms(renewal.linkTtl),
    },
    notebooks: {
      jobs: notebooks.jobs.map(anchored),
      vcs: notebooks.vcs.map(anchored),
      labels: Object.entries(notebooks.labels).map(([name, re]) => [name, anchored(re)]),
      graceMs: ms(notebooks.grace),
      renewal: {
        extendMs: ms(own.extend ?? renewal.extend),
        maxRenewals: own.maxRenewals ?? renewal.maxRenewals,
        maxTotalMs: ms(own.maxTotal ?? renewal.maxTotal),
        remindEveryMs: ms(notebooks.remindEvery),
      },
    },
  };
}
