/**
 * Job owners' e-mail addresses: OpenPAI rest-server's GET /api/v2/users/{user} → .email, else
 * user@ownerEmailDomain. Answers are cached briefly; an unreachable rest-server without a fallback
 * domain is a reason to retry the mail later, not to drop it.
 */
import type { AddressBook } from '../notify/email.js';
import type { RemoteService } from '../options.js';

const CACHE_MS = 10 * 60_000;

export class OwnerDirectory implements AddressBook {
  private readonly cache = new Map<string, { email: string; until: number }>();

  constructor(
    private readonly openpai: RemoteService | undefined,
    private readonly fallbackDomain: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async emailOf(user: string): Promise<{ ok: true; email: string } | { ok: false; permanent: boolean; error: string }> {
    const cached = this.cache.get(user);
    if (cached && cached.until > this.now()) return { ok: true, email: cached.email };
    let problem = 'no OpenPAI rest-server configured (actions.openpai)';
    let permanent = true;
    if (this.openpai) {
      const found = await this.lookUp(this.openpai, user);
      if (found.email) {
        this.cache.set(user, { email: found.email, until: this.now() + CACHE_MS });
        return { ok: true, email: found.email };
      }
      problem = found.problem;
      permanent = found.permanent;
    }
    if (this.fallbackDomain) return { ok: true, email: `${user}@${this.fallbackDomain}` };
    return { ok: false, permanent, error: problem };
  }

  private async lookUp(openpai: RemoteService, user: string): Promise<{ email?: string; problem: string; permanent: boolean }> {
    try {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (openpai.token) headers.authorization = `Bearer ${openpai.token}`;
      const res = await fetch(`${openpai.url}/api/v2/users/${encodeURIComponent(user)}`, { headers, signal: AbortSignal.timeout(openpai.timeoutMs) });
      if (res.status === 404) return { problem: `OpenPAI has no user ${user}`, permanent: true };
      if (!res.ok) return { problem: `OpenPAI answered ${res.status}`, permanent: false };
      const body = (await res.json()) as { email?: unknown };
      if (typeof body.email === 'string' && body.email.includes('@')) return { email: body.email, problem: '', permanent: true };
      return { problem: `OpenPAI has no e-mail address for ${user}`, permanent: true };
    } catch (err) {
      return { problem: `OpenPAI unreachable: ${(err as Error).message}`, permanent: false };
    }
  }
}
