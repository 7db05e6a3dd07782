/**
 * Replay scenarios: a recorded source, multiplied into N GPUs, with jobs placed on them and faults
 * injected over time. Everything is a pure function of the elapsed time, so a test can ask what the
 * exporter shows at any moment.
 *
 * ```yaml
 * source: ../fixtures/q-busy.xml   # relative to the scenario file
 * gpus: 8                          # multiply the recorded GPU 0 into 8 (distinct uuids)
 * jobs:
 *   - {job: alice~train, user: alice, vc: default, priority: test, gpus: [0, 1], startedAgo: 2h}
 * events:
 *   - {at: 30s, until: 5m, gpus: [0, 1], set: {utilizationRatio: 0}}
 *   - {at: 1m, gpus: [2], add: {ecc.uncorrectedVolatile: 1, ecc.uncorrectedAggregate: 1}}
 *   - {at: 2m, gpus: [7], remove: true}
 *   - {at: 3m, until: 3m30s, fault: hang}      # or garbage
 *   - {at: 4m, gpus: [3], xid: 79}             # one XID event (a counter: no `until`)
 *   - {at: 5m, until: 6m, gpus: [4], external: true}  # a process outside any job
 * ```
 */
import { z } from 'zod';
import { parseDuration } from '../../../src/config/duration.js';
import { duration } from '../../../src/config/schema.js';
import type { JobIdentity } from '../../attribution/types.js';
import type { GpuReading, XidCounts } from '../../types.js';

/** Numeric reading fields a scenario may set or add to, by dotted path. */
export const SCENARIO_FIELDS = [
  'utilizationRatio',
  'memoryUtilizationRatio',
  'memoryUsedBytes',
  'temperatureCelsius',
  'memoryTemperatureCelsius',
  'powerUsageWatts',
  'smClockHertz',
  'energyJoules',
  'pcieReplays',
  'ecc.correctedVolatile',
  'ecc.correctedAggregate',
  'ecc.uncorrectedVolatile',
  'ecc.uncorrectedAggregate',
  'remappedRows.correctable',
  'remappedRows.uncorrectable',
  'remappedRows.pending',
  'remappedRows.failure',
  'retiredPages.singleBit',
  'retiredPages.doubleBit',
  'clockEventReasons.hw_thermal_slowdown',
  'clockEventReasons.sw_thermal_slowdown',
  'clockEventReasons.hw_power_brake_slowdown',
  'clockEventReasons.sw_power_cap',
] as const;

const fieldValues = z.record(z.enum(SCENARIO_FIELDS), z.number());

const event = z
  .object({
    at: duration,
    until: duration.optional(),
    gpus: z.array(z.number().int().nonnegative()).optional(),
    set: fieldValues.optional(),
    add: fieldValues.optional(),
    remove: z.literal(true).optional(),
    fault: z.enum(['hang', 'garbage']).optional(),
    xid: z.number().int().min(1).max(65_535).optional(),
    external: z.literal(true).optional(),
  })
  .strict()
  .refine((e) => [e.set, e.add, e.remove, e.fault, e.xid, e.external].filter((x) => x !== undefined).length === 1, {
    message: 'each event does exactly one of: set, add, remove, fault, xid, external',
  })
  .refine((e) => e.xid === undefined || e.until === undefined, { message: 'an xid event happens once: it has no until', path: ['until'] });

const job = z
  .object({
    job: z.string().regex(/^[^~\s]+~[^~\s]+$/, 'an OpenPAI job id, user~jobname'),
    user: z.string().min(1).optional(),
    vc: z.string().min(1).default('default'),
    priority: z.enum(['prod', 'test', 'default', 'oppo']).default('test'),
    gpus: z.array(z.number().int().nonnegative()).min(1),
    startedAgo: duration.default('1h'),
  })
  .strict();

