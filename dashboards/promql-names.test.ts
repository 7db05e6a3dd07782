import { describe, expect, it } from 'vitest';
import { metricNamesIn, selectorsIn, variableQueryLabel, variableQueryPromql } from './promql-names.js';

describe('metricNamesIn', () => {
  const cases: [string, string[]][] = [
    ['up', ['up']],
    ['gpuwatch_gpu_info{node="a", gpu=~"0|1"}', ['gpuwatch_gpu_info']],
    ['rate(x_total[5m])', ['x_total']],
    ['sum by (node, gpu) (increase(a_total{scope="volatile"}[$__rate_interval]))', ['a_total']],
    ['sum(a) by (node) / ignoring (gpu) group_left (job, user) b', ['a', 'b']],
    ['a * on (cluster, node, uuid) group_left () b', ['a', 'b']],
    ['a * on(node) group_right c', ['a', 'c']],
    ['SUM BY (vc) (a) AND ON (vc) b OR c UNLESS d', ['a', 'b', 'c', 'd']],
    ['count without (gpu) (a) > bool 0', ['a']],
    ['histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))', ['h_bucket']],
    ['topk(5, a) + bottomk(2, b) + quantile(0.5, c) + count_values("v", d)', ['a', 'b', 'c', 'd']],
    ['a offset 5m + b offset -1h30m + c @ 1609746000 + d @ start()', ['a', 'b', 'c', 'd']],
    ['sum_over_time((a * on (cluster, vc) b)[$__range:1m]) / 60', ['a', 'b']],
    ['max_over_time(a[1h:5m] offset 1d)', ['a']],
    ['1e-3 * a + 0x1F + .5 + Inf - NaN + 2E+3', ['a']],
    ['label_replace(a, "dst_label", "$1", "src_label", "(node_.*)")', ['a']],
    ['a{job=~"x}y", name!="{b}"} + c{label=\'it\\\'s d\'}', ['a', 'c']],
    ['time() - min(start_seconds{job="$job"}) * $__range_s / ${__interval_ms}', ['start_seconds']],
    ['a[[interval]] + b', ['a', 'b']],
    ['gpuwatch:vc_gpus_allocated:sum{cluster="$cluster"}', ['gpuwatch:vc_gpus_allocated:sum']],
    ['a # trailing comment names not_a_metric\n + b', ['a', 'b']],
    ['clamp_min(1 - (sum(x) or vector(0)) / sum(y), 0)', ['x', 'y']],
    ['vector(1)', []],
    ['`raw ${string} with metric_like words`', []],
  ];
  it.each(cases)('%s', (expr, names) => {
    expect(metricNamesIn(expr)).toEqual([...names].sort());
  });

  it('reads the name from __name__ and from Prometheus 3 quoted names', () => {
    expect(metricNamesIn('{__name__="up", job="x"}')).toEqual(['up']);
    expect(metricNamesIn('{"my.metric", node="a"}')).toEqual(['my.metric']);
  });

  it('reports a selector without a usable name as its raw text, which no allow-list holds', () => {
    expect(metricNamesIn('{cluster="a"}')).toEqual(['{cluster="a"}']);
    expect(metricNamesIn('{__name__=~"gpuwatch_.*"}')).toEqual(['{__name__=~"gpuwatch_.*"}']);
  });

  it('treats an aggregation word as a metric only when it is not used as an aggregation', () => {
    expect(metricNamesIn('sum by (a) (b)')).toEqual(['b']);
    expect(metricNamesIn('count + 1')).toEqual(['count']);
  });
});

describe('selectorsIn', () => {
  it('returns the label names of each selector, ignoring grouping lists', () => {
    expect(selectorsIn('sum by (vc) (a{cluster="c", vc=~"$vc"}) / on (vc) b')).toEqual([
      { name: 'a', labels: ['cluster', 'vc'] },
      { name: 'b', labels: [] },
    ]);
  });
});

describe('Grafana variable queries', () => {
  it('unwraps label_values and query_result to their PromQL', () => {
    const q = 'label_values(gpuwatch_node_gpus{cluster="$cluster"}, node)';
    expect(variableQueryPromql(q)).toBe('gpuwatch_node_gpus{cluster="$cluster"}');
    expect(variableQueryLabel(q)).toBe('node');
    expect(variableQueryPromql('query_result(topk(3, a))')).toBe('topk(3, a)');
    expect(variableQueryPromql('label_values(node)')).toBe('');
    expect(variableQueryLabel('query_result(a)')).toBeUndefined();
  });

  it('keeps the label argument of label_values out of the metric names', () => {
    expect(metricNamesIn(variableQueryPromql('label_values(a{x="1, y"}, vc)'))).toEqual(['a']);
  });
});
