import { describe, expect, it } from 'vitest';
import { metricNamesIn, PromqlError, selectorsIn, unknownMetricNames } from './metric-names.js';

describe('metricNamesIn', () => {
  const cases: [string, string[]][] = [
    ['up', ['up']],
    ['gpuwatch_gpu_info{node="a", gpu=~"0|1"}', ['gpuwatch_gpu_info']],
    ['rate(node_cpu_seconds_total{mode="idle"}[5m]) > bool 0.5 and up offset 1h', ['node_cpu_seconds_total', 'up']],
    ['avg_over_time(gpuwatch:job_gpu_utilization:avg{vc=~"nlp"}[1h]) < 0.1', ['gpuwatch:job_gpu_utilization:avg']],
    // aggregations, grouping before or after the operand, parameters
    ['sum by (cluster, node) (a) + sum(b) by (node) - count without (gpu) (c) > bool 0', ['a', 'b', 'c']],
    ['SUM BY (vc) (a) AND ON (vc) b OR c UNLESS d', ['a', 'b', 'c', 'd']],
    ['topk(5, a) + bottomk(2, b) + quantile(0.5, c) + count_values("v", d) + limitk(1, e)', ['a', 'b', 'c', 'd', 'e']],
    ['histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))', ['h_bucket']],
    // vector matching
    ['a * on (cluster, node) group_left (job, user) b / ignoring (gpu) c', ['a', 'b', 'c']],
    ['a * on (cluster, node, uuid) group_left () b', ['a', 'b']],
    ['a * on(node) group_right c', ['a', 'c']],
    // offsets, @, subqueries
    ['a offset 5m + b offset -1h30m + c @ 1609746000 + d @ start()', ['a', 'b', 'c', 'd']],
    ['max_over_time(rate(x[5m])[1h:1m]) @ end() + max_over_time(y[1h:] offset 1d)', ['x', 'y']],
    ['a[5m] offset 1h @ 100', ['a']],
    // numbers in every form
    ['x > 1e-3 or y < 0x1F or z == Inf or w != NaN or v > .5 or u > 2E+3 or t > 1_000', ['t', 'u', 'v', 'w', 'x', 'y', 'z']],
    // functions, and words that are function names only when called
    ['clamp_min(1 - (sum(x) or vector(0)) / sum(y), 0)', ['x', 'y']],
    ['time() - timestamp(a)', ['a']],
    ['vector(1)', []],
    ['count + rate', ['count', 'rate']],
    ['sum by (a) (b)', ['b']],
    // string literals and comments that look like names
    ['label_replace(a, "dst_label", "$1", "src_label", "(node_.*)")', ['a']],
    ['`raw ${string} with metric_like words`', []],
    ['a # trailing comment names not_a_metric\n + b', ['a', 'b']],
    // label names and values that look like metric names
    ['m{job="up", node=~"a|b", instance!="x{y}"}', ['m']],
    ['a{job=~"x}y", name!="{b}"} + c{label=\'it\\\'s d\'}', ['a', 'c']],
    ['sum by (gpuwatch_gpu_info) (a) * on (up) group_left (DCGM_FI_DEV_GPU_UTIL) b', ['a', 'b']],
    ['a{up="1", "kube_node_info"="x"}', ['a']],
  ];
  it.each(cases)('%s', (expr, names) => {
    expect(metricNamesIn(expr)).toEqual(names);
  });

  it('reads the name from __name__, quoted or not', () => {
    expect(metricNamesIn('{__name__="up", job="x"}')).toEqual(['up']);
    expect(metricNamesIn('{"__name__"="up"}')).toEqual(['up']);
  });

  it('reads Prometheus 3 quoted metric names, escapes included', () => {
    expect(metricNamesIn('{"my.metric", node="a"}')).toEqual(['my.metric']);
    expect(metricNamesIn('sum(rate({"a.b_total"}[5m])) / {\'c\\x2ed\'}')).toEqual(['a.b_total', 'c.d']);
  });

  it('returns a selector whose name is not given exactly as its text, for the caller to refuse', () => {
    expect(metricNamesIn('{__name__=~"gpuwatch_.*"}')).toEqual(['{__name__=~"gpuwatch_.*"}']);
    expect(metricNamesIn('{__name__!="up", job="x"}')).toEqual(['{__name__!="up", job="x"}']);
    expect(metricNamesIn('count({cluster="a"})')).toEqual(['{cluster="a"}']);
  });
});

describe('selectorsIn', () => {
  it('gives each selector its label names, leaving out __name__ and grouping lists', () => {
    expect(selectorsIn('sum by (vc) (a{cluster="c", "odd.label"=~"x"}) / on (vc) {__name__="b"}')).toEqual([
      { name: 'a', text: 'a{cluster="c", "odd.label"=~"x"}', labels: ['cluster', 'odd.label'] },
      { name: 'b', text: '{__name__="b"}', labels: [] },
    ]);
  });
});

describe('an expression that is not PromQL', () => {
  const bad: [string, RegExp][] = [
    ['a{x="b}', /at offset 7: does not parse where it ends/],
    ['a{job="x} or DCGM_FI_DEV_GPU_UTIL', /does not parse/],
    ['a > bool "unterminated', /unterminated string "unterminated/],
    ['a{x="b\\"}', /does not parse/],
    ['sum by (a (x)', /does not parse/],
    ['a b', /at offset 2: does not parse near "b"/],
    ['+', /does not parse where it ends/],
    ['', /does not parse where it ends/],
    ['rate_(x[5m])', /near "\(x\[5m\]\)"/],
    ['a{x="\\q"}', /invalid escape \\q/],
    ['a{__name__="b"}', /metric name set twice/],
    ['{"a", "b"}', /metric name set twice/],
  ];
  it.each(bad)('%s is an error naming the expression', (expr, reason) => {
    let caught: unknown;
    try {
      metricNamesIn(expr);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PromqlError);
    expect((caught as PromqlError).message).toMatch(reason);
    expect((caught as PromqlError).message).toContain(`PromQL ${JSON.stringify(expr)} at offset`);
  });
});

describe('unknownMetricNames', () => {
  const isAllowed = (name: string) => ['gpuwatch_gpu_utilization_ratio', 'up'].includes(name);

  it('names each rejected name once, sorted', () => {
    const expr = 'gpuwatch_gpu_utilisation_ratio > 0 or DCGM_FI_DEV_GPU_UTIL or DCGM_FI_DEV_GPU_UTIL and up';
    expect(unknownMetricNames(expr, isAllowed)).toEqual(['DCGM_FI_DEV_GPU_UTIL', 'gpuwatch_gpu_utilisation_ratio']);
  });

  it('rejects a quoted metric name that is not allowed', () => {
    expect(unknownMetricNames('{"DCGM.FI.DEV.GPU.UTIL"} + up', isAllowed)).toEqual(['DCGM.FI.DEV.GPU.UTIL']);
  });

  it('rejects a regex on __name__, even one that matches allowed names', () => {
    expect(unknownMetricNames('{__name__=~"gpuwatch_gpu_utilization_ratio|up"}', isAllowed)).toEqual(['{__name__=~"gpuwatch_gpu_utilization_ratio|up"}']);
  });
});