export const scenarioSchema = z
  .object({
    source: z.string().min(1),
    gpus: z.number().int().positive().max(64).optional(),
    jobs: z.array(job).default([]),
    events: z.array(event).default([]),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioEvent = Scenario['events'][number];

const ms = (d: string) => parseDuration(d) ?? 0;

function active(e: ScenarioEvent, elapsedMs: number): boolean {
  return elapsedMs >= ms(e.at) && (e.until === undefined || elapsedMs < ms(e.until));
}

const applies = (e: ScenarioEvent, gpu: number) => e.gpus === undefined || e.gpus.includes(gpu);

/** The fault in force at this moment, if any. */
export function activeFault(s: Scenario, elapsedMs: number): 'hang' | 'garbage' | undefined {
  return s.events.find((e) => e.fault !== undefined && active(e, elapsedMs))?.fault;
}

/** The GPUs as the scenario shows them `elapsedMs` after it started. */
export function applyScenario(s: Scenario, gpus: readonly GpuReading[], elapsedMs: number): GpuReading[] {
  const live = s.events.filter((e) => active(e, elapsedMs));
  return gpus
    .filter((g) => !live.some((e) => e.remove && applies(e, g.index)))
    .map((g) => {
      let out = structuredClone(g);
      for (const e of live) {
        if (!applies(e, g.index)) continue;
        for (const [path, value] of Object.entries(e.set ?? {})) out = withField(out, path, () => value);
        for (const [path, value] of Object.entries(e.add ?? {})) out = withField(out, path, (old) => (old ?? 0) + value);
      }
      return out;
    });
}

/** XID events that have happened by `elapsedMs`, per GPU uuid and code, for the GPUs present. */
export function scenarioXids(s: Scenario, gpus: readonly GpuReading[], elapsedMs: number): XidCounts {
  const counts: XidCounts = new Map();
  for (const e of s.events) {
    if (e.xid === undefined || elapsedMs < ms(e.at)) continue;
    for (const g of gpus) {
      if (!applies(e, g.index)) continue;
      const perGpu = counts.get(g.uuid) ?? new Map<number, number>();
      perGpu.set(e.xid, (perGpu.get(e.xid) ?? 0) + 1);
      counts.set(g.uuid, perGpu);
    }
  }
  return counts;
}

/** Whether a process outside any job runs on this GPU at this moment. */
export function hasExternalProcess(s: Scenario, gpu: number, elapsedMs: number): boolean {
  return s.events.some((e) => e.external && active(e, elapsedMs) && applies(e, gpu));
}

/** Sets one dotted field; booleans (pending, failure, reasons) take any non-zero number as true. */
function withField(g: GpuReading, path: string, value: (old: number | undefined) => number): GpuReading {
  const [head, leaf] = path.split('.') as [string, string | undefined];
  const record = g as unknown as Record<string, unknown>;
  if (leaf === undefined) {
    record[head] = value(record[head] as number | undefined);
    return g;
  }
  const inner = { ...((record[head] as Record<string, unknown> | undefined) ?? {}) };
  const old = inner[leaf];
  const next = value(typeof old === 'boolean' ? Number(old) : (old as number | undefined));
  inner[leaf] = typeof old === 'boolean' || head === 'clockEventReasons' || leaf === 'pending' || leaf === 'failure' ? next !== 0 : next;
  record[head] = inner;
  return g;
}

/** The jobs placed on GPUs (one synthetic process each), with start times relative to when the replay started. */
export function scenarioJobs(s: Scenario, startedAtMs: number): { gpu: number; pid: number; identity: JobIdentity }[] {
  return s.jobs.flatMap((j, jobIndex) => {
    const identity: JobIdentity = {
      job: j.job,
      user: j.user ?? j.job.split('~')[0] ?? '',
      vc: j.vc,
      priority: j.priority,
      startTimeSeconds: Math.floor((startedAtMs - ms(j.startedAgo)) / 1000),
    };
    return j.gpus.map((gpu) => ({ gpu, pid: 100_000 + jobIndex * 100 + gpu, identity }));
  });
}

/** Copies of recorded GPU 0 with distinct indexes, uuids and bus ids, as on an N-GPU node. */
export function multiplyGpus(recorded: readonly GpuReading[], count: number): GpuReading[] {
  const template = recorded[0];
  if (!template) return [];
  const hex = (i: number) => i.toString(16).padStart(2, '0');
  return Array.from({ length: count }, (_, i) => ({
    ...structuredClone(template),
    index: i,
    uuid: `${template.uuid.slice(0, -2)}${hex(i)}`,
    busId: `00000000:${hex(0x18 + i).toUpperCase()}:00.0`,
  }));
}
