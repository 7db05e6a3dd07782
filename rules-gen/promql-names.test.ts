import { describe, expect, it } from 'vitest';
import { isAllowedMetric } from './allowed-series.js';
import { metricNames, unknownMetricNames } from './promql-names.js';

describe('metricNames', () => {
  it('finds plain selectors and leaves out functions, keywords and durations', () => {
    expect(metricNames('rate(node_cpu_seconds_total{mode="idle"}[5m]) > bool 0.5 and up offset 1h')).toEqual(['node_cpu_seconds_total', 'up']);
  });

  it('does not take label names in grouping clauses for metrics', () => {
    const expr = 'sum by (cluster, node) (a) * on (cluster, node) group_left (job, user) b / ignoring (gpu) c';
    expect(metricNames(expr)).toEqual(['a', 'b', 'c']);
  });

  it('handles aggregations with the grouping clause before or after the operand', () => {
    expect(metricNames('sum without (instance) (x) + avg(y) by (node) - count_values("v", z)')).toEqual(['x', 'y', 'z']);
  });

  it('reads recording rule names with colons', () => {
    expect(metricNames('avg_over_time(gpuwatch:job_gpu_utilization:avg{vc=~"nlp"}[1h]) < 0.1')).toEqual(['gpuwatch:job_gpu_utilization:avg']);
  });

  it('ignores label names and values inside braces, even ones that look like metrics', () => {
    expect(metricNames('m{job="up", node=~"a|b", instance!="x{y}"}')).toEqual(['m']);
  });

  it('reads __name__ matchers, and reports a regex on __name__ as written', () => {
    expect(metricNames('{__name__="gpuwatch_node_gpus", node="a"}')).toEqual(['gpuwatch_node_gpus']);
    expect(metricNames('{__name__=~"gpuwatch_.*"}')).toEqual(['{__name__=~"gpuwatch_.*"}']);
  });

  it('treats numbers in every form as numbers', () => {
    expect(metricNames('x > 1e-3 or y < 0x1F or z == Inf or w != NaN or v > .5')).toEqual(['x', 'y', 'z', 'w', 'v']);
  });

  it('skips subqueries, @ modifiers, strings and comments', () => {
    const expr = 'max_over_time(rate(x[5m])[1h:1m]) @ start() # y\n + label_replace(z, "dst", "$1", "src", "(.*)")';
    expect(metricNames(expr)).toEqual(['x', 'z']);
  });

  it('fails loudly on text it cannot tokenize', () => {
    expect(() => metricNames('x{a="b}')).toThrow(/unterminated string/);
    expect(() => metricNames('sum by (a (x)')).toThrow(/unbalanced/);
  });
});

describe('unknownMetricNames', () => {
  it('accepts catalog metrics, recording rules and allow-listed standard series', () => {
    const expr = 'gpuwatch_gpu_utilization_ratio * on (node) gpuwatch:node_gpu_utilization:avg and up and kube_node_status_condition';
    expect(unknownMetricNames(expr, isAllowedMetric)).toEqual([]);
  });

  it('names what is neither', () => {
    expect(unknownMetricNames('gpuwatch_gpu_utilisation_ratio > 0 or DCGM_FI_DEV_GPU_UTIL', isAllowedMetric)).toEqual([
      'DCGM_FI_DEV_GPU_UTIL',
      'gpuwatch_gpu_utilisation_ratio',
    ]);
  });
});
