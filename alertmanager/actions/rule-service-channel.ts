/**
 * Delivers kill/downgrade requests to the rule service (POST /api/v1/actions) from the outbox. The
 * idempotency key makes a retry after a crash or a timeout safe: the rule service answers the same
 * outcome again without touching the job twice.
 *
 * Each attempt first looks again: a request that waited (the rule service was down) is dropped once
 * its alert resolved or its incident closed, and a job OpenPAI does not know, or whose owner is
 * exempt, is never acted on.
 */
import type { RouterContext } from '../context.js';
import { postJson } from '../notify/http-post.js';
import type { Channel, DeliveryResult, RowOf } from '../notify/outbox.js';
import type { RemoteService } from '../options.js';
import type { RouterTx } from '../store/db-schema.js';
import { forUpdate } from '../store/transact.js';
import type { RuleServiceRequest } from '../notify/outbox-rows.js';
import { finishAction } from './job-actions.js';
import type { OwnerDirectory } from './owner-directory.js';

/** Why a request was not sent after all; recorded as the action's outcome. */
interface Withheld {
  withheld: 'cancelled' | 'refused';
  message: string;
}

interface RuleServiceAnswer {
  status?: string;
  message?: string;
  error?: string;
  newJob?: string;
}

export class RuleServiceChannel implements Channel<'rule-service'> {
  /** A kill that could not be delivered within an hour is stale: the situation has changed. */
  readonly maxAgeMs = 3_600_000;

  constructor(
    private readonly ctx: RouterContext,
    private readonly service: RemoteService | undefined,
    private readonly owners: OwnerDirectory,
  ) {}

  async deliver(row: RowOf<'rule-service'>): Promise<DeliveryResult> {
    if (!this.service) return { ok: false, permanent: true, error: 'no rule service configured (actions.ruleService)' };
    const request = row.payload;
    const withheld = await this.stillWanted(request);
    if (withheld !== undefined) return withheld;
    // A request queued before causes were stored has none: the rule service then checks idleness.
    const body = {
      job: request.job,
      action: request.action,
      cause: request.cause ?? 'low-utilization',
      reason: request.reason,
      idempotencyKey: request.idempotencyKey,
    };
    let answer: { status: number; text: string };
    try {
      answer = await postJson({ url: `${this.service.url}/api/v1/actions`, token: this.service.token, timeoutMs: this.service.timeoutMs }, body);
    } catch (err) {
      return { ok: false, permanent: false, error: `rule service unreachable: ${(err as Error).message}` };
    }
    let parsed: RuleServiceAnswer = {};
    try {
      parsed = JSON.parse(answer.text) as RuleServiceAnswer;
    } catch {
      parsed = { message: answer.text.slice(0, 300) };
    }
    const detail = { httpStatus: answer.status, ...parsed };
    if (answer.status >= 200 && answer.status < 300) return { ok: true, detail };
    // 409 "pending": the same request is still running there; ask again later.
    const retry = answer.status >= 500 || answer.status === 408 || answer.status === 429 || (answer.status === 409 && parsed.status === 'pending');
    return { ok: false, permanent: !retry, error: `HTTP ${answer.status}: ${parsed.message ?? parsed.error ?? ''}`, detail };
  }

  /** Undefined when the request should go out now; otherwise the final result that stands for it. */
  private async stillWanted(request: RuleServiceRequest): Promise<DeliveryResult | undefined> {
    const withhold = (withheld: Withheld['withheld'], message: string): DeliveryResult => ({
      ok: false,
      permanent: true,
      error: message,
      detail: { withheld, message } satisfies Withheld,
    });
    const db = this.ctx.db;
    const action = await db.selectFrom('router_actions').select(['alert_id', 'incident_id', 'status']).where('id', '=', request.actionId).executeTakeFirst();
    if (!action || action.status !== 'requested') return withhold('cancelled', 'the action is no longer pending');
    const alert = await db.selectFrom('router_alerts').select('status').where('id', '=', action.alert_id).executeTakeFirst();
    const incident = await db.selectFrom('router_incidents').select('status').where('id', '=', action.incident_id).executeTakeFirst();
    if (alert?.status !== 'firing') return withhold('cancelled', 'the alert resolved before the request could be delivered');
    if (incident?.status === 'resolved') return withhold('cancelled', 'the incident was resolved before the request could be delivered');
    const owner = await this.owners.usernameOf(request.job);
    if (!owner.ok) return owner.permanent ? withhold('refused', `no action: ${owner.error}`) : { ok: false, permanent: false, error: owner.error };
    if (this.ctx.options.actions.exemptUsers.includes(owner.username)) return withhold('refused', `${request.job} is exempt (its owner ${owner.username})`);
    return undefined;
  }

  async afterDelivery(trx: RouterTx, row: RowOf<'rule-service'>, result: DeliveryResult): Promise<void> {
    const request = row.payload;
    const action = await forUpdate(trx.selectFrom('router_actions').selectAll().where('id', '=', request.actionId), this.ctx.dialect).executeTakeFirst();
    if (!action || action.status !== 'requested') return;
    const detail = (result.detail ?? {}) as RuleServiceAnswer & { httpStatus?: number } & Partial<Withheld>;
    const now = this.ctx.clock.now();
    if (detail.withheld !== undefined) {
      await finishAction(this.ctx, trx, action, detail.withheld, detail.message ?? '', now);
    } else if (result.ok) {
      await finishAction(this.ctx, trx, action, 'done', detail.message ?? 'done', now, detail.newJob ? { newJob: detail.newJob } : {});
    } else if (detail.httpStatus === 403 && detail.status === 'refused') {
      await finishAction(this.ctx, trx, action, 'refused', `the rule service refused: ${detail.message ?? result.error}`, now);
    } else {
      await finishAction(this.ctx, trx, action, 'failed', result.error, now);
    }
  }
}
