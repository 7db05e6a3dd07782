/**
 * The `router:` section of gpuwatch.yaml. Every field has a default a platform team can start with;
 * the SLA table defaults to the platform team's practice (DESIGN §7). Unknown fields are errors.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { positiveDuration } from './duration-field.js';
import { databaseUrl, httpUrl, portNumber, secretFields, secretGivenOnce } from './fields.js';
import { DEFAULT_LISTEN, listenAddressWithDefault } from './listen-address.js';
import { notebooksSchema, renewalSchema } from './router-renewal.js';
import {
  checkSlaCoverage,
  checkTeamReferences,
  DEFAULT_SLA_TABLE,
  email,
  memberSchema,
  rotationSchema,
  slaRowSchema,
  workingHoursSchema,
} from './router-oncall.js';

export { CLUSTER_PRIORITIES, WEEKDAYS, type ClusterPriority } from './router-oncall.js';

export const DEFAULT_ROUTER_DB = 'sqlite://./gpuwatch-router.db';

/** Events a notification can be about; webhooks may subscribe to a subset. */
export const NOTIFICATION_KINDS = [
  'page',
  'escalation',
  'handoff',
  'resolved',
  'owner-warning',
  'owner-reminder',
  'action-result',
  'page-summary',
  'watchdog-silent',
  'watchdog-back',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The actor recorded for writes made with the shared apiToken. */
export const SHARED_TOKEN_ACTOR = 'shared-token';

const webUserSchema = z
  .object({
    /** Recorded as the actor of everything done with this token (acknowledge, update, resolve). */
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\s"]+$/, 'a name without spaces or quotes, e.g. ana'),
    ...secretFields('token'),
  })
  .strict()
  .refine(...secretGivenOnce('token'))
  .refine((u) => u.token !== undefined || u.tokenFile !== undefined, 'give token or tokenFile');

const webSchema = z
  .object({
    /** Personal tokens: for the API (bearer) and to log in to the board. */
    users: z.array(webUserSchema).default([]),
    /** `auto`: the session cookie is Secure when publicUrl is https://. */
    secureCookie: z.union([z.literal('auto'), z.boolean()]).default('auto'),
    /** How long a board login lasts. */
    sessionTtl: positiveDuration.default('12h'),
  })
  .strict()
  .superRefine((web, ctx) => {
    const seen = new Set<string>();
    web.users.forEach((u, i) => {
      if (u.name === SHARED_TOKEN_ACTOR)
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['users', i, 'name'],
          message: `"${SHARED_TOKEN_ACTOR}" is how the shared apiToken is recorded; pick another name`,
        });
      if (seen.has(u.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['users', i, 'name'], message: `"${u.name}" is listed twice` });
      seen.add(u.name);
    });
  });

const webhookSchema = z
  .object({
    url: httpUrl,
    /** `json`: the router's own payload; `slack`: Slack-compatible incoming-webhook messages (Mattermost, Rocket.Chat take it too). */
    format: z.enum(['json', 'slack']).default('json'),
    events: z
      .array(z.enum(NOTIFICATION_KINDS))
      .min(1)
      .default([...NOTIFICATION_KINDS]),
    timeout: positiveDuration.default('10s'),
  })
  .strict();

const smtpSchema = z
  .object({
    host: z.string().min(1),
    port: portNumber.default(25),
    /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    requireTls: z.boolean().default(false),
    from: z.string().min(3).default('gpuwatch <gpuwatch@localhost>'),
    auth: z
      .object({ user: z.string().min(1), pass: z.string().optional(), passFile: z.string().min(1).optional() })
      .strict()
      .refine(...secretGivenOnce('pass'))
      .optional(),
    timeout: positiveDuration.default('15s'),
  })
  .strict();

const actionsSchema = z
  .object({
    /** Dry run (the default): warn owners and record what would be done, never touch a job. */
    dryRun: z.boolean().default(true),
    /** Most kill/downgrade requests per rolling hour, across every replica. */
    hourlyBudget: z.number().int().min(0).default(10),
    /** Between the owner's warning and the action; an alert that resolves within it cancels the action. */
    grace: positiveDuration.default('30m'),
    /** The shortest grace period any action gets: an alert's `action_grace` annotation may lengthen the grace, never shorten it below this. */
    minGrace: positiveDuration.default('15m'),
    ruleService: z
      .object({ url: httpUrl, ...secretFields('token'), timeout: positiveDuration.default('10s') })
      .strict()
      .refine(...secretGivenOnce('token'))
      .optional(),
    /** rest-server: who owns a job (GET /api/v2/jobs/{user}~{job}) and their e-mail (GET /api/v2/users/{username}). Required when dryRun is false. */
    openpai: z
      .object({ url: httpUrl, ...secretFields('token'), timeout: positiveDuration.default('5s') })
      .strict()
      .refine(...secretGivenOnce('token'))
      .optional(),
    /** When rest-server has no address for a user: user@this-domain. */
    ownerEmailDomain: z
      .string()
      .regex(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, 'expected a mail domain, e.g. example.com')
      .optional(),
    exemptJobs: z.array(z.string().min(1)).default([]),
    exemptUsers: z.array(z.string().min(1)).default([]),
    /** Renew and release links, reminders (router-renewal.ts). */
    renewal: renewalSchema.default({}),
    /** The policy of interactive jobs (router-renewal.ts). */
    notebooks: notebooksSchema.default({}),
  })
  .strict();

