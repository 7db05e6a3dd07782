import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { routerConfigSchema, type TeamMember } from '../../src/config/router.js';
import { Rotation } from './rotation.js';

const team: TeamMember[] = ['ana', 'ben', 'cho', 'dev', 'eli'].map((name) => ({ name, email: `${name}@example.org` }));
const at = (iso: string, zone = 'Europe/Berlin') => DateTime.fromISO(iso, { zone }).toMillis();
const utc = (ms: number) => new Date(ms).toISOString();
const names = (members: readonly TeamMember[]) => members.map((m) => m.name);

function rotation(rotationConfig: Record<string, unknown>, members: TeamMember[] = team): Rotation {
  const config = routerConfigSchema.parse({ team: members, rotation: rotationConfig });
  return new Rotation(config.rotation, config.team);
}

const berlinWeekly = { handoff: { weekday: 'monday', time: '10:00', timeZone: 'Europe/Berlin' }, start: '2025-01-01' };

describe('rotation', () => {
  it('starts at the first hand-off weekday on or after the start date, at the local hand-off time', () => {
    const r = rotation(berlinWeekly);
    // 2025-01-01 is a Wednesday; the first Monday after is 2025-01-06, 10:00 CET = 09:00 UTC.
    expect(utc(r.shiftStart(0))).toBe('2025-01-06T09:00:00.000Z');
    expect(names(r.onCall(at('2025-01-06T10:00')).dris)).toEqual(['ana']);
    expect(names(r.onCall(at('2025-01-13T09:59')).dris)).toEqual(['ana']);
    expect(names(r.onCall(at('2025-01-13T10:00')).dris)).toEqual(['ben']);
  });

  it('has nobody on call before the first shift, and says when it begins', () => {
    const r = rotation({ ...berlinWeekly, overrides: [{ from: '2025-01-02', to: '2025-01-02', dris: ['cho'] }] });
    expect(r.decide(at('2025-01-06T09:59'))).toEqual({ dris: [], source: 'not-started' });
    expect(r.decide(at('2024-06-01T12:00'))).toEqual({ dris: [], source: 'not-started' });
    expect(utc(r.firstShiftAt)).toBe('2025-01-06T09:00:00.000Z');
    // An override is explicit: it holds even before the rotation starts.
    expect(names(r.decide(at('2025-01-02T12:00')).dris)).toEqual(['cho']);
    const [before, first] = r.segments(at('2025-01-04T12:00'), at('2025-01-20T00:00'), 2);
    expect(before).toMatchObject({ dris: [], source: 'not-started', end: at('2025-01-06T10:00') });
    expect(names(first?.dris ?? [])).toEqual(['ana']);
    expect(r.nextHandoff(at('2025-01-04T12:00'))).toBe(at('2025-01-06T10:00'));
  });

  it('keeps the hand-off at 10:00 local across the spring-forward change (Europe/Berlin, 2025-03-30)', () => {
    const r = rotation(berlinWeekly);
    const shift = r.shiftAt(at('2025-03-30T12:00'));
    expect(utc(shift.start)).toBe('2025-03-24T09:00:00.000Z'); // 10:00 CET
    expect(utc(shift.end)).toBe('2025-03-31T08:00:00.000Z'); // 10:00 CEST
    expect((shift.end - shift.start) / 3_600_000).toBe(167);
    const before = r.onCall(at('2025-03-31T09:59')).dris;
    const after = r.onCall(at('2025-03-31T10:00')).dris;
    expect(names(before)).not.toEqual(names(after));
    expect(r.nextHandoff(at('2025-03-30T12:00'))).toBe(at('2025-03-31T10:00'));
  });

  it('keeps the hand-off at 10:00 local across the fall-back change (Europe/Berlin, 2025-10-26)', () => {
    const r = rotation(berlinWeekly);
    const shift = r.shiftAt(at('2025-10-26T02:30'));
    expect(utc(shift.start)).toBe('2025-10-20T08:00:00.000Z'); // 10:00 CEST
    expect(utc(shift.end)).toBe('2025-10-27T09:00:00.000Z'); // 10:00 CET
    expect((shift.end - shift.start) / 3_600_000).toBe(169);
    expect(r.nextHandoff(at('2025-10-26T01:00'))).toBe(at('2025-10-27T10:00'));
  });

  it('covers every instant exactly once with daily hand-offs inside the DST gap and overlap (America/New_York)', () => {
    const r = rotation({ shiftLength: '1d', handoff: { weekday: 'sunday', time: '02:30', timeZone: 'America/New_York' }, start: '2025-01-05' });
    for (const [from, to] of [
      ['2025-03-06', '2025-03-13'],
      ['2025-10-30', '2025-11-06'],
    ] as const) {
      let previous = r.shiftAt(at(from, 'America/New_York'));
      for (let t = previous.end; t < at(to, 'America/New_York');) {
        const shift = r.shiftAt(t);
        expect(shift.start).toBe(previous.end);
        expect(shift.index).toBe(previous.index + 1);
        expect(shift.end).toBeGreaterThan(shift.start);
        previous = shift;
        t = shift.end;
      }
    }
    // 02:30 does not exist on 2025-03-09: that hand-off moves to 03:30 EDT, the day is 23 hours.
    const gap = r.shiftAt(at('2025-03-09T12:00', 'America/New_York'));
    expect(utc(gap.start)).toBe('2025-03-09T07:30:00.000Z');
    expect(utc(r.shiftAt(at('2025-03-08T12:00', 'America/New_York')).start)).toBe('2025-03-08T07:30:00.000Z');
    expect((gap.start - r.shiftAt(at('2025-03-08T12:00', 'America/New_York')).start) / 3_600_000).toBe(24);
    expect((gap.end - gap.start) / 3_600_000).toBe(23);
    // The shift from 2025-11-01 02:30 EDT to 2025-11-02 02:30 EST lasts 25 hours.
    const overlap = r.shiftAt(at('2025-11-01T12:00', 'America/New_York')); // to 02:30 on 2025-11-02, after the clocks went back
    expect((overlap.end - overlap.start) / 3_600_000).toBe(25);
  });

  it('gives every member an equal share over a year, with one or two DRIs per shift', () => {
    for (const drisPerShift of [1, 2]) {
      const r = rotation({ ...berlinWeekly, drisPerShift });
      const turns = new Map<string, number>();
      const from = at('2025-01-06T10:00');
      for (let i = 0; i < 52; i++) {
        const dris = r.onCall(r.shiftStart(r.shiftAt(from).index + i)).dris;
        expect(dris).toHaveLength(drisPerShift);
        expect(new Set(names(dris)).size).toBe(drisPerShift);
        for (const d of dris) turns.set(d.name, (turns.get(d.name) ?? 0) + 1);
      }
      const counts = [...turns.values()];
      expect(counts).toHaveLength(team.length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(52 * drisPerShift);
    }
  });

  it('applies overrides (whole days, inclusive) and swaps on top of the rotation', () => {
    const r = rotation({
      ...berlinWeekly,
      overrides: [{ from: '2025-01-08', to: '2025-01-09', dris: ['dev'] }],
      swaps: [{ from: '2025-01-13T10:00', to: '2025-01-20T10:00', replace: 'ben', with: 'eli' }],
    });
    expect(names(r.onCall(at('2025-01-07T23:59')).dris)).toEqual(['ana']);
    expect(r.onCall(at('2025-01-08T00:00'))).toMatchObject({ source: 'override', start: at('2025-01-08T00:00'), end: at('2025-01-10T00:00') });
    expect(names(r.onCall(at('2025-01-09T23:59')).dris)).toEqual(['dev']);
    expect(names(r.onCall(at('2025-01-10T00:00')).dris)).toEqual(['ana']);
    expect(r.onCall(at('2025-01-15T12:00'))).toMatchObject({ source: 'swap', dris: [{ name: 'eli' }] });
    const segments = r.segments(at('2025-01-07T12:00'), at('2025-01-21T00:00'));
    expect(segments.map((s) => [utc(s.start), names(s.dris).join('+'), s.source])).toEqual([
      ['2025-01-06T09:00:00.000Z', 'ana', 'rotation'],
      ['2025-01-07T23:00:00.000Z', 'dev', 'override'],
      ['2025-01-09T23:00:00.000Z', 'ana', 'rotation'],
      ['2025-01-13T09:00:00.000Z', 'eli', 'swap'],
      ['2025-01-20T09:00:00.000Z', 'cho', 'rotation'],
    ]);
    expect(segments.at(-1)?.end).toBe(at('2025-01-27T10:00'));
  });

  it('has nobody on call without a team, and the config check refuses unknown names', () => {
    expect(rotation(berlinWeekly, []).onCall(at('2025-02-01T00:00')).dris).toEqual([]);
    const bad = routerConfigSchema.safeParse({ team, rotation: { overrides: [{ from: '2025-01-02', to: '2025-01-01', dris: ['zed'] }] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'rotation.overrides.0.dris.0: "zed" is not a team member',
      'rotation.overrides.0.to: ends before it begins',
    ]);
  });
});
