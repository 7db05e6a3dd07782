/**
 * The postmortem skeleton attached to an incident when it resolves: the timeline filled in from the
 * record, and the questions the team answers afterwards (why it happened, how to avoid it next
 * time, follow-up issues) left for them.
 */
import { DateTime } from 'luxon';
import type { AlertView, IncidentView } from './views.js';

export interface TimelineEntry {
  at: number;
  kind: string;
  actor: string;
  message: string;
}

export interface Postmortem {
  title: string;
  timeline: TimelineEntry[];
  impact: string;
  cause: string;
  prevention: string;
  followUps: string[];
  /** The same, as a Markdown document to paste into the team's postmortem repository. */
  markdown: string;
}

export function buildPostmortem(incident: IncidentView, alerts: readonly AlertView[], timeline: readonly TimelineEntry[], timeZone: string): Postmortem {
  const time = (ms: number | null) => (ms === null ? '—' : DateTime.fromMillis(ms, { zone: timeZone }).toFormat('yyyy-MM-dd HH:mm ZZZZ'));
  const minutes = (from: number, to: number | null) => (to === null ? '—' : `${Math.round((to - from) / 60_000)} min`);
  const title = `Postmortem: ${incident.title} (#${incident.id})`;
  const impact = `Severity ${incident.severity} on ${incident.cluster} (${incident.clusterPriority})${incident.subject ? `, ${incident.scope} ${incident.subject}` : ''}; ${alerts.length} alert(s).`;
  const lines = [
    `# ${title}`,
    '',
    `- Opened: ${time(incident.openedAt)}`,
    `- Acknowledged: ${time(incident.acknowledgedAt)}${incident.acknowledgedBy ? ` by ${incident.acknowledgedBy}` : ''} (${minutes(incident.openedAt, incident.acknowledgedAt)})`,
    `- Resolved: ${time(incident.resolvedAt)}${incident.resolvedBy ? ` by ${incident.resolvedBy}` : ''} (${minutes(incident.openedAt, incident.resolvedAt)})`,
    `- Impact: ${impact}`,
    '',
    '## Alerts',
    ...alerts.map((a) => `- ${a.alertname}${a.summary ? `: ${a.summary}` : ''} (${time(a.startsAt)} – ${time(a.endsAt)})`),
    '',
    '## Timeline',
    ...timeline.map((e) => `- ${time(e.at)} — ${e.kind} (${e.actor}): ${e.message}`),
    '',
    '## Why it happened',
    '',
    '_To be written._',
    '',
    '## How to avoid it next time',
    '',
    '_To be written._',
    '',
    '## Follow-up issues',
    '',
    '- [ ] _Link each follow-up issue here._',
    '',
  ];
  return { title, timeline: [...timeline], impact, cause: '', prevention: '', followUps: [], markdown: lines.join('\n') };
}
