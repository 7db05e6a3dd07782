import { describe, expect, it } from 'vitest';
import { routerConfigSchema } from '../../src/config/router.js';
import { WorkingHours } from '../schedule/working-hours.js';
import { localizeTimes, slaText } from './local-time.js';

const BERLIN = routerConfigSchema.parse({ workingHours: { timeZone: 'Europe/Berlin', start: '09:00', end: '18:00' } }).workingHours;
const ZONE = 'Europe/Berlin';
const H = 3_600_000;

describe('SLA text on the board', () => {
  it('gives the due time in local time and the working time left, not the wall-clock time', () => {
    // Acknowledged Friday 17:50: the 2 h update is due Monday 10:50, 2 h of working time away (65 h of wall clock).
    const friday = Date.parse('2025-03-14T16:50:00Z');
    const due = new WorkingHours(BERLIN).addTime(friday, 2 * H, 'working');
    expect(slaText({ kind: 'update', dueAt: due, hours: 'working', workingHours: BERLIN }, friday, ZONE)).toBe(
      'update due Mon 10:50 CET · 2h 0m of working time left',
    );
    // Saturday: Friday's last 10 minutes are gone, and the clock stands still over the weekend.
    expect(slaText({ kind: 'update', dueAt: due, hours: 'working', workingHours: BERLIN }, friday + 20 * H, ZONE)).toBe(
      'update due Mon 10:50 CET · 1h 50m of working time left',
    );
    expect(slaText({ kind: 'update', dueAt: due, hours: 'working', workingHours: BERLIN }, Date.parse('2025-03-17T09:30:00Z'), ZONE)).toBe(
      'update due Mon 10:50 CET · 20m of working time left',
    );
    expect(slaText({ kind: 'update', dueAt: due, hours: 'working', workingHours: BERLIN }, due, ZONE)).toBe('update overdue since Mon 10:50 CET');
  });

  it('labels 24x7 time as plain time left, and follows summer time', () => {
    const now = Date.parse('2025-07-01T08:00:00Z');
    expect(slaText({ kind: 'acknowledge', dueAt: now + 3.5 * H, hours: '24x7', workingHours: BERLIN }, now, ZONE)).toBe(
      'acknowledge due Tue 13:30 CEST · 3h 30m left',
    );
  });
});

describe('times in timeline messages', () => {
  it('rewrites ISO UTC times in the board time zone, and leaves the rest alone', () => {
    expect(localizeTimes('paged: ben@oncall.example; acknowledge by 2025-03-11T09:30:00.000Z', ZONE)).toBe(
      'paged: ben@oncall.example; acknowledge by Tue 11 Mar 10:30 CET',
    );
    expect(localizeTimes('not acknowledged by 2025-07-01T08:00:00Z: escalated', ZONE)).toBe('not acknowledged by Tue 01 Jul 10:00 CEST: escalated');
    expect(localizeTimes('job alice~run-2025-03-11 stopped', ZONE)).toBe('job alice~run-2025-03-11 stopped');
  });
});
