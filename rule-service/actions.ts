/**
 * The router's actions on running jobs (DESIGN §6): kill = stop the job; downgrade = tag it, stop it
 * and resubmit its own config one priority lower (OpenPAI cannot change a running job's priority).
 *
 * Before either, Prometheus must confirm the request's cause: for `low-utilization` (the default,
 * so a caller that names no cause gets the stricter check) that the job is idle over the configured
 * window; for `running-too-long` that the job has run at least the policy's threshold for it. When
 * Prometheus cannot (unreachable, no data) or the cause does not hold, the action is refused with
 * the reason.
 *
 * Every request carries an idempotency key kept in SQL: the same key answers the same outcome again
 * without touching the job twice. A failure worth retrying (rest-server unreachable or failing)
 * frees the key so the caller's retry runs again; every step is written to the audit table.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Logger } from '../src/log.js';
import { recordAudit } from './audit.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { JobProtocolError, parseJobText, rewriteJob, summarizeJob } from './job-protocol.js';
import type { RuleServiceMetrics } from './metrics.js';
import { OpenPaiError, type OpenPaiClient } from './openpai-client.js';
import { lowerPriority, type Priority } from './priority.js';
import type { IdleCheck } from './idle-check.js';
import type { RuntimeCheck } from './runtime-check.js';
import { tokenUser } from './token.js';

/** A run still pending after this long is taken to have died with its process. */
const PENDING_ABANDONED_MS = 5 * 60_000;

/** The tag a downgraded job carries, so people see why it stopped. */
export const DOWNGRADE_TAG = 'gpuwatch-downgraded';

export const ACTION_CAUSES = ['low-utilization', 'running-too-long'] as const;
export type ActionCause = (typeof ACTION_CAUSES)[number];

export const actionRequestSchema = z
  .object({
    job: z.string().regex(/^[^~\s/]+~[^~\s/]+$/, 'expected an OpenPAI job id, user~name'),
    action: z.enum(['kill', 'downgrade']),
    /** Which policy asks for the action, and so what Prometheus must confirm first. */
    cause: z.enum(ACTION_CAUSES).default('low-utilization'),
    reason: z.string().max(2_000).default(''),
    idempotencyKey: z.string().min(1).max(255),
  })
  .strict();

export type ActionRequest = z.output<typeof actionRequestSchema>;

export interface ActionOutcome {
  status: 'done' | 'failed' | 'refused' | 'pending';
  job: string;
  action: ActionRequest['action'];
  cause: ActionCause;
  idempotencyKey: string;
  /** True when this answer is the stored outcome of an earlier request with the same key. */
  replayed: boolean;
  message: string;
  /** Downgrade: the resubmitted job and its priority. */
  newJob?: string;
  newPriority?: Priority;
  steps?: string[];
  /** What Prometheus said about the job before the action ran (its utilization, or how long it has run). */
  check?: string;
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
  /** Confirms from Prometheus that a job is idle; absent: every low-utilization action is refused. */
  idleCheck?: IdleCheck;
  /** Confirms from Prometheus that a job has run too long; absent: every running-too-long action is refused. */
  runtimeCheck?: RuntimeCheck;
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
        .values({
          idempotency_key: request.idempotencyKey,
          job: request.job,
          action: request.action,
          reason: request.reason,
          status: 'pending',
          http_status: 409,
          outcome: '{}',
          created_at: now,
          updated_at: now,
        })
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
      const body: ActionOutcome = {
        status: 'pending',
        job: request.job,
        action: request.action,
        cause: request.cause,
        idempotencyKey: request.idempotencyKey,
        replayed: true,
        message: 'the same action is in progress',
      };
      return { httpStatus: 409, body };
    }
    return { httpStatus: Number(row.http_status), body: { ...(JSON.parse(row.outcome) as ActionOutcome), replayed: true } };
  }

  private async perform(request: ActionRequest, actor: string): Promise<ActionResponse> {
    const base = { job: request.job, action: request.action, cause: request.cause, idempotencyKey: request.idempotencyKey, replayed: false };
    const user = request.job.split('~')[0] as string;
    if (this.deps.exemptJobs.includes(request.job) || this.deps.exemptUsers.includes(user)) {
      this.deps.log.info({ job: request.job, action: request.action, actor }, 'action refused: job is exempt');
      return { httpStatus: 403, body: { ...base, status: 'refused', message: `${request.job} is on the exemption list` } };
    }
    // Fail closed: without Prometheus confirming the cause, nothing is touched.
    const check = await this.confirmCause(request);
    if (!check.confirmed) {
      this.deps.log.info(
        { job: request.job, action: request.action, cause: request.cause, actor, why: check.message },
        'action refused: its cause is not confirmed',
      );
      return { httpStatus: 403, body: { ...base, status: 'refused', message: `refused: ${check.message}` } };
    }
    const openpai = this.deps.openpai;
    if (!openpai) return { httpStatus: 503, body: { ...base, status: 'failed', message: 'no OpenPAI rest-server configured', check: check.message } };
    const steps: string[] = [];
    try {
      if (request.action === 'kill') {
        await openpai.stopJob(request.job);
        steps.push('stopped');
        return { httpStatus: 200, body: { ...base, status: 'done', message: `${request.job} stopped`, steps, check: check.message } };
      }
      return await this.downgrade(openpai, request, { ...base, check: check.message }, steps);
    } catch (err) {
      const message = (err as Error).message;
      this.deps.log.warn({ job: request.job, action: request.action, err: message, steps }, 'action failed');
      return { httpStatus: failureStatus(err), body: { ...base, status: 'failed', message, steps, check: check.message } };
    }
  }

  /** What Prometheus says about the request's cause: idle for low-utilization, old enough for running-too-long. */
  private async confirmCause(request: ActionRequest): Promise<{ confirmed: boolean; message: string }> {
    if (request.cause === 'running-too-long') {
      if (!this.deps.runtimeCheck)
        return { confirmed: false, message: 'no Prometheus configured (ruleService.prometheus.url) to confirm how long the job has run' };
      const verdict = await this.deps.runtimeCheck.confirm(request.job);
      return { confirmed: verdict.tooLong, message: verdict.message };
    }
    if (!this.deps.idleCheck) return { confirmed: false, message: 'no Prometheus configured (ruleService.prometheus.url) to confirm that the job is idle' };
    const verdict = await this.deps.idleCheck.confirm(request.job);
    return { confirmed: verdict.idle, message: verdict.message };
  }

  private async downgrade(
    openpai: OpenPaiClient,
    request: ActionRequest,
    base: Omit<ActionOutcome, 'status' | 'message'>,
    steps: string[],
  ): Promise<ActionResponse> {
    const config = await openpai.jobConfig(request.job);
    const summary = summarizeJob(parseJobText(config, 'text/yaml'));
    const lower = lowerPriority(summary.priority);
    if (!lower) {
      return {
        httpStatus: 409,
        body: { ...base, status: 'failed', message: `${request.job} already runs at ${summary.priority}; there is nothing lower`, steps },
      };
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
    return {
      httpStatus: 200,
      body: { ...base, status: 'done', message: `${request.job} stopped and resubmitted as ${newJob} at ${lower}`, newJob, newPriority: lower, steps },
    };
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
