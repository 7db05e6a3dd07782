/**
 * Times on the board, all in its time zone (the working hours'): timestamps, ISO UTC strings inside
 * timeline messages, and SLA deadlines with the working time left until them.
 */
import { DateTime } from 'luxon';
import type { WorkingHoursConfig } from '../../src/config/router.js';
import { WorkingHours, type MonitoringHours } from '../schedule/working-hours.js';

/** en-GB names zones by their abbreviation ("CET", "UTC"), en-US mostly by offset ("GMT+1"). */
const LOCALE = 'en-GB';

export function localTime(ms: number, zone: string, format = 'ccc dd LLL HH:mm ZZZZ'): string {
  return DateTime.fromMillis(ms, { zone }).setLocale(LOCALE).toFormat(format);
}

const ISO_UTC = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?Z\b/g;

/** A message with every ISO 8601 UTC time in it rewritten as a local time of `zone`. */
export function localizeTimes(message: string, zone: string): string {
  return message.replace(ISO_UTC, (iso) => {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? localTime(ms, zone) : iso;
  });
}

export interface SlaDue {
  kind: 'acknowledge' | 'update';
  dueAt: number;
  hours: MonitoringHours;
  workingHours: WorkingHoursConfig;
}

/**
 * "due Mon 10:30 CET · 3h 20m of working time left" (or "· 3h 20m left" for 24x7 rows, "overdue
 * since …" once passed): the deadline in local time and the SLA clock's remaining time, which only
 * runs in monitoring hours.
 */
export function slaText(due: SlaDue, now: number, zone: string): string {
  const when = localTime(due.dueAt, zone, 'ccc HH:mm ZZZZ');
  if (now >= due.dueAt) return `${due.kind} overdue since ${when}`;
  const left = new WorkingHours(due.workingHours).elapsed(now, due.dueAt, due.hours);
  const label = due.hours === '24x7' ? 'left' : 'of working time left';
  return `${due.kind} due ${when} · ${hoursMinutes(left)} ${label}`;
}

function hoursMinutes(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  return h > 0 ? `${h}h ${minutes % 60}m` : `${minutes}m`;
}
