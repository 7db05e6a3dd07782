/**
 * The router's actions on running jobs (DESIGN §6): kill = stop the job; downgrade = tag it, stop it
 * and resubmit its own config one priority lower (OpenPAI cannot change a running job's priority).
 *
 * Before either, Prometheus must confirm that the job is idle over the configured window; when it
 * cannot (unreachable, no data) or the job is busy, the action is refused with the reason.
 *
 * Every request carries an idempotency key kept in SQL: the same key answers the same outcome again
 * without touching the job twice. A failure worth retrying (rest-server unreachable or failing)
 * frees the key so the caller's retry runs again; every step is written to the audit table.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { recordAudit } from './audit.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { JobProtocolError, parseJobText, rewriteJob, summarizeJob } from './job-protocol.js';
import type { RuleServiceMetrics } from './metrics.js';
import { OpenPaiError, type OpenPaiClient } from './openpai-client.js';
import { lowerPriority, type Priority } from './priority.js';
import type { IdleCheck } from './idle-check.js';
import { tokenUser } from './token.js';

/** A run still pending after this long is taken to have died with its process. */
const PENDING_ABANDONED_MS = 5 * 60_000;

/** The tag a downgraded job carries, so people see why it stopped. */
export const DOWNGRADE_TAG = 'gpuwatch-downgraded';

export const actionRequestSchema = z
  .object({
    job: z.string().regex(/^[^~\s/]+~[^~\s/]+$/, 'expected an OpenPAI job id, user~name'),
    action: z.enum(['kill', 'downgrade']),
    reason: z.string().max(2_000).default(''),
    idempotencyKey: z.string().min(1).max(255),
  })
  .strict();

export type ActionRequest = z.output<typeof actionRequestSchema>;

export interface ActionOutcome {
  status: 'done' | 'failed' | 'refused' | 'pending';
  job: string;
  action: ActionRequest['action'];
  idempotencyKey: string;
  /** True when this answer is the stored outcome of an earlier request with the same key. */
  replayed: boolean;
  message: string;
  /** Downgrade: the resubmitted job and its priority. */
  newJob?: string;
  newPriority?: Priority;
  steps?: string[];
  /** What Prometheus said about the job's utilization before the action ran. */
  idleCheck?: string;
}

export interface ActionResponse {
  httpStatus: number;
  body: ActionOutcome | { error: string; idempotencyKey: string };
}

export interface ActionsDeps {
  /** The rule store's connection as it is now (it is reopened when the store recovers). */
  db: () => Kysely<RuleServiceDatabase>;
  metrics: RuleServiceMetrics;
  log: Logger;
  /** rest-server with an admin application token; absent: every action fails. */
  openpai?: OpenPaiClient;
  adminToken?: string;
  /** Confirms from Prometheus that a job is idle; absent: every action is refused. */
  idleCheck?: IdleCheck;
  exemptJobs: readonly string[];
  exemptUsers: readonly string[];
  now?: () => Date;
}

export class Actions {
  constructor(private readonly deps: ActionsDeps) {}

  async run(request: ActionRequest, actor: string): Promise<ActionResponse> {
    const { metrics } = this.deps;
    const db = this.deps.db();
    const now = this.now();
    const existing = await db.selectFrom('rule_actions').selectAll().where('idempotency_key', '=', request.idempotencyKey).executeTakeFirst();
    if (existing && !this.abandoned(existing)) return this.replay(existing, request);
    if (existing) {
      // A run that never finished (the service stopped mid-way): let this request take it over.
      await db.deleteFrom('rule_actions').where('idempotency_key', '=', request.idempotencyKey).where('updated_at', '=', existing.updated_at).execute();
    }
    try {
      await db
        .insertInto('rule_actions')
        .values({ idempotency_key: request.idempotencyKey, job: request.job, action: request.action, reason: request.reason, status: 'pending', http_status: 409, outcome: '{}', created_at: now, updated_at: now })
        .execute();
    } catch (err) {
      // Another replica (or a concurrent retry) claimed the key first.
      const row = await db.selectFrom('rule_actions').selectAll().where('idempotency_key', '=', request.idempotencyKey).executeTakeFirst();
      if (row) return this.replay(row, request);
      throw err;
    }
    const response = await this.perform(request, actor);
    const outcome = response.body as ActionOutcome;
    metrics.actions.inc({ action: request.action, result: outcome.status });
    await recordAudit(db, { actor, event: `action.${request.action}`, subject: request.job, detail: { ...outcome, reason: request.reason } });
    if (outcome.status === 'failed' && response.httpStatus >= 500) {
      // Worth retrying: free the key so the same request runs again.
      await db.deleteFrom('rule_actions').where('idempotency_key', '=', request.idempotencyKey).execute();
    } else {
      await db
        .updateTable('rule_actions')
        .set({ status: outcome.status, http_status: response.httpStatus, outcome: JSON.stringify(outcome), updated_at: this.now() })
        .where('idempotency_key', '=', request.idempotencyKey)
        .execute();
    }
    return response;
  }

