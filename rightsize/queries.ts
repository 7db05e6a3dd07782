/**
 * The PromQL that reads every run of the lookback at once: instant queries at the window's end,
 * each aggregated server-side to one series per run (or per GPU of a run), never one query per run.
 *
 * A run is one OpenPAI job id (the `job` label, `user~name`) on `gpuwatch_job_gpu_allocated`. The
 * per-GPU readings are followed through a run by a subquery over the lookback of
 *   allocation(node, uuid, job, user) * on (node, uuid) group_left () reading(node, uuid)
 * which exists only while the run holds the GPU, so `*_over_time` sees the run's samples only.
 * The allocation is the left (many) side: a GPU shared by two jobs (MIG) is no many-to-many error.
 * (Backfilled history has no staleness markers: there a run's allocation is still seen for the
 * 5-minute lookback after its last sample, with the GPU's readings of those minutes.)
 */
import { GPU_METRICS, JOB_METRICS, NODE_METRICS } from '../src/catalog/metrics.js';

export interface QueryWindow {
  /** Lookback in seconds. */
  lookbackSeconds: number;
  /** Subquery resolution in seconds. */
  stepSeconds: number;
  /** Quantile of a GPU's utilization over a run that decides whether it was busy. */
  busyQuantile: number;
}

export type QueryName = 'allocated' | 'busiest' | 'memoryPeak' | 'memoryTotal' | 'start' | 'end';
export type HostQueryName = 'hostMemoryPeak' | 'hostCpu';

const ALLOC = JOB_METRICS.allocated.name;
const RUN = 'job, user';
/** Resolution of the subquery that finds each run's last sample; below the 5-minute lookback delta. */
export const END_STEP_SECONDS = 240;

/** The run's GPUs, one series per (node, uuid, job, user), value 1. */
const held = (inner: string) => `max by (node, uuid, ${RUN}) (${inner})`;

/**
 * A per-GPU reading while the run holds the GPU. Neither side is aggregated inside the subquery:
 * an aggregation there runs at every step over every run's series and costs more than the join
 * itself (measured: about 1.5 s → 3.6 s at 1,000 jobs × 10 runs). So the reading must have one
 * series per (node, uuid), as the exporter gives it, and a run with two allocation series on one
 * GPU (two MIG instances) yields two results, which extractRuns counts as one GPU.
 */
const whileHeld = (metric: string) => `${ALLOC} * on (node, uuid) group_left () ${metric}`;

export function rightsizeQueries(w: QueryWindow): Record<QueryName, string> {
  const range = `${w.lookbackSeconds}s`;
  const sub = `[${range}:${w.stepSeconds}s]`;
  return {
    // GPUs held per node: a plain range selector, no subquery.
    allocated: `count by (node, ${RUN}) (${held(`max_over_time(${ALLOC}[${range}])`)})`,
    // Per GPU of a run: the utilization quantile that decides "busy", and the distribution over the
    // run's GPUs. (A mean as well would be one more join over every step: about 20% more time.)
    busiest: `quantile_over_time(${w.busyQuantile}, (${whileHeld(GPU_METRICS.utilization.name)})${sub})`,
    // The highest sample of each step's window, so a peak between two steps is not missed.
    memoryPeak: `max by (${RUN}) (max_over_time((${whileHeld(`max_over_time(${GPU_METRICS.memoryUsed.name}[${w.stepSeconds}s])`)})${sub}))`,
    memoryTotal: `max by (${RUN}) (${held(`max_over_time(${ALLOC}[${range}])`)} * on (node, uuid) group_left () max by (node, uuid) (max_over_time(${GPU_METRICS.memoryTotal.name}[${range}])))`,
    // The first subquery step at which the run holds a GPU (at most one step late).
    start: `min by (${RUN}) (min_over_time((max by (${RUN}) (${ALLOC}) * 0 + time())${sub}))`,
    // The run's last allocation sample itself: timestamp() of a selector is the sample's time, and a
    // step shorter than Prometheus's 5-minute lookback sees every last sample (a finer step costs
    // several times more: timestamp() evaluates the selector step by step).
    end: `max by (${RUN}) (max_over_time(timestamp(${ALLOC})[${range}:${END_STEP_SECONDS}s]))`,
  };
}

/**
 * Host CPU and memory of the nodes a run held GPUs on (`--host`), per (node, run): the node's, not
 * the run's own, so recommend.ts reports them only for runs that held every GPU of their nodes.
 */
export function hostQueries(w: QueryWindow): Record<HostQueryName, string> {
  const sub = `[${w.lookbackSeconds}s:${w.stepSeconds}s]`;
  const onNode = (reading: string) => `${ALLOC} * on (node) group_left () ${reading}`;
  const used = `(max by (node) (${NODE_METRICS.memoryTotal.name}) - max by (node) (${NODE_METRICS.memoryAvailable.name}))`;
  return {
    hostMemoryPeak: `max by (node, ${RUN}) (max_over_time((${onNode(used)})${sub}))`,
    hostCpu: `max by (node, ${RUN}) (quantile_over_time(${w.busyQuantile}, (${onNode(`max by (node) (${NODE_METRICS.cpuUtilization.name})`)})${sub}))`,
  };
}
