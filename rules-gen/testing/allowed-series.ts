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
  vmalert_alerting_rules_error: "vmalert: 1 when an alerting rule's last evaluation failed",
  vmalert_recording_rules_error: "vmalert: 1 when a recording rule's last evaluation failed",
  vmalert_alerts_send_errors_total: 'vmalert: failed sends of alerts per Alertmanager (addr)',
  vmalert_config_last_reload_successful: 'vmalert: whether the last rule-file reload worked',
  vmagent_remotewrite_packets_dropped_total: 'vmagent: remote-write packets the store refused, dropped',
  vmagent_remotewrite_pending_data_bytes: 'vmagent: remote-write data not yet sent',
  vm_storage_is_read_only: 'VictoriaMetrics: 1 when low free disk made the storage read-only',
};

const recorded = new Set<string>(Object.values(RECORDING));

export function isAllowedMetric(name: string): boolean {
  return findMetric(name) !== undefined || recorded.has(name) || name in STANDARD_SERIES;
}
