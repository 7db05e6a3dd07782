/**
 * Delivers kill/downgrade requests to the rule service (POST /api/v1/actions) from the outbox. The
 * idempotency key makes a retry after a crash or a timeout safe: the rule service answers the same
 * outcome again without touching the job twice.
 */
import type { RouterContext } from '../context.js';
import { postJson } from '../notify/http-post.js';
import type { Channel, DeliveryResult, OutboxRow } from '../notify/outbox.js';
import type { RemoteService } from '../options.js';
import type { RouterTx } from '../store/db-schema.js';
import { forUpdate } from '../store/transact.js';
import { finishAction, type RuleServiceRequest } from './job-actions.js';

interface RuleServiceAnswer {
  status?: string;
  message?: string;
  error?: string;
  newJob?: string;
}

export class RuleServiceChannel implements Channel {
  /** A kill that could not be delivered within an hour is stale: the situation has changed. */
  readonly maxAgeMs = 3_600_000;

  constructor(
    private readonly ctx: RouterContext,
    private readonly service: RemoteService | undefined,
  ) {}

  async deliver(row: OutboxRow): Promise<DeliveryResult> {
    if (!this.service) return { ok: false, permanent: true, error: 'no rule service configured (actions.ruleService)' };
    const request = row.payload as RuleServiceRequest;
    const body = { job: request.job, action: request.action, reason: request.reason, idempotencyKey: request.idempotencyKey };
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

  async afterDelivery(trx: RouterTx, row: OutboxRow, result: DeliveryResult): Promise<void> {
    const request = row.payload as RuleServiceRequest;
    const action = await forUpdate(trx.selectFrom('router_actions').selectAll().where('id', '=', request.actionId), this.ctx.dialect).executeTakeFirst();
    if (!action || action.status !== 'requested') return;
    const detail = (result.detail ?? {}) as RuleServiceAnswer & { httpStatus?: number };
    const now = this.ctx.clock.now();
    if (result.ok) {
      await finishAction(this.ctx, trx, action, 'done', detail.message ?? 'done', now, detail.newJob ? { newJob: detail.newJob } : {});
    } else if (detail.httpStatus === 403 && detail.status === 'refused') {
      await finishAction(this.ctx, trx, action, 'refused', `the rule service refused: ${detail.message ?? result.error}`, now);
    } else {
      await finishAction(this.ctx, trx, action, 'failed', result.error, now);
    }
  }
}
