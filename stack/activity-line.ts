/**
 * One human line per page sent, acknowledgement, escalation and job-action step, for the terminal
 * `gpuwatch stack` runs in, e.g.
 *   14:05:12 paged ana (DRI) — #1 SEV2 Uncorrectable ECC errors on GPU 3 of pai-worker-1
 * Pure: the router's outbox and audit rows in, a line (or nothing) out.
 */

export interface Person {
  name: string;
  email: string;
}

/** Who is who among the addresses the router pages. */
export interface OnCallPeople {
  team: readonly Person[];
  secondLine: readonly string[];
  thirdLine: readonly string[];
}

export interface IncidentRef {
  id: number;
  severity: number;
  title: string;
}

export type RouterActivity =
  | { source: 'mail'; at: number; kind: 'page' | 'escalation'; to: string; incident?: IncidentRef }
  | { source: 'audit'; at: number; event: string; actor: string; subject: string; detail: Record<string, unknown>; incident?: IncidentRef };

const PAST: Record<string, string> = { kill: 'stopped', downgrade: 'downgraded' };

export function activityLine(activity: RouterActivity, people: OnCallPeople, timeZone?: string): string | undefined {
  const what = activity.source === 'mail' ? mailText(activity, people) : auditText(activity, people, timeZone);
  if (what === undefined) return undefined;
  const incident = activity.incident ? ` — #${activity.incident.id} SEV${activity.incident.severity} ${activity.incident.title}` : '';
  return `${clockTime(activity.at, timeZone)} ${what}${incident}`;
}

/** A recipient as the on-call team knows them: `ana (DRI)`, `lead@x (second line)`, or the address. */
export function whoIs(address: string, people: OnCallPeople): string {
  const member = people.team.find((p) => p.email === address);
  if (member) return `${member.name} (DRI)`;
  if (people.secondLine.includes(address)) return `${address} (second line)`;
  if (people.thirdLine.includes(address)) return `${address} (third line)`;
  return address;
}

function mailText(a: Extract<RouterActivity, { source: 'mail' }>, people: OnCallPeople): string {
  return `${a.kind === 'page' ? 'paged' : 'escalated: paged'} ${whoIs(a.to, people)}`;
}

function auditText(a: Extract<RouterActivity, { source: 'audit' }>, people: OnCallPeople, timeZone?: string): string | undefined {
  const d = a.detail;
  const job = a.subject;
  const actor = people.team.find((p) => p.email === a.actor)?.name ?? a.actor;
  const dryRun = d.dryRun === true ? ' (dry run: nothing is done to the job)' : '';
  switch (a.event) {
    case 'incident.acknowledge':
      return `acknowledged by ${actor}${typeof d.via === 'string' ? ` via ${d.via}` : ''}`;
    case 'action.warn':
      return `warned ${String(d.owner)}: ${job} will be ${PAST[String(d.action)] ?? String(d.action)} at ${clockTime(Number(d.graceUntil), timeZone)} if the alert still fires${dryRun}`;
    case 'action.notify':
      return `told ${String(d.owner)} about ${job} (no action on the job)`;
    case 'action.request':
      return typeof d.releasedBy === 'string'
        ? `released by ${d.releasedBy}: asked the rule service to ${String(d.action)} ${job}`
        : `grace period over: asked the rule service to ${String(d.action)} ${job}`;
    case 'action.remind':
      return `reminded the owner of ${job} (reminder ${String(d.reminder)}, with renew/release links): deadline ${clockTime(Number(d.graceUntil), timeZone)}`;
    case 'action.renew':
      return `${actor} renewed ${job} via ${String(d.via)} (renewal ${String(d.renewals)}): deadline now ${clockTime(Number(d.graceUntil), timeZone)}`;
    case 'action.release':
      return `${actor} released ${job} via ${String(d.via)}: the action goes ahead now`;
    case 'action.postpone':
      return `${job}: postponed to ${clockTime(Number(d.graceUntil), timeZone)} — ${String(d.why)}`;
    default:
      if (!a.event.startsWith('action.')) return undefined;
      return `${String(d.action)} ${job}: ${a.event.slice('action.'.length).replace('_', ' ')}${typeof d.message === 'string' && d.message ? ` — ${d.message}` : ''}`;
  }
}

/** HH:MM:SS in the given time zone (default: this machine's). */
export function clockTime(at: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(at);
}
