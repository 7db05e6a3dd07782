/** The SLA table (severity × cluster priority → acknowledge within, update every, monitoring hours). */
import { parseDuration } from '../../src/config/duration.js';
import type { ClusterPriority, SlaRowConfig } from '../../src/config/router.js';
import type { MonitoringHours } from './working-hours.js';

export interface SlaTerms {
  acknowledgeMs: number;
  updateMs: number;
  hours: MonitoringHours;
}

/** One row in milliseconds, as frozen into an incident's policy. */
export interface SlaRow extends SlaTerms {
  severities: number[];
  clusters: 'all' | ClusterPriority[];
}

export function compileSlaTable(rows: readonly SlaRowConfig[]): SlaRow[] {
  return rows.map((r) => ({
    severities: Array.isArray(r.severity) ? [...r.severity] : [r.severity],
    clusters: r.clusters === 'all' ? 'all' : [...r.clusters],
    acknowledgeMs: parseDuration(r.acknowledge) ?? 0,
    updateMs: parseDuration(r.update) ?? 0,
    hours: r.hours,
  }));
}

/** The first row that covers the severity and cluster priority (the config check makes sure one does). */
export function slaFor(table: readonly SlaRow[], severity: number, priority: ClusterPriority): SlaTerms {
  const row = table.find((r) => r.severities.includes(severity) && (r.clusters === 'all' || r.clusters.includes(priority)));
  if (!row) throw new Error(`the SLA table has no row for severity ${severity} on ${priority} clusters`);
  return { acknowledgeMs: row.acknowledgeMs, updateMs: row.updateMs, hours: row.hours };
}
