/**
 * Runs → recurring jobs, and which runs count. Pure.
 *
 * Grouping rule: a run's job id is `user~name`; its recurring job is `user~base`, where base is the
 * name with the run suffix (a regular expression matched at the end of the name) removed. Runs of
 * different users never share a recurring job.
 *
 * "Completed normal run":
 * - with an OpenPAI rest-server configured: the job's state there is SUCCEEDED (a FAILED, STOPPED
 *   or still RUNNING job does not count, nor one rest-server no longer lists);
 * - without: from the series alone. Completed = the run's last allocation sample lies more than
 *   Prometheus's 5-minute lookback plus two steps before the window's end (a run that still holds
 *   GPUs is not finished). Normal = it lasted at least `minDurationRatio` of the median duration of
 *   its recurring job's completed runs: a run that failed or was stopped midway ends far earlier
 *   than its siblings, and its readings (often an out-of-memory peak) are left out.
 */
import type { Run } from './runs.js';

export type RunVerdict = 'normal' | 'running' | 'short' | 'not-succeeded';

export interface RecurringJob {
  /** `user~base`. */
  id: string;
  user: string;
  runs: { run: Run; verdict: RunVerdict }[];
}

export interface Completion {
  /** Unix seconds: the end of the lookback window. */
  at: number;
  stepSeconds: number;
  minDurationRatio: number;
  /** OpenPAI job id → state, when rest-server is the source. */
  states?: ReadonlyMap<string, string>;
}

/** Prometheus's default lookback delta: an instant selector sees a sample this long after it. */
export const LOOKBACK_DELTA_SECONDS = 300;

/** The whole-name regular expression that splits `name` into base and run suffix. */
export function runSuffixPattern(runSuffix: string): RegExp {
  return new RegExp(`^(.+?)(?:${runSuffix})?$`);
}

export function recurringId(job: string, pattern: RegExp): string {
  const tilde = job.indexOf('~');
  const [user, name] = tilde < 0 ? ['', job] : [job.slice(0, tilde), job.slice(tilde + 1)];
  const base = pattern.exec(name)?.[1] ?? name;
  return tilde < 0 ? base : `${user}~${base}`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function groupRuns(runs: readonly Run[], runSuffix: string, completion: Completion): RecurringJob[] {
  const pattern = runSuffixPattern(runSuffix);
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const id = `${run.user}\u0000${recurringId(run.job, pattern)}`;
    groups.set(id, [...(groups.get(id) ?? []), run]);
  }
  return [...groups.entries()]
    .map(([key, members]) => {
      const id = key.slice(key.indexOf('\u0000') + 1);
      const sorted = [...members].sort((a, b) => a.start - b.start || a.job.localeCompare(b.job));
      return { id, user: sorted[0]?.user ?? '', runs: judge(sorted, completion) };
    })
    .sort((a, b) => a.id.localeCompare(b.id) || a.user.localeCompare(b.user));
}

function judge(runs: Run[], c: Completion): RecurringJob['runs'] {
  if (c.states) {
    const states = c.states;
    return runs.map((run) => ({ run, verdict: states.get(run.job) === 'SUCCEEDED' ? 'normal' : 'not-succeeded' }));
  }
  const finishedBy = c.at - LOOKBACK_DELTA_SECONDS - 2 * c.stepSeconds;
  const completed = runs.filter((r) => r.end < finishedBy);
  const typical = median(completed.map((r) => r.end - r.start));
  return runs.map((run) => {
    if (run.end >= finishedBy) return { run, verdict: 'running' };
    return { run, verdict: run.end - run.start >= c.minDurationRatio * typical ? 'normal' : 'short' };
  });
}
