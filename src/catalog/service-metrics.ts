/** The metrics of gpuwatch's own services (the alert router and the rule service), part of the catalog (metrics.ts). */
import type { MetricDef, MetricType } from './metric-def.js';

const service = (name: string, type: MetricType, unit: string, help: string, labels: string[] = []): MetricDef => ({
  name,
  type,
  unit,
  help,
  labels,
});

/** The alert router's own metrics (the on-call/SLA dashboard reads these). */
export const ROUTER_METRICS = {
  incidentsOpen: service('gpuwatch_router_incidents_open', 'gauge', '', 'Open incidents by cluster and severity.', ['cluster', 'severity']),
  timeToAck: service('gpuwatch_router_time_to_acknowledge_seconds', 'histogram', 'seconds', 'Time from an incident opening to its acknowledgement.', [
    'cluster',
    'severity',
  ]),
  slaBreaches: service('gpuwatch_router_sla_breaches_total', 'counter', '', 'Missed SLA deadlines by kind (acknowledge, update).', [
    'cluster',
    'severity',
    'kind',
  ]),
  escalations: service('gpuwatch_router_escalations_total', 'counter', '', 'Escalations to a further tier.', ['cluster', 'severity', 'tier']),
  notifications: service('gpuwatch_router_notifications_total', 'counter', '', 'Notifications by channel (email, webhook, chat) and result (sent, failed).', [
    'channel',
    'result',
  ]),
  actions: service(
    'gpuwatch_router_job_actions_total',
    'counter',
    '',
    'Job actions by action (notify, warn, kill, downgrade) and result (done, dry_run, cancelled, refused, failed).',
    ['action', 'result'],
  ),
} as const;

/** The rule service's own metrics. */
export const RULE_SERVICE_METRICS = {
  decisions: {
    name: 'gpuwatch_rule_service_decisions_total',
    type: 'counter',
    unit: '',
    help: 'Admission decisions by result (retain, fail, or the priority a job was lowered to).',
    labels: ['result'],
  },
  storeUp: {
    name: 'gpuwatch_rule_service_store_up',
    type: 'gauge',
    unit: '',
    help: '1 when the rule store was readable at the last read; 0 while admission decides as if there were no rules.',
    labels: [],
  },
  storeErrors: {
    name: 'gpuwatch_rule_service_store_errors_total',
    type: 'counter',
    unit: '',
    help: 'Failed reads of the rule store (errors and timeouts).',
    labels: [],
  },
  holdingsErrors: {
    name: 'gpuwatch_rule_service_holdings_errors_total',
    type: 'counter',
    unit: '',
    help: "Admissions that could not read the user's current jobs from OpenPAI rest-server.",
    labels: [],
  },
  actions: {
    name: 'gpuwatch_rule_service_actions_total',
    type: 'counter',
    unit: '',
    help: 'Kill and downgrade actions by result (done, failed, refused, replayed).',
    labels: ['action', 'result'],
  },
  invalidRules: {
    name: 'gpuwatch_rule_service_invalid_rules',
    type: 'gauge',
    unit: '',
    help: 'Stored rules that fail the save-time checks (edited directly in SQL): reported and left out of every decision.',
    labels: [],
  },
  raisingRulesIgnored: {
    name: 'gpuwatch_rule_service_raising_rules_ignored_total',
    type: 'counter',
    unit: '',
    help: 'Rule matches ignored at decision time because the rule would have raised the job priority.',
    labels: [],
  },
  rules: {
    name: 'gpuwatch_rule_service_rules',
    type: 'gauge',
    unit: '',
    help: 'Rules in the rule set admission last decided with.',
    labels: [],
  },
} as const satisfies Record<string, MetricDef>;
