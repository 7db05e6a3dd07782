/** prometheus/rules.test.yml: the promtool unit tests of every alert, next to rules.yml (and scale/rules/central.test.yml's). */
import type { AlertGroup } from './alerts.js';
import { STEP } from './timeline.js';
import type { PromtoolTest } from './types.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

function testGroup(t: PromtoolTest) {
  return {
    name: t.name,
    interval: STEP,
    input_series: t.inputSeries.map((s) => ({ series: s.series, values: s.values })),
    alert_rule_test: t.checks.map((c) => ({
      eval_time: c.evalTime,
      alertname: c.alertname,
      exp_alerts: c.alerts.map((a) => ({ exp_labels: a.labels, exp_annotations: a.annotations })),
    })),
  };
}

/** The tests of `alerts` against `ruleFile` (next to the test file); `note` goes under the header. */
export function unitTestsYaml(alerts: AlertGroup[], ruleFile = 'rules.yml', note = 'Run: promtool test rules rules.test.yml'): string {
  const tests = alerts.flatMap((g) => g.alerts.flatMap((a) => a.tests)).map(testGroup);
  return yamlText({ rule_files: [ruleFile], evaluation_interval: STEP, tests }, `${GENERATED_HEADER}\n${note}`);
}
