/**
 * Hand-written promtool timelines for the generated rules: input series, then which alerts are
 * firing at given times. Checks read `ALERTS{alertstate="firing"}` counted by chosen labels, so a
 * case states exactly the labels it is about (and, with none firing, that nothing fires).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { generateRules, RULES_FILE } from '../generate.js';
import { runTool, tempDirWith, type ToolResult } from './test-support.js';
import { yamlText } from '../yaml-text.js';

export interface FiringCheck {
  at: string;
  alertname: string;
  /** The labels compared; every firing alert of that name counts once per distinct value set. */
  by: string[];
  /** The label sets expected to fire at `at` (empty: none fires). */
  firing: Record<string, string>[];
}

export interface Timeline {
  name: string;
  series: { series: string; values: string }[];
  checks: FiringCheck[];
  /** Exact values of an expression (e.g. a recorded series) at given times; labels as `name{...}` text. */
  valueChecks?: { expr: string; at: string; samples: { labels: string; value: number }[] }[];
  /** promtool alert_rule_test entries, for checks that need the exact labels and annotations. */
  alertRuleTests?: { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[] }[];
}

const labelText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

function testGroup(t: Timeline) {
  return {
    name: t.name,
    interval: '1m',
    input_series: t.series,
    promql_expr_test: [
      ...t.checks.map((c) => ({
        expr: `count by (${c.by.join(', ')}) (ALERTS{alertname=${JSON.stringify(c.alertname)}, alertstate="firing"})`,
        eval_time: c.at,
        exp_samples: c.firing.map((labels) => ({ labels: labelText(labels), value: 1 })),
      })),
      ...(t.valueChecks ?? []).map((c) => ({ expr: c.expr, eval_time: c.at, exp_samples: c.samples })),
    ],
    ...(t.alertRuleTests ? { alert_rule_test: t.alertRuleTests } : {}),
  };
}

/** Writes the rules generated for `files` (gpuwatch.yaml and its layouts) and runs promtool on the timelines. */
export async function runTimelines(files: Record<string, string>, timelines: Timeline[]): Promise<ToolResult> {
  const dir = await tempDirWith(files);
  const generated = generateRules(await loadConfig(join(dir, 'gpuwatch.yaml')));
  await writeFile(join(dir, 'rules.yml'), generated.get(RULES_FILE) ?? '');
  await writeFile(join(dir, 'timelines.test.yml'), yamlText({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests: timelines.map(testGroup) }));
  return runTool('promtool', ['test', 'rules', 'timelines.test.yml'], dir);
}

/** `metric{labels}` */
export const series = (metric: string, labels: Record<string, string>) => `${metric}${labelText(labels)}`;
