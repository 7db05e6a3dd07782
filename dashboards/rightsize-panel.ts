/**
 * The efficiency dashboard's "Recommended vs requested" section: per recurring job over the
 * dashboard's range, the most GPUs a run held, the most it kept busy, and the peak GPU memory.
 *
 * The same definitions as `gpuwatch rightsize` (rightsize/queries.ts), in PromQL: a recurring job is
 * the job id with the configured run suffix (`rightsize.runSuffix`) removed by `label_replace`; a
 * GPU of a run is busy when its utilization quantile (`busyQuantile`) over the run reaches
 * `busyThreshold`. What the panel does not do is the CLI's judgement: it counts every run in the
 * range (no "completed normal run", no minimum of runs) and does not round to the SKU. Subqueries
 * step by 5 minutes to keep a 7-day range affordable; the memory peak is the maximum of each
 * 5-minute window, so no sample is missed.
 */
import type { LoadedConfig } from '../src/config/load.js';
import { GPU_METRICS, JOB_METRICS } from '../src/catalog/metrics.js';
import { tablePanel } from './panels.js';
import { sel } from './promql.js';
import * as units from '@grafana/grafana-foundation-sdk/units';

const STEP = '5m';

/** `expr` with the label `recurring_job`: the job id without its run suffix (group.ts's rule). */
export function recurringJob(expr: string, runSuffix: string): string {
  const regex = JSON.stringify(`([^~]*~.+?)(?:${runSuffix})?`);
  return `label_replace(${expr}, "recurring_job", "$1", "job", ${regex})`;
}

export function recommendedVsRequested(loaded: LoadedConfig, C: string, matchers: string[]) {
  const r = loaded.config.rightsize;
  const alloc = sel(JOB_METRICS.allocated.name, C, ...matchers);
  const perRecurring = (perRun: string) => `max by (cluster, user, recurring_job) (${recurringJob(perRun, r.runSuffix)})`;
  const whileHeld = (reading: string) => `${alloc} * on (cluster, node, uuid) group_left () ${reading}`;
  const held = `count by (cluster, job, user) (max by (cluster, node, uuid, job, user) (max_over_time(${alloc}[$__range])))`;
  const quantile = `max by (cluster, node, uuid, job, user) (quantile_over_time(${r.busyQuantile}, (${whileHeld(sel(GPU_METRICS.utilization.name, C))})[$__range:${STEP}]))`;
  const busy = `count by (cluster, job, user) (${quantile} >= ${r.busyThreshold})`;
  const memory = `max by (cluster, job, user) (max_over_time((${whileHeld(`max_over_time(${sel(GPU_METRICS.memoryUsed.name, C)}[${STEP}])`)})[$__range:${STEP}]))`;
  return tablePanel({
    title: 'Recommended vs requested',
    description: `Per recurring job (job id without the run suffix ${r.runSuffix}) over the range: the most GPUs a run held, the most GPUs a run kept busy (utilization p${Math.round(r.busyQuantile * 100)} over the run ≥ ${r.busyThreshold * 100}%), and the peak memory on one GPU. \`gpuwatch rightsize\` turns the same figures into recommendations, counting only completed normal runs and rounding to the SKU.`,
    queries: [{ expr: `sort_desc(${perRecurring(held)})` }, { expr: perRecurring(busy) }, { expr: perRecurring(memory) }],
    columns: [
      { field: 'recurring_job', header: 'Recurring job' },
      { field: 'user', header: 'User' },
      { field: 'Value #A', header: 'GPUs requested (most)' },
      { field: 'Value #B', header: 'GPUs busy (most)' },
      { field: 'Value #C', header: 'Peak GPU memory', unit: units.BytesIEC },
    ],
    width: 24,
    height: 10,
  });
}
