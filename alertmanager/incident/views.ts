/** Incidents and alerts as messages, pages and the API show them. */
import type { Selectable } from 'kysely';
import type { AlertsTable, IncidentsTable } from '../store/db-schema.js';
import type { Links } from '../web/links.js';

export interface IncidentView {
  id: number;
  title: string;
  severity: number;
  cluster: string;
  clusterPriority: string;
  scope: string;
  subject: string;
  status: string;
  openedAt: number;
  ackDueAt: number | null;
  updateDueAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  lastUpdateAt: number | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  /** Who or what resolved it, in words for people ("Alertmanager no longer reports it", "alice resolved it by hand"). */
  resolution: string | null;
  escalationTier: number;
  url: string;
}

export interface AlertView {
  id: number;
  fingerprint: string;
  episode: number;
  status: string;
  severity: number;
  alertname: string;
  summary: string;
  description: string;
  runbookUrl: string;
  labels: { name: string; value: string }[];
  startsAt: number;
  endsAt: number | null;
  resolvedBy: string | null;
}

export type IncidentRow = Selectable<IncidentsTable>;
export type AlertRow = Selectable<AlertsTable>;

const numberOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function incidentView(row: IncidentRow, links: Links): IncidentView {
  return {
    id: Number(row.id),
    title: row.title,
    severity: Number(row.severity),
    cluster: row.cluster,
    clusterPriority: row.cluster_priority,
    scope: row.scope,
    subject: row.subject,
    status: row.status,
    openedAt: Number(row.opened_at),
    ackDueAt: numberOrNull(row.ack_due_at),
    updateDueAt: numberOrNull(row.update_due_at),
    acknowledgedAt: numberOrNull(row.acknowledged_at),
    acknowledgedBy: row.acknowledged_by,
    lastUpdateAt: numberOrNull(row.last_update_at),
    resolvedAt: numberOrNull(row.resolved_at),
    resolvedBy: row.resolved_by,
    resolution: row.resolved_by === null ? null : resolutionText(row.resolved_by),
    escalationTier: Number(row.escalation_tier),
    url: links.incident(Number(row.id)),
  };
}

/** resolved_by (alertmanager, reconciler, or a person) in plain words. */
export function resolutionText(resolvedBy: string): string {
  if (resolvedBy === 'alertmanager') return 'Alertmanager reported all its alerts resolved';
  if (resolvedBy === 'reconciler') return 'Alertmanager no longer reports it (its alerts were silenced or inhibited when they resolved)';
  return `${resolvedBy} resolved it by hand`;
}

export function alertView(row: AlertRow): AlertView {
  const labels = JSON.parse(row.labels) as Record<string, string>;
  const annotations = JSON.parse(row.annotations) as Record<string, string>;
  return {
    id: Number(row.id),
    fingerprint: row.fingerprint,
    episode: Number(row.episode),
    status: row.status,
    severity: Number(row.severity),
    alertname: labels.alertname ?? '',
    summary: annotations.summary ?? '',
    description: annotations.description ?? '',
    runbookUrl: annotations.runbook_url ?? '',
    labels: Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({ name, value })),
    startsAt: Number(row.starts_at),
    endsAt: numberOrNull(row.ends_at),
    resolvedBy: row.resolved_by,
  };
}
