/**
 * The metric names generated PromQL may read: the catalog, the recording rules defined here, and a
 * short explicit list of standard series of other components.
 */
import { findMetric } from '../../src/catalog/metrics.js';
import { RECORDING } from '../../src/catalog/recording-names.js';

/** Standard series gpuwatch's rules read, and who exports them. */
export const STANDARD_SERIES: Readonly<Record<string, string>> = {
  up: 'Prometheus, per scrape target',
  kube_node_status_condition: 'kube-state-metrics: node conditions (Ready)',
  kube_node_spec_unschedulable: 'kube-state-metrics: whether a node is cordoned',
  prometheus_rule_evaluation_failures_total: 'Prometheus: failed rule evaluations per group',
  prometheus_notifications_dropped_total: 'Prometheus: alerts dropped on the way to Alertmanager',
  prometheus_config_last_reload_successful: 'Prometheus: whether the last config reload worked',
  alertmanager_notifications_failed_total: 'Alertmanager: failed notifications per integration',
  alertmanager_config_last_reload_successful: 'Alertmanager: whether the last config reload worked',
};

const recorded = new Set<string>(Object.values(RECORDING));

export function isAllowedMetric(name: string): boolean {
  return findMetric(name) !== undefined || recorded.has(name) || name in STANDARD_SERIES;
}
