/**
 * Who is on call when: a rotation through the team in shifts of whole days that begin at the
 * hand-off's local clock time (so a shift that spans a daylight-saving change is an hour shorter or
 * longer in UTC, and the next one still starts at 10:00 local), with overrides and swaps on top.
 *
 * Shift n takes the members at positions n·k … n·k+k−1 (mod the team size) for k DRIs per shift,
 * so over any stretch of shifts every member serves the same number of turns, give or take one.
 * Before the first shift nobody is on call (only an override can put someone there): pages go to
 * the second line, and the schedule says when the first shift begins.
 */
import { DateTime } from 'luxon';
import { parseDuration } from '../../src/config/duration.js';
import { WEEKDAYS, type RotationConfig, type TeamMember } from '../../src/config/router.js';

export interface RegularShift {
  index: number;
  start: number;
  end: number;
}

/** A stretch of time with one set of DRIs. */
export interface OnCallSegment {
  start: number;
  end: number;
  dris: TeamMember[];
  /** What decided it: the plain rotation, a swap, an override, or that the rotation has not started (nobody on call). */
  source: 'rotation' | 'swap' | 'override' | 'not-started';
}

interface TimeRange {
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
/** How far ahead hand-offs and schedules look; longer than any sensible shift. */
const HORIZON_MS = 400 * DAY_MS;
const MAX_SEGMENTS = 2_000;

export class Rotation {
  private readonly zone: string;
  private readonly shiftDays: number;
  private readonly hour: number;
  private readonly minute: number;
  /** The calendar date (as a UTC midnight) of the first regular hand-off. */
  private readonly firstDay: DateTime;
  private readonly members: TeamMember[];
  private readonly byName: Map<string, TeamMember>;
  private readonly overrides: (TimeRange & { dris: TeamMember[] })[];
  private readonly swaps: (TimeRange & { replace: string; with: TeamMember })[];

  constructor(
    private readonly config: RotationConfig,
    team: readonly TeamMember[],
  ) {
    this.zone = config.handoff.timeZone;
    this.shiftDays = Math.round((parseDuration(config.shiftLength) ?? 7 * DAY_MS) / DAY_MS);
    const [hour, minute] = config.handoff.time.split(':').map(Number) as [number, number];
    this.hour = hour;
    this.minute = minute;
    const startDay = DateTime.fromISO(config.start, { zone: 'utc' });
    const wanted = WEEKDAYS.indexOf(config.handoff.weekday) + 1;
    this.firstDay = startDay.plus({ days: (wanted - startDay.weekday + 7) % 7 });
    this.members = [...team];
    this.byName = new Map(team.map((m) => [m.name, m]));
    const member = (name: string): TeamMember => this.byName.get(name) ?? { name, email: '' };
    this.overrides = config.overrides.map((o) => ({ ...this.range(o.from, o.to), dris: o.dris.map(member) }));
    this.swaps = config.swaps.map((s) => ({ ...this.range(s.from, s.to), replace: s.replace, with: member(s.with) }));
  }

  /** When the first shift begins: nobody is on call before it. */
  get firstShiftAt(): number {
    return this.shiftStart(0);
  }

