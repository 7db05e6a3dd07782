/**
 * Who owns an OpenPAI job, and where to mail them — from OpenPAI, never from the alert: the job's
 * record (GET /api/v2/jobs/{user}~{job} → jobStatus.username), then the user's record
 * (GET /api/v2/users/{username} → email), else username@ownerEmailDomain. Alert labels are whatever
 * the sender wrote; only names that pass OpenPAI's user-name syntax ever become part of an address.
 * Answers are cached briefly; an unreachable rest-server is a reason to retry the mail later. Replies
 * are parsed (src/openpai/replies.ts): one that does not fit is named as such, field and all.
 */
import { jobRecordSchema, parseReply, userRecordSchema } from '../../src/openpai/replies.js';
import { isOpenPaiUserName } from '../incident/grouping.js';
import type { AddressBook, OwnerLookup } from '../notify/email.js';
import { isPlainAddress } from '../notify/email.js';
import type { RemoteService } from '../options.js';

const CACHE_MS = 10 * 60_000;

type Fetched = { ok: true; body: object } | { ok: false; permanent: boolean; error: string };

export class OwnerDirectory implements AddressBook {
  private readonly cache = new Map<string, { owner: { name: string; email: string }; until: number }>();

  constructor(
    private readonly openpai: RemoteService | undefined,
    private readonly fallbackDomain: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async ownerOf(job: string): Promise<OwnerLookup> {
    const cached = this.cache.get(job);
    if (cached && cached.until > this.now()) return { ok: true, ...cached.owner };
    const found = await this.lookUp(job);
    if (found.ok) this.cache.set(job, { owner: { name: found.name, email: found.email }, until: this.now() + CACHE_MS });
    return found;
  }

  /** The job's owner as OpenPAI records it; a job OpenPAI does not know has none. */
  async usernameOf(job: string): Promise<{ ok: true; username: string } | { ok: false; permanent: boolean; error: string }> {
    if (!this.openpai) return { ok: false, permanent: true, error: 'no OpenPAI rest-server configured (actions.openpai)' };
    const answer = await this.get(this.openpai, `/api/v2/jobs/${encodeURIComponent(job)}`, `job ${job}`);
    if (!answer.ok) return answer;
    const record = parseReply(jobRecordSchema, answer.body);
    if (!record.ok) return { ok: false, permanent: true, error: `OpenPAI's record of job ${job} does not fit: ${record.error}` };
    const username = record.data.jobStatus?.username ?? record.data.username;
    if (username === undefined || !isOpenPaiUserName(username))
      return { ok: false, permanent: true, error: `OpenPAI's record of job ${job} names no valid owner` };
    return { ok: true, username };
  }

  private async lookUp(job: string): Promise<OwnerLookup> {
    const owner = this.openpai ? await this.usernameOf(job) : ownerInJobId(job);
    if (!owner.ok) return owner;
    const name = owner.username;
    let problem = '';
    let permanent = true;
    if (this.openpai) {
      const user = await this.get(this.openpai, `/api/v2/users/${encodeURIComponent(name)}`, `user ${name}`);
      const record = user.ok ? parseReply(userRecordSchema, user.body) : undefined;
      const email = record?.ok ? record.data.email : undefined;
      if (email && isPlainAddress(email)) return { ok: true, name, email };
      problem = !user.ok
        ? user.error
        : record?.ok === false
          ? `OpenPAI's record of user ${name} does not fit: ${record.error}`
          : `OpenPAI has no usable e-mail address for ${name}`;
      permanent = user.ok || user.permanent;
    }
    if (this.fallbackDomain) return { ok: true, name, email: `${name}@${this.fallbackDomain}` };
    return { ok: false, permanent, error: problem || 'no OpenPAI rest-server or owner mail domain configured' };
  }

  private async get(openpai: RemoteService, path: string, what: string): Promise<Fetched> {
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (openpai.token) headers.authorization = `Bearer ${openpai.token}`;
      const res = await fetch(`${openpai.url}${path}`, { headers, signal: AbortSignal.timeout(openpai.timeoutMs) });
      if (res.status === 404) return { ok: false, permanent: true, error: `OpenPAI does not know ${what}` };
      if (!res.ok) return { ok: false, permanent: false, error: `OpenPAI answered ${res.status} for ${what}` };
      const body = (await res.json()) as unknown;
      if (typeof body !== 'object' || body === null) return { ok: false, permanent: false, error: `OpenPAI sent no record for ${what}` };
      return { ok: true, body };
    } catch (err) {
      return { ok: false, permanent: false, error: `OpenPAI unreachable: ${(err as Error).message}` };
    }
  }
}

/** Without a rest-server (dry run only): the user part of the job id, when it is a valid user name. */
function ownerInJobId(job: string): { ok: true; username: string } | { ok: false; permanent: boolean; error: string } {
  const user = job.split('~')[0] ?? '';
  return isOpenPaiUserName(user)
    ? { ok: true, username: user }
    : { ok: false, permanent: true, error: `"${job.slice(0, 100)}" does not start with a valid OpenPAI user name` };
}
