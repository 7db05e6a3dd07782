/**
 * Before a kill or downgrade: ask Prometheus whether the job really is idle. The job's GPUs
 * (`gpuwatch_job_gpu_allocated`, joined with `gpuwatch_gpu_utilization_ratio` on node and uuid;
 * on a GPU in MIG mode, the job's GPU instances joined with `gpuwatch_gpu_mig_utilization_ratio` on
 * node, uuid and gpu_instance_id) must have been busy on average less than `threshold` over
 * `window`, with utilization data over at least half of the window. Anything else refuses the
 * action: fail closed.
 */
import { promqlString, scalarQuery, type PrometheusTarget } from './prometheus-query.js';

export interface IdleCriterion {
  /** How far back the average reaches (seconds). */
  windowSeconds: number;
  /** Idle means an average utilization (0–1) strictly below this. */
  threshold: number;
}

export interface IdleCheckOptions extends IdleCriterion, PrometheusTarget {}

export type IdleVerdict = { idle: true; utilization: number; message: string } | { idle: false; message: string };

/** Subquery points over the window: one a minute, at least one a second, at most 60. */
export function stepSeconds(windowSeconds: number): number {
  return Math.max(1, Math.ceil(windowSeconds / 60));
}

/**
 * PromQL for the job's average GPU utilization over the window, and how many points it had. A GPU
 * in MIG mode has no whole-GPU utilization, so the two branches never both count one GPU.
 */
export function idleQueries(job: string, criterion: IdleCriterion): { average: string; points: string } {
  const selector = `gpuwatch_job_gpu_allocated{job=${promqlString(job)}}`;
  const instanceSelector = `gpuwatch_job_gpu_allocated{job=${promqlString(job)},gpu_instance_id!=""}`;
  const wholeGpus = `max by (node, uuid) (gpuwatch_gpu_utilization_ratio) * on (node, uuid) group_right () max by (node, uuid, job) (${selector})`;
  const instance = ['node', 'uuid', 'gpu_instance_id'].join(', ');
  const migInstances = `max by (${instance}) (gpuwatch_gpu_mig_utilization_ratio) * on (${instance}) group_right () max by (${instance}, job) (${instanceSelector})`;
  const perStep = `avg(${wholeGpus} or ${migInstances})`;
  const range = `[${criterion.windowSeconds}s:${stepSeconds(criterion.windowSeconds)}s]`;
  return { average: `avg_over_time((${perStep})${range})`, points: `count_over_time((${perStep})${range})` };
}

/** The verdict from the two query results (undefined: Prometheus had no data for the job). */
export function judgeIdle(job: string, criterion: IdleCriterion, average: number | undefined, points: number | undefined): IdleVerdict {
  const window = `${criterion.windowSeconds}s`;
  if (average === undefined || points === undefined || !Number.isFinite(average)) {
    return { idle: false, message: `Prometheus has no GPU utilization for ${job} over the last ${window}, so it cannot be confirmed idle` };
  }
  const expected = Math.floor(criterion.windowSeconds / stepSeconds(criterion.windowSeconds));
  if (points * 2 < expected) {
    return {
      idle: false,
      message: `Prometheus has GPU utilization for ${job} over only ${points} of ${expected} points of the last ${window}, too little to confirm it idle`,
    };
  }
  const percent = (r: number) => `${Number((r * 100).toPrecision(4))}%`;
  if (average >= criterion.threshold) {
    return {
      idle: false,
      message: `${job} is not idle: its GPUs were busy ${percent(average)} on average over the last ${window} (idle means below ${percent(criterion.threshold)})`,
    };
  }
  return {
    idle: true,
    utilization: average,
    message: `${job} confirmed idle: GPUs busy ${percent(average)} on average over the last ${window} (below ${percent(criterion.threshold)})`,
  };
}

export class IdleCheck {
  constructor(private readonly options: IdleCheckOptions) {}

  async confirm(job: string): Promise<IdleVerdict> {
    const queries = idleQueries(job, this.options);
    try {
      const [average, points] = await Promise.all([scalarQuery(this.options, queries.average), scalarQuery(this.options, queries.points)]);
      return judgeIdle(job, this.options, average, points);
    } catch (err) {
      return { idle: false, message: `cannot ask Prometheus whether ${job} is idle (${(err as Error).message}), so the action is refused` };
    }
  }
}