  /** When regular shift `index` begins (negative indexes lie before the first hand-off). */
  shiftStart(index: number): number {
    const day = this.firstDay.plus({ days: index * this.shiftDays });
    return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: this.hour, minute: this.minute }, { zone: this.zone }).toMillis();
  }

  /** The regular shift that contains `at`. */
  shiftAt(at: number): RegularShift {
    const nominal = this.shiftDays * DAY_MS;
    let index = Math.floor((at - this.shiftStart(0)) / nominal);
    // The estimate is off by at most one where a DST change moved a boundary by an hour.
    for (let i = 0; i < 4 && this.shiftStart(index) > at; i++) index--;
    for (let i = 0; i < 4 && this.shiftStart(index + 1) <= at; i++) index++;
    return { index, start: this.shiftStart(index), end: this.shiftStart(index + 1) };
  }

  /** The rotation's own DRIs for a shift, before swaps and overrides; none before the first shift. */
  regularDris(index: number): TeamMember[] {
    const size = this.members.length;
    if (size === 0 || index < 0) return [];
    const count = Math.min(this.config.drisPerShift, size);
    const out: TeamMember[] = [];
    for (let j = 0; j < count; j++) {
      const position = (((index * this.config.drisPerShift + j) % size) + size) % size;
      out.push(this.members[position] as TeamMember);
    }
    return out;
  }

  /** Who is on call at `at`, and why. */
  decide(at: number): { dris: TeamMember[]; source: OnCallSegment['source'] } {
    // The last override listed wins where several cover the same moment.
    for (let i = this.overrides.length - 1; i >= 0; i--) {
      const o = this.overrides[i] as (typeof this.overrides)[number];
      if (o.start <= at && at < o.end) return { dris: o.dris, source: 'override' };
    }
    const index = this.shiftAt(at).index;
    if (index < 0) return { dris: [], source: 'not-started' };
    let dris = this.regularDris(index);
    let source: OnCallSegment['source'] = 'rotation';
    for (const swap of this.swaps) {
      if (swap.start <= at && at < swap.end && dris.some((d) => d.name === swap.replace)) {
        dris = dedupe(dris.map((d) => (d.name === swap.replace ? swap.with : d)));
        source = 'swap';
      }
    }
    return { dris, source };
  }

  /** The segment that contains `at`: its DRIs and when they took over and hand off. */
  onCall(at: number): OnCallSegment {
    const [first] = this.segments(at, at + HORIZON_MS, 1);
    return first as OnCallSegment;
  }

  /** The stretches with one set of DRIs each, from the one containing `from` until `until`. */
  segments(from: number, until: number, limit = MAX_SEGMENTS): OnCallSegment[] {
    const boundaries = this.boundariesBetween(from, until);
    const out: OnCallSegment[] = [];
    let start = this.segmentStart(from);
    let current = this.decide(from);
    for (const boundary of [...boundaries, until]) {
      const next = boundary === until ? undefined : this.decide(boundary);
      if (next && sameDris(next.dris, current.dris)) continue;
      out.push({ start, end: boundary, dris: current.dris, source: current.source });
      if (!next || out.length >= limit) break;
      start = boundary;
      current = next;
    }
    const last = out[out.length - 1];
    if (last && last.end === until && until - from < HORIZON_MS && out.length < limit) {
      // The last stretch may go on past `until`: report where it really ends.
      last.end = this.nextChangeAfter(last.start, last.dris) ?? last.end;
    }
    return out;
  }

  /** The first moment after `after` at which the DRIs change (when a hand-off is due). */
  nextHandoff(after: number): number | undefined {
    return this.nextChangeAfter(after, this.decide(after).dris);
  }

  private nextChangeAfter(after: number, dris: TeamMember[]): number | undefined {
    for (const boundary of this.boundariesBetween(after, after + HORIZON_MS)) {
      if (!sameDris(this.decide(boundary).dris, dris)) return boundary;
    }
    return undefined;
  }

  /** Where the stretch containing `at` began (going back at most one horizon). */
  private segmentStart(at: number): number {
    const dris = this.decide(at).dris;
    const boundaries = this.boundariesBetween(at - HORIZON_MS, at + 1).filter((b) => b <= at);
    let start = at - HORIZON_MS;
    for (let i = boundaries.length - 1; i >= 0; i--) {
      const b = boundaries[i] as number;
      start = b;
      if (!sameDris(this.decide(b - 1).dris, dris)) return b;
    }
    return start;
  }

  /** Every instant in (from, until) where a shift, override or swap begins or ends, sorted. */
  private boundariesBetween(from: number, until: number): number[] {
    const out = new Set<number>();
    const first = this.shiftAt(from).index + 1;
    for (let i = first; ; i++) {
      const start = this.shiftStart(i);
      if (start >= until || out.size > MAX_SEGMENTS * 2) break;
      out.add(start);
    }
    for (const r of [...this.overrides, ...this.swaps]) {
      for (const edge of [r.start, r.end]) if (edge > from && edge < until) out.add(edge);
    }
    return [...out].sort((a, b) => a - b);
  }

  /** A config date range in the rotation's zone: a date means the whole day (so `to` is inclusive). */
  private range(from: string, to: string): TimeRange {
    const read = (text: string) => DateTime.fromISO(text, { zone: this.zone });
    const start = read(from).toMillis();
    const end = to.includes('T') ? read(to).toMillis() : read(to).plus({ days: 1 }).startOf('day').toMillis();
    return { start, end };
  }
}

function sameDris(a: readonly TeamMember[], b: readonly TeamMember[]): boolean {
  return a.length === b.length && a.every((m, i) => m.name === b[i]?.name);
}

function dedupe(members: TeamMember[]): TeamMember[] {
  const seen = new Set<string>();
  return members.filter((m) => !seen.has(m.name) && (seen.add(m.name), true));
}
