import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { routerConfigSchema } from '../../src/config/router.js';
import { WorkingHours } from './working-hours.js';

const zone = 'Europe/Berlin';
const at = (iso: string, z = zone) => DateTime.fromISO(iso, { zone: z }).toMillis();
const local = (ms: number, z = zone) => DateTime.fromMillis(ms, { zone: z }).toFormat('ccc yyyy-MM-dd HH:mm');
const MIN = 60_000;

function hours(config: Record<string, unknown> = {}): WorkingHours {
  return new WorkingHours(routerConfigSchema.parse({ workingHours: { timeZone: zone, ...config } }).workingHours);
}

describe('working-hours SLA clock', () => {
  it('carries 30 minutes from Friday 17:50 to Monday 09:20 (across a DST change too)', () => {
    const wh = hours();
    expect(local(wh.addTime(at('2025-03-07T17:50'), 30 * MIN, 'working'))).toBe('Mon 2025-03-10 09:20');
    // The weekend of 2025-03-30 moves Berlin to summer time; the deadline is still 09:20 local.
    expect(local(wh.addTime(at('2025-03-28T17:50'), 30 * MIN, 'working'))).toBe('Mon 2025-03-31 09:20');
  });

  it('skips holidays', () => {
    const wh = hours({ holidays: ['2025-04-21'] });
    expect(local(wh.addTime(at('2025-04-18T17:50'), 30 * MIN, 'working'))).toBe('Tue 2025-04-22 09:20');
  });

  it('waits for the start of the day, and spreads long deadlines over several days', () => {
    const wh = hours();
    expect(local(wh.addTime(at('2025-03-10T07:00'), 30 * MIN, 'working'))).toBe('Mon 2025-03-10 09:30');
    expect(local(wh.addTime(at('2025-03-11T10:00'), 120 * MIN, 'working'))).toBe('Tue 2025-03-11 12:00');
    expect(local(wh.addTime(at('2025-03-14T16:00'), 240 * MIN, 'working'))).toBe('Mon 2025-03-17 11:00');
    // 24 working hours from Monday 09:00 is Wednesday 15:00 (9 hours a day).
    expect(local(wh.addTime(at('2025-03-10T09:00'), 24 * 60 * MIN, 'working'))).toBe('Wed 2025-03-12 15:00');
    expect(local(wh.addTime(at('2025-03-10T19:00'), 1, 'working'))).toBe('Tue 2025-03-11 09:00');
  });

  it('runs around the clock for 24x7', () => {
    const wh = hours();
    const from = at('2025-03-08T03:00');
    expect(wh.addTime(from, 30 * MIN, '24x7')).toBe(from + 30 * MIN);
    expect(wh.isWorkingTime(from, '24x7')).toBe(true);
    expect(wh.isWorkingTime(from)).toBe(false);
  });

  it('uses the configured zone and weekdays (America/New_York, Sunday to Thursday)', () => {
    const ny = 'America/New_York';
    const wh = new WorkingHours(
      routerConfigSchema.parse({
        workingHours: { timeZone: ny, weekdays: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday'], start: '08:00', end: '16:00' },
      }).workingHours,
    );
    // Thursday 15:45 + 1h: 15 minutes on Thursday, 45 on Sunday (the day New York moves to summer time).
    expect(local(wh.addTime(at('2025-03-06T15:45', ny), 60 * MIN, 'working'), ny)).toBe('Sun 2025-03-09 08:45');
    expect(wh.elapsed(at('2025-03-06T15:45', ny), at('2025-03-09T08:45', ny), 'working')).toBe(60 * MIN);
  });

  it('refuses working hours that end before they begin', () => {
    const bad = routerConfigSchema.safeParse({ workingHours: { start: '18:00', end: '09:00' } });
    expect(bad.error?.issues[0]?.path).toEqual(['workingHours', 'end']);
  });
});
