/**
 * SLA clocks that run only inside monitoring hours: working days (weekdays minus holidays) between a
 * local start and end time in the team's time zone, or around the clock for 24x7.
 *
 * Example: 30 minutes from Friday 17:50 with working hours 09:00–18:00 Mon–Fri is Monday 09:20.
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, type WorkingHoursConfig } from '../../src/config/router.js';

export type MonitoringHours = 'working' | '24x7';

/** A bound on the days walked, so a calendar with no working day left cannot loop for ever. */
const MAX_DAYS = 3_700;

export class WorkingHours {
  private readonly weekdays: Set<number>;
  private readonly holidays: Set<string>;
  private readonly start: { hour: number; minute: number };
  private readonly end: { hour: number; minute: number };

  constructor(private readonly config: WorkingHoursConfig) {
    this.weekdays = new Set(config.weekdays.map((d) => WEEKDAYS.indexOf(d) + 1));
    this.holidays = new Set(config.holidays);
    this.start = clock(config.start);
    this.end = clock(config.end);
  }

  get timeZone(): string {
    return this.config.timeZone;
  }

  /** The moment `durationMs` of monitoring time has passed after `from`. */
  addTime(from: number, durationMs: number, hours: MonitoringHours): number {
    if (hours === '24x7') return from + durationMs;
    let remaining = durationMs;
    let day = DateTime.fromMillis(from, { zone: this.config.timeZone }).startOf('day');
    for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 })) {
      const window = this.windowOn(day);
      if (!window) continue;
      const begin = Math.max(window.start, from);
      if (begin >= window.end) continue;
      if (remaining <= window.end - begin) return begin + remaining;
      remaining -= window.end - begin;
    }
    throw new Error(`no working time within ${MAX_DAYS} days of ${new Date(from).toISOString()}; check workingHours`);
  }

  /** Whether the SLA clock runs at `at`. */
  isWorkingTime(at: number, hours: MonitoringHours = 'working'): boolean {
    if (hours === '24x7') return true;
    const window = this.windowOn(DateTime.fromMillis(at, { zone: this.config.timeZone }).startOf('day'));
    return window !== undefined && window.start <= at && at < window.end;
  }

  /** Monitoring time that passed between two moments (for reporting how late something was). */
  elapsed(from: number, to: number, hours: MonitoringHours): number {
    if (hours === '24x7' || to <= from) return Math.max(0, to - from);
    let total = 0;
    let day = DateTime.fromMillis(from, { zone: this.config.timeZone }).startOf('day');
    for (let i = 0; i < MAX_DAYS && day.toMillis() < to; i++, day = day.plus({ days: 1 })) {
      const window = this.windowOn(day);
      if (window) total += Math.max(0, Math.min(window.end, to) - Math.max(window.start, from));
    }
    return total;
  }

  /** The working window of a local calendar day, or undefined on weekends and holidays. */
  private windowOn(day: DateTime): { start: number; end: number } | undefined {
    if (!this.weekdays.has(day.weekday) || this.holidays.has(day.toISODate() ?? '')) return undefined;
    const at = (t: { hour: number; minute: number }) =>
      DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: t.hour, minute: t.minute }, { zone: this.config.timeZone }).toMillis();
    return { start: at(this.start), end: at(this.end) };
  }
}

function clock(text: string): { hour: number; minute: number } {
  const [hour, minute] = text.split(':').map(Number) as [number, number];
  return { hour, minute };
}