export const routerConfigSchema = z
  .object({
    listen: listenAddressWithDefault(DEFAULT_LISTEN.router),
    /** sqlite:///abs.db, sqlite://./relative.db (relative to gpuwatch.yaml), mysql://user:pass@host:3306/db */
    db: databaseUrl.default(DEFAULT_ROUTER_DB),
    /** Where people reach the board; ack links in e-mails start with it. Default: http://<listen>. */
    publicUrl: httpUrl.optional(),
    /** Shared bearer token for machines (acknowledge, update, resolve, the audit log); recorded as `shared-token`. */
    ...secretFields('apiToken'),
    /** Key that signs ack links. Default: a random key kept in the database (shared by every replica). */
    ackSecret: z.string().min(16).optional(),
    ackSecretFile: z.string().min(1).optional(),
    ackLinkTtl: positiveDuration.default('24h'),
    /** The board's logins and personal tokens. */
    web: webSchema.default({}),
    /** Bearer token Alertmanager must send (http_config.authorization); required when actions.dryRun is false. */
    ...secretFields('webhookToken'),
    /** Pages and escalations per receiver (mail address) per minute; more are held back and summarised in one mail. */
    pagesPerMinute: z.number().int().min(1).default(20),
    /** The dead man's switch: page the DRIs when a cluster's Watchdog alert has not arrived for this long (after it was seen once). */
    watchdog: z
      .object({ timeout: positiveDuration.default('5m') })
      .strict()
      .default({}),
    /** Severity of an alert without a usable `severity` label. */
    defaultSeverity: z.number().int().min(0).max(3).default(2),
    team: z.array(memberSchema).default([]),
    rotation: rotationSchema.default({}),
    workingHours: workingHoursSchema.default({}),
    sla: z.array(slaRowSchema).min(1).default(DEFAULT_SLA_TABLE),
    escalation: z
      .object({
        secondLine: z.array(email).default([]),
        thirdLine: z.array(email).default([]),
        /** Still not acknowledged after the third line: start over from the second line this many more times. */
        repeat: z.number().int().min(0).max(10).default(0),
      })
      .strict()
      .default({}),
    smtp: smtpSchema.optional(),
    webhooks: z.array(webhookSchema).default([]),
    actions: actionsSchema.default({}),
    reconcile: z
      .object({
        /** Alertmanager's base URL; its GET /api/v2/alerts lists every alert still active, silenced or inhibited. */
        alertmanagerUrl: httpUrl.optional(),
        interval: positiveDuration.default('1m'),
      })
      .strict()
      .default({}),
    /** How often the timer and outbox tables are polled (a timer due sooner wakes the poller itself). */
    pollInterval: positiveDuration.default('1s'),
    /** Delivery retries: the first after `min`, doubling up to `max`, for as long as it takes. */
    retry: z
      .object({ min: positiveDuration.default('5s'), max: positiveDuration.default('10m') })
      .strict()
      .default({}),
  })
  .strict()
  .refine(...secretGivenOnce('apiToken'))
  .refine(...secretGivenOnce('ackSecret'))
  .refine(...secretGivenOnce('webhookToken'))
  .superRefine((config, ctx) => checkTeamReferences(config, ctx))
  .superRefine((config, ctx) => checkLiveActions(config, ctx))
  .superRefine((config, ctx) => checkSlaCoverage(config.sla, ctx));

export type RouterConfig = z.output<typeof routerConfigSchema>;
export type RotationConfig = RouterConfig['rotation'];
export type WorkingHoursConfig = RouterConfig['workingHours'];
export type SlaRowConfig = RouterConfig['sla'][number];
export type TeamMember = RouterConfig['team'][number];

/**
 * Live actions stop jobs: the webhook that triggers them must be authenticated, the owner must come
 * from OpenPAI, and no grace period may be shorter than the floor.
 */
function checkLiveActions(config: { webhookToken?: string; webhookTokenFile?: string; actions: z.output<typeof actionsSchema> }, ctx: z.RefinementCtx): void {
  const { actions } = config;
  const [grace, minGrace] = [parseDuration(actions.grace), parseDuration(actions.minGrace)];
  if (grace !== undefined && minGrace !== undefined && grace < minGrace) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['actions', 'grace'], message: `shorter than actions.minGrace (${actions.minGrace})` });
  }
  if (actions.dryRun) return;
  if (config.webhookToken === undefined && config.webhookTokenFile === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['webhookToken'],
      message:
        "required when actions.dryRun is false: without it anyone who reaches the router can have jobs killed (set webhookToken or webhookTokenFile, and the same token in Alertmanager's http_config.authorization)",
    });
  }
  if (actions.openpai === undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['actions', 'openpai'],
      message: "required when actions.dryRun is false: a job's owner is read from OpenPAI, and a job OpenPAI does not know gets no action",
    });
  }
}
