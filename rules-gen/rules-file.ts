/** prometheus/rules.yml and the same groups as a PrometheusRule for the Prometheus Operator. */
import type { AlertGroup } from './alerts.js';
import type { GenContext } from './context.js';
import type { RuleGroup } from './types.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

export function ruleGroups(recording: RuleGroup[], alerts: AlertGroup[]): RuleGroup[] {
  return [...recording, ...alerts.map((g) => ({ name: g.name, rules: g.alerts.map((a) => a.rule) }))];
}

export function rulesYaml(groups: RuleGroup[]): string {
  return yamlText({ groups }, GENERATED_HEADER);
}

export function prometheusRuleYaml(ctx: GenContext, groups: RuleGroup[]): string {
  const k8s = ctx.loaded.config.kubernetes;
  return yamlText(
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'gpuwatch-rules',
        namespace: k8s.namespace,
        labels: { 'app.kubernetes.io/name': 'gpuwatch', 'app.kubernetes.io/component': 'rules', ...k8s.ruleLabels },
      },
      spec: { groups },
    },
    GENERATED_HEADER,
  );
}
