/**
 * The PromQL that reads every run of the lookback at once: instant queries at the window's end,
 * each aggregated server-side to one series per run (or per GPU of a run), never one query per run.
 *
 * A run is one OpenPAI job id (the `job` label, `user~name`) on `gpuwatch_job_gpu_allocated`. The
 * per-GPU readings are followed through a run by a subquery over the lookback of
 *   allocation(node, uuid, job, user) * on (node, uuid) group_left () reading(node, uuid)
 * which exists only while the run holds the GPU, so `*_over_time` sees the run's samples only.
 * The allocation is the left (many) side: a GPU shared by two jobs (MIG) is no many-to-many error.
 */
import { GPU_METRICS, JOB_METRICS } from '../src/catalog/metrics.js';

export interface QueryWindow {
  /** Lookback in seconds. */
  lookbackSeconds: number;
  /** Subquery resolution in seconds. */
  stepSeconds: number;
  /** Quantile of a GPU's utilization over a run that decides whether it was busy. */
  busyQuantile: number;
}

export type QueryName = 'allocated' | 'busiest' | 'utilizationMean' | 'memoryPeak' | 'memoryTotal' | 'start' | 'end';

const ALLOC = JOB_METRICS.allocated.name;
const RUN = 'job, user';

/** The run's GPUs, one series per (node, uuid, job, user), value 1. */
const held = (inner: string) => `max by (node, uuid, ${RUN}) (${inner})`;

/** A per-GPU reading while the run holds the GPU. */
const whileHeld = (metric: string) => `${held(ALLOC)} * on (node, uuid) group_left () max by (node, uuid) (${metric})`;

export function rightsizeQueries(w: QueryWindow): Record<QueryName, string> {
  const range = `${w.lookbackSeconds}s`;
  const sub = `[${range}:${w.stepSeconds}s]`;
  return {
    // GPUs held per node: a plain range selector, no subquery.
    allocated: `count by (node, ${RUN}) (${held(`max_over_time(${ALLOC}[${range}])`)})`,
    // Per GPU of a run: the utilization quantile that decides "busy" (and the busiest GPU's).
    busiest: `quantile_over_time(${w.busyQuantile}, (${whileHeld(GPU_METRICS.utilization.name)})${sub})`,
    utilizationMean: `avg by (${RUN}) (avg_over_time((${whileHeld(GPU_METRICS.utilization.name)})${sub}))`,
    memoryPeak: `max by (${RUN}) (max_over_time((${whileHeld(GPU_METRICS.memoryUsed.name)})${sub}))`,
    memoryTotal: `max by (${RUN}) (${held(`max_over_time(${ALLOC}[${range}])`)} * on (node, uuid) group_left () max by (node, uuid) (max_over_time(${GPU_METRICS.memoryTotal.name}[${range}])))`,
    start: `min by (${RUN}) (min_over_time(timestamp(${ALLOC})${sub}))`,
    end: `max by (${RUN}) (max_over_time(timestamp(${ALLOC})${sub}))`,
  };
}