  private replay(row: { job: string; action: string; status: string; http_status: number; outcome: string }, request: ActionRequest): ActionResponse {
    if (row.job !== request.job || row.action !== request.action) {
      return { httpStatus: 409, body: { error: `idempotency key already used for ${row.action} of ${row.job}`, idempotencyKey: request.idempotencyKey } };
    }
    this.deps.metrics.actions.inc({ action: request.action, result: 'replayed' });
    if (row.status === 'pending') {
      const body: ActionOutcome = { status: 'pending', job: request.job, action: request.action, idempotencyKey: request.idempotencyKey, replayed: true, message: 'the same action is in progress' };
      return { httpStatus: 409, body };
    }
    return { httpStatus: Number(row.http_status), body: { ...(JSON.parse(row.outcome) as ActionOutcome), replayed: true } };
  }

  private async perform(request: ActionRequest, actor: string): Promise<ActionResponse> {
    const base = { job: request.job, action: request.action, idempotencyKey: request.idempotencyKey, replayed: false };
    const user = request.job.split('~')[0] as string;
    if (this.deps.exemptJobs.includes(request.job) || this.deps.exemptUsers.includes(user)) {
      this.deps.log.info({ job: request.job, action: request.action, actor }, 'action refused: job is exempt');
      return { httpStatus: 403, body: { ...base, status: 'refused', message: `${request.job} is on the exemption list` } };
    }
    // Fail closed: without Prometheus confirming that the job is idle, nothing is touched.
    const idle = this.deps.idleCheck ? await this.deps.idleCheck.confirm(request.job) : { idle: false as const, message: 'no Prometheus configured (ruleService.prometheus.url) to confirm that the job is idle' };
    if (!idle.idle) {
      this.deps.log.info({ job: request.job, action: request.action, actor, why: idle.message }, 'action refused: the job is not confirmed idle');
      return { httpStatus: 403, body: { ...base, status: 'refused', message: `refused: ${idle.message}` } };
    }
    const openpai = this.deps.openpai;
    if (!openpai) return { httpStatus: 503, body: { ...base, status: 'failed', message: 'no OpenPAI rest-server configured', idleCheck: idle.message } };
    const steps: string[] = [];
    try {
      if (request.action === 'kill') {
        await openpai.stopJob(request.job);
        steps.push('stopped');
        return { httpStatus: 200, body: { ...base, status: 'done', message: `${request.job} stopped`, steps, idleCheck: idle.message } };
      }
      return await this.downgrade(openpai, request, { ...base, idleCheck: idle.message }, steps);
    } catch (err) {
      const message = (err as Error).message;
      this.deps.log.warn({ job: request.job, action: request.action, err: message, steps }, 'action failed');
      return { httpStatus: failureStatus(err), body: { ...base, status: 'failed', message, steps, idleCheck: idle.message } };
    }
  }

  private async downgrade(openpai: OpenPaiClient, request: ActionRequest, base: Omit<ActionOutcome, 'status' | 'message'>, steps: string[]): Promise<ActionResponse> {
    const config = await openpai.jobConfig(request.job);
    const summary = summarizeJob(parseJobText(config, 'text/yaml'));
    const lower = lowerPriority(summary.priority);
    if (!lower) {
      return { httpStatus: 409, body: { ...base, status: 'failed', message: `${request.job} already runs at ${summary.priority}; there is nothing lower`, steps } };
    }
    const [owner, name] = request.job.split('~') as [string, string];
    const newName = `${summary.name ?? name}-${lower}`;
    const resubmission = rewriteJob(config, { priority: lower, name: newName });
    await openpai.addTag(request.job, DOWNGRADE_TAG);
    steps.push(`tagged ${DOWNGRADE_TAG}`);
    await openpai.stopJob(request.job);
    steps.push('stopped');
    try {
      await openpai.submitJob(resubmission);
      steps.push(`resubmitted as ${newName} at ${lower}`);
    } catch (err) {
      // A retry after a lost answer finds the resubmission already there.
      if (!(err instanceof OpenPaiError && err.status === 409)) throw err;
      steps.push(`resubmission ${newName} already exists`);
    }
    // The resubmitted job belongs to whoever the admin token names (OpenPAI submits as the caller).
    const submitter = (this.deps.adminToken && tokenUser(this.deps.adminToken)) || owner;
    const newJob = `${submitter}~${newName}`;
    return { httpStatus: 200, body: { ...base, status: 'done', message: `${request.job} stopped and resubmitted as ${newJob} at ${lower}`, newJob, newPriority: lower, steps } };
  }

  private abandoned(row: { status: string; updated_at: string }): boolean {
    const nowMs = (this.deps.now?.() ?? new Date()).getTime();
    return row.status === 'pending' && nowMs - Date.parse(row.updated_at) > PENDING_ABANDONED_MS;
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }
}

/** 5xx (the key is freed for a retry) for what may pass; 404 or 409 for what will not. */
function failureStatus(err: unknown): number {
  if (err instanceof OpenPaiError) return err.transient ? 502 : err.status === 404 ? 404 : 409;
  if (err instanceof JobProtocolError) return 409;
  return 500;
}
