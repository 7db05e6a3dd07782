/** Tiny helpers for writing PromQL selectors from catalog and recording-rule names. */

/** `name{m1, m2}`; just `name` without matchers. */
export function sel(name: string, ...matchers: string[]): string {
  return matchers.length === 0 ? name : `${name}{${matchers.join(', ')}}`;
}

/** Step of the subqueries that turn GPU counts into GPU-hours. */
export const GPU_HOURS_STEP = '1m';

/**
 * GPU-hours over the dashboard's time range of an expression that counts GPUs at an instant:
 *
 *   GPU-hours = (Σ over the 1-minute steps t of the range of gpus(t)) / (number of steps) × range in hours
 *
 * that is, the mean number of GPUs over the range, counting a step where the series is absent (a VC
 * with no jobs) as 0, times the range's length. Dividing by the counted steps rather than by 60 per
 * hour keeps the figure exact on Prometheus 2 (closed ranges: 61 steps in an hour) and 3 (60), and a
 * fixed-step subquery does not depend on the rule evaluation interval.
 */
export function gpuHours(gpusExpr: string, by = ''): string {
  const sum = by === '' ? 'sum' : `sum by (${by})`;
  const steps = `count_over_time(vector(1)[$__range:${GPU_HOURS_STEP}])`;
  return `${sum} (sum_over_time((${gpusExpr})[$__range:${GPU_HOURS_STEP}])) / scalar(${steps}) * $__range_s / 3600`;
}
