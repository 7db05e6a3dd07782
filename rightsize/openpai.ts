/**
 * The OpenPAI side of "completed normal run": the ids (`user~name`) of the jobs rest-server lists as
 * SUCCEEDED, read with `GET /api/v2/jobs?state=SUCCEEDED` in pages of 50,000 (rest-server's most).
 */
import { jobListSchema, parseReply } from '../src/openpai/replies.js';
import { RightsizeError } from './prometheus-client.js';

export interface OpenPaiEndpoint {
  url: string;
  token?: string;
  timeoutMs: number;
}

const PAGE = 50_000;
const MAX_PAGES = 1_000;

async function page(e: OpenPaiEndpoint, offset: number): Promise<unknown> {
  const url = `${e.url.replace(/\/+$/, '')}/api/v2/jobs?state=SUCCEEDED&limit=${PAGE}&offset=${offset}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: e.token ? { authorization: `Bearer ${e.token}` } : {}, signal: AbortSignal.timeout(e.timeoutMs) });
  } catch (err) {
    const x = err as Error & { cause?: { code?: string } };
    throw new RightsizeError(
      `cannot reach OpenPAI rest-server at ${e.url}: ${x.name === 'TimeoutError' ? `no answer within ${e.timeoutMs / 1000} s` : (x.cause?.code ?? x.message)}`,
    );
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const message = (body as { message?: string } | undefined)?.message ?? '';
    throw new RightsizeError(`OpenPAI rest-server at ${e.url} answered GET /api/v2/jobs with HTTP ${response.status} ${message}`.trim());
  }
  return body;
}

/** Job id → state for every SUCCEEDED job rest-server lists. */
export async function succeededJobs(e: OpenPaiEndpoint): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (let p = 0; p < MAX_PAGES; p++) {
    const parsed = parseReply(jobListSchema, await page(e, p * PAGE));
    if (!parsed.ok) throw new RightsizeError(`OpenPAI rest-server at ${e.url}: not a job list (${parsed.error})`);
    for (const job of parsed.data) states.set(`${job.username}~${job.name}`, job.state);
    if (parsed.data.length < PAGE) return states;
  }
  throw new RightsizeError(`OpenPAI rest-server at ${e.url} listed more than ${MAX_PAGES * PAGE} succeeded jobs`);
}
