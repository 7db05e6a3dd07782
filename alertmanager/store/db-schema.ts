/** The router's tables, as kysely sees them. Times are milliseconds since the epoch. */
import type { AuditTable } from '../../src/storage/audit.js';
import type { Generated, Kysely, Transaction } from 'kysely';

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export interface IncidentsTable {
  id: Generated<number>;
  /** JSON [cluster, alertname, scope, subject]: alerts with the same key share an incident. */
  group_key: string;
  /** sha256 of group_key while the incident is not resolved, NULL after: one open incident per group. */
  open_key: string | null;
  cluster: string;
  alertname: string;
  /** job, node or cluster */
  scope: string;
  subject: string;
  title: string;
  status: IncidentStatus;
  /** The most severe (lowest) severity among its alerts. */
  severity: number;
  /** The severity the last page went out with: a joining alert pages again only when more severe. */
  paged_severity: number;
  cluster_priority: string;
  /** JSON EscalationPolicy, frozen at opening. */
  policy: string;
  opened_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  last_update_at: number | null;
  /** The pending acknowledgement deadline (NULL once acknowledged or past the last tier). */
  ack_due_at: number | null;
  /** The next update due (NULL until acknowledged). */
  update_due_at: number | null;
  /** How many acknowledgement deadlines have been missed. */
  escalation_tier: number;
  /** JSON Postmortem, attached at resolution. */
  postmortem: string | null;
  /** Alerts of its Alertmanager group the last webhook did not list (truncatedAlerts): it is not closed while > 0. */
  hidden_alerts: number;
}

export interface AlertsTable {
  id: Generated<number>;
  fingerprint: string;
  /** 1 for the first firing, +1 for each re-fire after a resolution. */
  episode: number;
  /** The fingerprint while the episode fires, NULL after: one firing episode per fingerprint. */
  open_key: string | null;
  /** NULL for an episode only ever seen resolved (kept so late firing copies are recognised as stale). */
  incident_id: number | null;
  status: 'firing' | 'resolved';
  severity: number;
  labels: string;
  annotations: string;
  starts_at: number;
  ends_at: number | null;
  first_seen_at: number;
  last_seen_at: number;
  /** alertmanager, reconciler or a person (resolved by hand with its incident). */
  resolved_by: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  incident_id: number;
  at: number;
  /** opened, alert, paged, escalated, acknowledged, update, resolved, action, … */
  kind: string;
  actor: string;
  message: string;
}

export type TimerStatus = 'pending' | 'done' | 'cancelled';

export interface TimersTable {
  id: Generated<number>;
  /** Unique: one timer per purpose, e.g. ack:12, update:12, action:7, handoff. */
  name: string;
  kind: string;
  due_at: number;
  /** Goes up at every (re)schedule and cancel; a firing that claimed an older version does nothing. */
  version: number;
  status: TimerStatus;
  payload: string;
  fired_at: number | null;
}

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxTable {
  id: Generated<number>;
  /** email, webhook, rule-service */
  channel: string;
  /** The notification kind (page, escalation, …) or the action. */
  kind: string;
  incident_id: number | null;
  /** JSON: recipients, URL, … */
  target: string;
  /** JSON: the rendered message or request. */
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  /** Which replica is delivering it, and until when that claim holds. */
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export type ActionStatus = 'grace' | 'requested' | 'done' | 'dry_run' | 'cancelled' | 'refused' | 'failed';

export interface ActionsTable {
  id: Generated<number>;
  incident_id: number;
  alert_id: number;
  job: string;
  owner: string;
  /** kill or downgrade */
  action: string;
  /** low-utilization or running-too-long: what the rule service confirms before it acts. */
  cause: string;
  reason: string;
  status: ActionStatus;
  created_at: number;
  grace_until: number;
  /** When the rule service was asked; the hourly budget counts these. */
  requested_at: number | null;
  finished_at: number | null;
  result: string | null;
  /** default or notebook (config actions.notebooks): which grace, reminders and renewal caps apply. */
  policy: string;
  /** Renewals the owner used, and the time they added to grace_until in all. */
  renewals: number;
  renewed_ms: number;
  /** Reminder mails queued, and those the mail server accepted (a notebook is not acted on before one is). */
  reminders_sent: number;
  reminders_delivered: number;
}

/** Pages sent to one receiver in one minute, and those held back (summarised in one mail). */
export interface PageCountsTable {
  receiver: string;
  window_start: number;
  sent: number;
  held: number;
  /** JSON list of the incident ids held back (the first few). */
  held_incidents: string;
}

/** The dead man's switch: when each cluster's Watchdog alert last arrived. */
export interface WatchdogsTable {
  cluster: string;
  last_seen_at: number;
  /** Set when the silence was paged; cleared (with a recovery mail) when the Watchdog is back. */
  silent_since: number | null;
}

export interface SettingsTable {
  name: string;
  value: string;
}

export interface RouterDatabase {
  router_incidents: IncidentsTable;
  router_alerts: AlertsTable;
  router_events: EventsTable;
  router_timers: TimersTable;
  router_outbox: OutboxTable;
  router_audit: AuditTable;
  router_actions: ActionsTable;
  router_settings: SettingsTable;
  router_page_counts: PageCountsTable;
  router_watchdogs: WatchdogsTable;
}

export type RouterDb = Kysely<RouterDatabase>;
export type RouterTx = Transaction<RouterDatabase>;
/** Either a transaction or the database itself. */
export type RouterExecutor = RouterDb | RouterTx;
