/**
 * The few OpenPAI rest-server calls the rule service makes (DESIGN §9): list a user's jobs, read a
 * job's config, tag, stop, submit. Every call has a timeout; failures say whether the server could
 * be reached at all. JSON replies are checked against what the service reads from them: one that does
 * not fit is an error naming the field, never taken as it is.
 */
import type { z } from 'zod';
import { errorReplySchema, jobListSchema, parseReply, type ListedJob } from '../src/openpai/replies.js';

export interface JobListQuery {
  username?: string;
  vc?: string;
  state?: readonly string[];
  jobPriority?: readonly string[];
  offset?: number;
  limit?: number;
}

export class OpenPaiError extends Error {
  constructor(
    message: string,
    /** The HTTP status rest-server answered with; undefined when it could not be reached. */
    readonly status?: number,
    /** OpenPAI's error code (`NoJobError`, `ForbiddenUserError`, …) when it sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'OpenPaiError';
  }

  get unreachable(): boolean {
    return this.status === undefined;
  }

  /** Worth retrying later: the server was unreachable or failed itself. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

export interface OpenPaiClientOptions {
  url: string;
  /** Sent as `Authorization: Bearer …`; calls given a token use it only when this is unset. */
  token?: string;
  timeoutMs?: number;
}

const PAGE = 5_000;
const MAX_PAGES = 20;

export class OpenPaiClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: OpenPaiClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 3_000;
  }

  get url(): string {
    return this.base;
  }

  async listJobs(query: JobListQuery, token?: string): Promise<ListedJob[]> {
    const params = new URLSearchParams();
    if (query.username !== undefined) params.set('username', query.username);
    if (query.vc !== undefined) params.set('vc', query.vc);
    if (query.state) params.set('state', query.state.join(','));
    if (query.jobPriority) params.set('jobPriority', query.jobPriority.join(','));
    if (query.offset !== undefined) params.set('offset', String(query.offset));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    return this.callJson('GET', `/api/v2/jobs?${params.toString()}`, jobListSchema, { token });
  }

  /** Every job of a user in the given states, page by page (at most 100,000 jobs). */
  async userJobs(username: string, states: readonly string[], token?: string): Promise<ListedJob[]> {
    const all: ListedJob[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const jobs = await this.listJobs({ username, state: states, offset: page * PAGE, limit: PAGE }, token);
      all.push(...jobs);
      if (jobs.length < PAGE) break;
    }
    return all;
  }

  /** The job's submitted config (YAML text). */
  async jobConfig(job: string): Promise<string> {
    return this.call('GET', `/api/v2/jobs/${encodeURIComponent(job)}/config`, { text: true });
  }

  async stopJob(job: string): Promise<void> {
    await this.call('PUT', `/api/v2/jobs/${encodeURIComponent(job)}/executionType`, { json: { value: 'STOP' } });
  }

  async addTag(job: string, tag: string): Promise<void> {
    await this.call('PUT', `/api/v2/jobs/${encodeURIComponent(job)}/tag`, { json: { value: tag } });
  }

  async submitJob(yamlText: string): Promise<void> {
    await this.call('POST', '/api/v2/jobs', { body: yamlText, contentType: 'text/yaml' });
  }

  /** A JSON reply, checked against `schema`. */
  private async callJson<S extends z.ZodTypeAny>(method: string, path: string, schema: S, opts: { token?: string } = {}): Promise<z.output<S>> {
    const what = `rest-server ${method} ${path.split('?')[0]}`;
    const text = await this.call(method, path, opts);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OpenPaiError(`${what} answered with invalid JSON`, 200);
    }
    const parsed = parseReply(schema, body);
    if (!parsed.ok) throw new OpenPaiError(`${what} answered with an unexpected reply: ${parsed.error}`, 200);
    return parsed.data;
  }

  /** The reply's text (after a 2xx status). */
  private async call(
    method: string,
    path: string,
    opts: { token?: string; json?: unknown; body?: string; contentType?: string; text?: boolean } = {},
  ): Promise<string> {
    const headers: Record<string, string> = { accept: opts.text ? 'text/yaml, */*' : 'application/json' };
    // The service's own token wins; a caller's token (the submitter's, in proxy mode) is the fallback.
    const token = this.options.token ?? opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    } else if (opts.contentType) {
      headers['content-type'] = opts.contentType;
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (cause ?? (err as Error).message);
      throw new OpenPaiError(`rest-server ${this.base} unreachable: ${why}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const { code, message } = errorReply(text);
      throw new OpenPaiError(`rest-server ${method} ${path.split('?')[0]}: ${response.status}${code ? ` ${code}` : ''}: ${message}`, response.status, code);
    }
    return text;
  }
}

/** OpenPAI's error code and message from an error reply; its text when it is not rest-server's error JSON. */
function errorReply(text: string): { code?: string; message: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.slice(0, 500) };
  }
  const parsed = parseReply(errorReplySchema, body);
  return parsed.ok ? { code: parsed.data.code, message: parsed.data.message ?? text.slice(0, 500) } : { message: text.slice(0, 500) };
}
