/**
 * The on-call part of the `router:` section (the rest is alertmanager/config.ts): the team, the
 * rotation with its overrides and swaps, working hours and the SLA table, and the checks across them.
 */
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { positiveDuration } from './duration-field.js';

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export const CLUSTER_PRIORITIES = ['production', 'staging', 'dev'] as const;
export type ClusterPriority = (typeof CLUSTER_PRIORITIES)[number];
export const SEVERITIES = [0, 1, 2, 3] as const;

export const email = z.string().email();
const timeZone = z.string().refine(
  (zone) => IANAZone.isValidZone(zone),
  (zone) => ({ message: `unknown time zone "${zone}"; use an IANA name such as Europe/Berlin` }),
);
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour clock)');
const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date, YYYY-MM-DD')
  .refine((d) => DateTime.fromISO(d).isValid, 'not a calendar date');
/** A date (the whole day) or a local date and time, read in the rotation's time zone. */
const localDateOrTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$/, 'expected YYYY-MM-DD or YYYY-MM-DDTHH:MM')
  .refine((d) => DateTime.fromISO(d).isValid, 'not a calendar date');

export const memberSchema = z.object({ name: z.string().min(1), email }).strict();

const overrideSchema = z
  .object({
    /** First day (or moment) of the override; a date starts at midnight. */
    from: localDateOrTime,
    /** Last day (inclusive) or the moment it ends. */
    to: localDateOrTime,
    /** Who is on call instead, by team member name. */
    dris: z.array(z.string().min(1)).min(1).max(2),
  })
  .strict();

const swapSchema = z
  .object({
    from: localDateOrTime,
    to: localDateOrTime,
    /** This member's turns in the range are taken by `with`. */
    replace: z.string().min(1),
    with: z.string().min(1),
  })
  .strict();

export const rotationSchema = z
  .object({
    drisPerShift: z.number().int().min(1).max(2).default(1),
    /** Whole days: shifts begin at the hand-off's local clock time, whatever the UTC offset. */
    shiftLength: positiveDuration.refine((s) => (parseDuration(s) ?? 0) % 86_400_000 === 0, 'a shift lasts whole days (e.g. 1w, 7d, 1d)').default('1w'),
    handoff: z
      .object({
        weekday: z.enum(WEEKDAYS).default('monday'),
        time: clockTime.default('10:00'),
        timeZone: timeZone.default('UTC'),
      })
      .strict()
      .default({}),
    /** The first shift begins at the first hand-off weekday on or after this date. */
    start: localDate.default('2024-01-01'),
    overrides: z.array(overrideSchema).default([]),
    swaps: z.array(swapSchema).default([]),
  })
  .strict();

export const workingHoursSchema = z
  .object({
    timeZone: timeZone.default('UTC'),
    weekdays: z.array(z.enum(WEEKDAYS)).min(1).default(['monday', 'tuesday', 'wednesday', 'thursday', 'friday']),
    start: clockTime.default('09:00'),
    end: clockTime.default('18:00'),
    holidays: z.array(localDate).default([]),
  })
  .strict()
  .refine((w) => w.start < w.end, { message: 'working hours must end after they start on the same day', path: ['end'] });

export const slaRowSchema = z
  .object({
    severity: z.union([z.number().int().min(0).max(3), z.array(z.number().int().min(0).max(3)).min(1)]),
    clusters: z.union([z.literal('all'), z.array(z.enum(CLUSTER_PRIORITIES)).min(1)]).default('all'),
    acknowledge: positiveDuration,
    update: positiveDuration,
    hours: z.enum(['working', '24x7']).default('working'),
  })
  .strict();

/**
 * DESIGN §7, except that severity 0 (a production cluster is down) counts every minute (24x7): the
 * design's table is a working-hours example, and a cluster down on Saturday night must not wait for
 * Monday. Plus one row it leaves open (severities 0–2 on staging and dev clusters), so every
 * severity × cluster priority has an SLA.
 */
export const DEFAULT_SLA_TABLE: z.input<typeof slaRowSchema>[] = [
  { severity: 0, clusters: ['production'], acknowledge: '30m', update: '2h', hours: '24x7' },
  { severity: 1, clusters: ['production'], acknowledge: '30m', update: '2h', hours: 'working' },
  { severity: 2, clusters: ['production'], acknowledge: '2h', update: '24h', hours: 'working' },
  { severity: 3, clusters: 'all', acknowledge: '4h', update: '24h', hours: 'working' },
  { severity: [0, 1, 2], clusters: ['staging', 'dev'], acknowledge: '4h', update: '24h', hours: 'working' },
];

/** Team member names are unique, and the rotation's overrides and swaps name team members over ranges that do not end before they begin. */
export function checkTeamReferences(config: { team: z.output<typeof memberSchema>[]; rotation: z.output<typeof rotationSchema> }, ctx: z.RefinementCtx): void {
  const names = new Set(config.team.map((m) => m.name));
  if (names.size !== config.team.length) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['team'], message: 'team member names must be unique' });
  if (config.team.length > 0 && config.team.length < config.rotation.drisPerShift) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ['rotation', 'drisPerShift'],
      message: `${config.rotation.drisPerShift} DRIs per shift need at least as many team members`,
    });
  }
  const known = (name: string, path: (string | number)[]) => {
    if (!names.has(name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `"${name}" is not a team member` });
  };
  config.rotation.overrides.forEach((o, i) => o.dris.forEach((d, j) => known(d, ['rotation', 'overrides', i, 'dris', j])));
  config.rotation.swaps.forEach((s, i) => {
    known(s.replace, ['rotation', 'swaps', i, 'replace']);
    known(s.with, ['rotation', 'swaps', i, 'with']);
  });
  const ranges = [
    ...config.rotation.overrides.map((o, i) => ({ ...o, path: ['rotation', 'overrides', i, 'to'] })),
    ...config.rotation.swaps.map((s, i) => ({ ...s, path: ['rotation', 'swaps', i, 'to'] })),
  ];
  for (const r of ranges) {
    if (r.to < r.from) ctx.addIssue({ code: z.ZodIssueCode.custom, path: r.path, message: 'ends before it begins' });
  }
}

/** Every severity on every cluster priority has an SLA row. */
export function checkSlaCoverage(rows: z.output<typeof slaRowSchema>[], ctx: z.RefinementCtx): void {
  for (const severity of SEVERITIES) {
    for (const priority of CLUSTER_PRIORITIES) {
      const covered = rows.some(
        (r) => (Array.isArray(r.severity) ? r.severity.includes(severity) : r.severity === severity) && (r.clusters === 'all' || r.clusters.includes(priority)),
      );
      if (!covered) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sla'], message: `no row covers severity ${severity} on ${priority} clusters` });
    }
  }
}
