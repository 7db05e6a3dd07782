/**
 * OpenPAI job identity from a process's environment (/proc/<pid>/environ).
 *
 * OpenPAI sets these variables in every task container:
 * - `PAI_JOB_NAME`: `user~jobname` (current releases) or just `jobname` (older releases, which
 *   also set `PAI_USER_NAME`; the id is then rebuilt as `user~jobname`);
 * - `PAI_USER_NAME`, `PAI_VIRTUAL_CLUSTER`;
 * - `PAI_JOB_PRIORITY`: optional, only some deployments set it; absent means unknown.
 *
 * Reading another process's environ needs ptrace-read access to it (same user, or
 * CAP_SYS_PTRACE); without it the identity is unknown and attribution falls back to the pod.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobIdentity } from './types.js';

/** Splits a NUL-separated `KEY=VALUE` block. The first occurrence of a key wins, as getenv does. */
export function parseEnviron(buf: Buffer): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of buf.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    if (!env.has(key)) env.set(key, entry.slice(eq + 1));
  }
  return env;
}

/** A variable's trimmed value; empty means absent. */
function value(env: ReadonlyMap<string, string>, key: string): string | undefined {
  const v = env.get(key)?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The OpenPAI identity in an environment, or undefined when it is not an OpenPAI task. */
export function openPaiIdentity(env: ReadonlyMap<string, string>): Partial<JobIdentity> | undefined {
  const jobName = value(env, 'PAI_JOB_NAME');
  if (jobName === undefined) return undefined;
  const tilde = jobName.indexOf('~');
  const userFromJob = tilde > 0 ? jobName.slice(0, tilde) : undefined;
  const user = value(env, 'PAI_USER_NAME') ?? userFromJob;
  const job = tilde > 0 || user === undefined ? jobName : `${user}~${jobName}`;

  const identity: Partial<JobIdentity> = { job };
  if (user !== undefined) identity.user = user;
  const vc = value(env, 'PAI_VIRTUAL_CLUSTER');
  if (vc !== undefined) identity.vc = vc;
  const priority = value(env, 'PAI_JOB_PRIORITY');
  if (priority !== undefined) identity.priority = priority;
  return identity;
}

/**
 * Reads and parses /proc/<pid>/environ. Undefined when it cannot be read: the process exited
 * (ENOENT, ESRCH), or the exporter may not read it (EACCES, EPERM). Never throws.
 */
export async function readEnviron(procRoot: string, pid: number): Promise<Map<string, string> | undefined> {
  try {
    return parseEnviron(await readFile(join(procRoot, String(pid), 'environ')));
  } catch {
    return undefined;
  }
}
