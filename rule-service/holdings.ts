/** What a user holds now: GPUs per priority over their running and waiting jobs. */
import { holdingsOf, isPriority, type Holdings, type Priority } from './priority.js';
import type { ListedJob } from '../src/openpai/replies.js';

/** The job states that hold (or are about to hold) GPUs: a stopping job keeps its GPUs until it has stopped. */
export const HOLDING_STATES = ['RUNNING', 'WAITING', 'STOPPING'] as const;

/** Sums `totalGpuNumber` by `jobPriority` (null or unknown → default), over holding states only. */
export function holdingsFromJobs(jobs: readonly ListedJob[]): Holdings {
  const sums: Record<Priority, number> = { prod: 0, test: 0, default: 0, oppo: 0 };
  for (const job of jobs) {
    if (!(HOLDING_STATES as readonly string[]).includes(job.state)) continue;
    const priority = isPriority(job.jobPriority) ? job.jobPriority : 'default';
    const gpus = job.totalGpuNumber ?? 0;
    if (Number.isFinite(gpus) && gpus > 0) sums[priority] += gpus;
  }
  return holdingsOf(sums);
}
