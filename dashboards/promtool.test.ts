/**
 * The generated PromQL checked by Prometheus itself: every dashboard expression must parse
 * (`promtool check rules`), and the GPU-hours formulas of the efficiency dashboard must give the
 * right numbers on known series (`promtool test rules`). Needs promtool (Debian package `prometheus`).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { buildDashboards } from './index.js';
import { allPanels, dashboardQueries } from './testing/inspect.js';

const EXAMPLE = new URL('../examples/gpuwatch.yaml', import.meta.url).pathname;

/** Concrete values for the Grafana variables, as Grafana would interpolate them. */
const VALUES: Record<string, string> = {
  __rate_interval: '5m',
  __range: '1h',
  __range_s: '3600',
  __interval: '1m',
  cluster: 'c1',
  node: 'n1',
  gpu: '0',
  job: 'alice~train',
  vc: '.*',
  user: '.*',
};

function interpolate(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (text, name: string) => {
    // label_replace's capture groups ($1) are Prometheus's, not Grafana variables.
    if (/^\d+$/.test(name)) return text;
    const value = VALUES[name];
    if (value === undefined) throw new Error(`no test value for $${name} in ${expr}`);
    return value;
  });
}

function promtool(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr });
    });
  });
}

/** `promtool test rules` on one unit test of `inputSeries` and `exprTests`, one-minute steps, written to `fileName`. */
async function promtoolTestRules(
  fileName: string,
  inputSeries: { series: string; values: string }[],
  exprTests: unknown[],
): Promise<{ code: number; output: string }> {
  const test = { evaluation_interval: '1m', tests: [{ interval: '1m', input_series: inputSeries, promql_expr_test: exprTests }] };
  const file = join(dir, fileName);
  await writeFile(file, stringify(test));
  return promtool(['test', 'rules', file]);
}

let dashboards: dashboard.Dashboard[];
let dir: string;

beforeAll(async () => {
  dashboards = buildDashboards(await loadConfig(EXAMPLE));
  dir = await mkdtemp(join(tmpdir(), 'gpuwatch-dashboards-promtool-'));
});

describe('dashboard PromQL under promtool', () => {
  it('parses: every expression loads as a recording rule', async () => {
    const queries = dashboards.flatMap(dashboardQueries).filter((q) => q.expr !== '');
    const rules = queries.map((q, i) => ({ record: `dashboard_expr_${i}`, expr: interpolate(q.expr) }));
    const file = join(dir, 'exprs.yml');
    await writeFile(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const { code, output } = await promtool(['check', 'rules', file]);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(code).toBe(0);
  });

  it('rejects a broken expression (the check above can fail)', async () => {
    const file = join(dir, 'broken.yml');
    await writeFile(file, stringify({ groups: [{ name: 'x', rules: [{ record: 'x', expr: 'sum by (vc (a)' }] }] }));
    expect((await promtool(['check', 'rules', file])).code).not.toBe(0);
  });

  it('computes GPU-hours allocated, used and efficiency per VC over the range', async () => {
    const efficiency = dashboards.find((d) => d.uid === 'gpuwatch-efficiency')!;
    const byVc = allPanels(efficiency).find((p) => p.title === 'By VC')!;
    const [allocated, used, ratio, idle] = (byVc.targets as prometheus.Dataquery[]).map((t) => interpolate(t.expr));
    const total = (title: string) => {
      const p = allPanels(efficiency).find((x) => x.title === title)!;
      return interpolate((p.targets as prometheus.Dataquery[])[0]!.expr);
    };
    const samples = (values: Record<string, number>) => Object.entries(values).map(([vc, value]) => ({ labels: `{vc="${vc}"}`, value }));
    // Rounded to 0.1 GPU-h: where a series starts or ends inside the range, its first or last step
    // is counted or not depending on whether the Prometheus version closes ranges at the start
    // (2.x: 61 steps an hour, 3.x: 60); whole-range series must come out exact either way.
    const at2h = (expr: string, expected: { labels?: string; value: number }[]) => ({
      expr: `round(${expr}, 0.1)`,
      eval_time: '2h',
      exp_samples: expected,
    });

    // nlp holds 8 GPUs at 50% for the whole last hour: 8 GPU-h allocated, 4 used.
    // cv holds 4 GPUs at 100% for 30 of the last 60 minutes, then ends: 2 allocated, 2 used.
    const series = [
      { series: 'gpuwatch:vc_gpus_allocated:sum{cluster="c1", vc="nlp"}', values: '8x120' },
      { series: 'gpuwatch:vc_gpu_utilization:avg{cluster="c1", vc="nlp"}', values: '0.5x120' },
      { series: 'gpuwatch:vc_gpus_allocated:sum{cluster="c1", vc="cv"}', values: '_x60 4x29 stale' },
      { series: 'gpuwatch:vc_gpu_utilization:avg{cluster="c1", vc="cv"}', values: '_x60 1x29 stale' },
      // Another cluster must not count.
      { series: 'gpuwatch:vc_gpus_allocated:sum{cluster="c2", vc="nlp"}', values: '100x120' },
      { series: 'gpuwatch:vc_gpu_utilization:avg{cluster="c2", vc="nlp"}', values: '1x120' },
    ];
    const { code, output } = await promtoolTestRules('efficiency.test.yml', series, [
      at2h(allocated!, samples({ nlp: 8, cv: 2 })),
      at2h(used!, samples({ nlp: 4, cv: 2 })),
      at2h(ratio!, samples({ nlp: 0.5, cv: 1 })),
      at2h(idle!, samples({ nlp: 4, cv: 0 })),
      at2h(total('GPU-hours allocated'), [{ value: 10 }]),
      at2h(total('GPU-hours used'), [{ value: 6 }]),
      at2h(total('Efficiency'), [{ value: 0.6 }]),
    ]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('counts firing alerts by severity without the always-firing Watchdog', async () => {
    const overview = dashboards.find((d) => d.uid === 'gpuwatch-cluster-overview')!;
    const panel = allPanels(overview).find((p) => p.title === 'Firing alerts by severity')!;
    const expr = interpolate((panel.targets as prometheus.Dataquery[])[0]!.expr);
    const series = [
      { series: 'ALERTS{alertname="Watchdog", alertstate="firing", cluster="c1", watchdog="true"}', values: '1x10' },
      { series: 'ALERTS{alertname="GpuEccUncorrectable", alertstate="firing", cluster="c1", severity="2", node="n1"}', values: '1x10' },
    ];
    const { code, output } = await promtoolTestRules('alerts.test.yml', series, [
      { expr, eval_time: '5m', exp_samples: [{ labels: '{severity="2"}', value: 1 }] },
    ]);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });
});
