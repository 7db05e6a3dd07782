/** Webhook and chat deliveries: a JSON POST whose answer decides between done, retry and give up. */
import type { Channel, DeliveryResult, RowOf } from './outbox.js';
import type { PostTarget } from './outbox-rows.js';

export async function postJson(target: PostTarget, body: unknown): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const res = await fetch(target.url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(target.timeoutMs) });
  return { status: res.status, text: await res.text() };
}

/** 2xx is done; 408, 429 and 5xx are retried; any other 4xx will not get better by retrying. */
export function resultOfStatus(status: number, text: string): DeliveryResult {
  if (status >= 200 && status < 300) return { ok: true };
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return { ok: false, permanent, error: `HTTP ${status}: ${text.slice(0, 300)}` };
}

export class WebhookChannel implements Channel<'webhook'> {
  /** A chat message a day late is noise. */
  readonly maxAgeMs = 24 * 3_600_000;

  /** @param compose the body a row stands for. */
  constructor(private readonly compose: (row: RowOf<'webhook'>) => unknown) {}

  async deliver(row: RowOf<'webhook'>): Promise<DeliveryResult> {
    const body = this.compose(row);
    try {
      const answer = await postJson(row.target, body);
      return resultOfStatus(answer.status, answer.text);
    } catch (err) {
      return { ok: false, permanent: false, error: (err as Error).message };
    }
  }
}
