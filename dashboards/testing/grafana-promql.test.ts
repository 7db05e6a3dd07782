import { describe, expect, it } from 'vitest';
import { PromqlError } from '../../src/testing/promql/metric-names.js';
import { grafanaMetricNamesIn, grafanaSelectorsIn, variableQueryLabel, variableQueryPromql, withoutGrafanaVariables } from './grafana-promql.js';

describe('Grafana variables in PromQL', () => {
  const cases: [string, string[]][] = [
    ['sum by (node, gpu) (increase(a_total{scope="volatile"}[$__rate_interval]))', ['a_total']],
    ['sum_over_time((a * on (cluster, vc) b)[$__range:1m]) / 60', ['a', 'b']],
    ['a offset $__range', ['a']],
    ['time() - min(start_seconds{job="$job"}) * $__range_s / ${__interval_ms}', ['start_seconds']],
    ['rate(a[[[interval]]]) + b{vc=~"${vc:regex}"}', ['a', 'b']],
    ['gpuwatch:vc_gpus_allocated:sum{cluster="$cluster"}', ['gpuwatch:vc_gpus_allocated:sum']],
    ['label_replace(a{node=~"$node"}, "dst", "$1", "src", "(.*)")', ['a']],
  ];
  it.each(cases)('%s', (expr, names) => {
    expect(grafanaMetricNamesIn(expr)).toEqual(names);
  });

  it('replaces references outside strings only, keeping every offset', () => {
    const expr = 'rate(a{node="$node"}[$__rate_interval]) * $__range_s';
    const plain = withoutGrafanaVariables(expr);
    expect(plain).toBe('rate(a{node="$node"}[ 1              ]) *  1        ');
    expect(plain.length).toBe(expr.length);
  });

  it('does not let a variable stand for a metric name', () => {
    expect(() => grafanaMetricNamesIn('$metric{node="a"}')).toThrow(PromqlError);
    expect(() => grafanaMetricNamesIn('gpuwatch_$metric')).toThrow(PromqlError);
  });

  it('names the query as Grafana holds it when it does not parse', () => {
    expect(() => grafanaMetricNamesIn('rate(a[$__rate_interval]')).toThrow('PromQL "rate(a[$__rate_interval]" at offset 24: does not parse where it ends');
  });

  it('returns label names for selectors with variables in their values', () => {
    expect(grafanaSelectorsIn('sum by (vc) (a{cluster="$cluster", vc=~"$vc"}) / on (vc) b')).toEqual([
      { name: 'a', text: 'a{cluster="$cluster", vc=~"$vc"}', labels: ['cluster', 'vc'] },
      { name: 'b', text: 'b', labels: [] },
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
    expect(grafanaMetricNamesIn(variableQueryPromql('label_values(a{x="1, y"}, vc)'))).toEqual(['a']);
  });

  it('reads no series from a variable query that lists label names or values only', () => {
    expect(grafanaSelectorsIn(variableQueryPromql('label_values(node)'))).toEqual([]);
  });
});
