/**
 * Generic promtool test cases. Every alert gets a case where it fires (with its exact labels and
 * annotations), a healthy case where it must not, and, when it has a `for`, a blip: the condition
 * holds for less than `for` and then clears, and no alert may fire.
 */
import { expectedAlert, type AlertSpec } from './alert-builder.js';
import type { GenContext } from './context.js';
import { at, runOf, stepsOf, values, type Segment } from './timeline.js';
import type { PromtoolTest, SeriesInput } from './types.js';

/** Samples for the steps [start, start + count). */
export type Samples = (start: number, count: number) => Segment;

export const constant =
  (value: number): Samples =>
  (_start, count) =>
    runOf(value, count);

/** A Unix-seconds timestamp that keeps up with the test clock (promtool starts at time 0). */
export const clock =
  (offsetSeconds = 0): Samples =>
  (start, count) =>
    runOf(start * 60 + offsetSeconds, count, 60);

export interface LevelSeries {
  series: string;
  bad: Samples;
  good: Samples;
}

export interface LevelCase {
  series: LevelSeries[];
  /** The labels of the alert the bad state raises (before the rule's own labels). */
  labels: Record<string, string>;
  /** The alert's value in the bad state. */
  value: number;
  /** Steps the bad state needs before the condition holds (e.g. a timestamp growing old). */
  delaySteps?: number;
  /** false when the caller writes its own blip case (e.g. for averages over a window). */
  blip?: boolean;
  /** Series every case needs unchanged (e.g. healthy other clusters). */
  context?: SeriesInput[];
}

function input(c: LevelCase, phases: { bad: boolean; count: number }[]): SeriesInput[] {
  const varying = c.series.map((s) => {
    let start = 0;
    const segments = phases.map((p) => {
      const seg = (p.bad ? s.bad : s.good)(start, p.count);
      start += p.count;
      return seg;
    });
    return { series: s.series, values: values(segments) };
  });
  return [...(c.context ?? []), ...varying];
}

const describeScope = (spec: AlertSpec, scope: string) => `${spec.name}${scope}`;

/** Fires / healthy / blip cases for an alert on a level (a gauge compared with a threshold). */
export function levelCases(ctx: GenContext, spec: AlertSpec, scope: string, c: LevelCase): PromtoolTest[] {
  const forSteps = stepsOf(spec.for);
  const delay = c.delaySteps ?? 0;
  const fireAt = delay + forSteps + 2;
  const total = fireAt + 2;
  const name = describeScope(spec, scope);
  const tests: PromtoolTest[] = [
    {
      name: `${name} fires`,
      inputSeries: input(c, [{ bad: true, count: total }]),
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [expectedAlert(ctx, spec, c.labels, c.value)] }],
    },
    {
      name: `${name} stays quiet when healthy`,
      inputSeries: input(c, [{ bad: false, count: total }]),
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [] }],
    },
  ];
  if (forSteps > 0 && c.blip !== false) {
    const blip = Math.max(1, Math.floor(forSteps / 2));
    tests.push({
      name: `${name} ignores a blip shorter than for`,
      inputSeries: input(c, [
        { bad: true, count: delay + blip },
        { bad: false, count: total - delay - blip },
      ]),
      checks: [
        { evalTime: at(delay + blip - 1), alertname: spec.name, alerts: [] },
        { evalTime: at(fireAt), alertname: spec.name, alerts: [] },
      ],
    });
  }
  return tests;
}

export interface EventCase {
  /** The counter series. */
  series: string;
  labels: Record<string, string>;
  window: string;
  /**
   * True for counters whose series only appears with the first event (XIDs counted since the
   * exporter started); false for device counters exported from 0.
   */
  appearsWithFirstEvent: boolean;
  /** Extra series every case needs. */
  context?: SeriesInput[];
}

/**
 * Cases for an alert on new counter events within a window: one event fires (or, when `for` is not
 * shorter than the window, continuing events do); old counts do not; a counter reset (driver
 * reload) does not; before `for` has passed nothing fires.
 */
export function eventCases(ctx: GenContext, spec: AlertSpec, scope: string, c: EventCase): PromtoolTest[] {
  const forSteps = stepsOf(spec.for);
  const windowSteps = stepsOf(c.window);
  const oneEventFires = forSteps + 2 < windowSteps;
  const eventAt = 2;
  const fireAt = eventAt + forSteps + 1;
  const total = fireAt + windowSteps + 2;
  const before: Segment = c.appearsWithFirstEvent ? { missing: eventAt } : runOf(0, eventAt);
  const after = oneEventFires ? runOf(1, total - eventAt) : runOf(1, total - eventAt, 1);
  const name = describeScope(spec, scope);
  const extra = c.context ?? [];
  const tests: PromtoolTest[] = [
    {
      name: `${name} fires on ${oneEventFires ? 'one new event' : 'continuing events'}`,
      inputSeries: [...extra, { series: c.series, values: values([before, after]) }],
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [expectedAlert(ctx, spec, c.labels, 1)] }],
    },
    {
      name: `${name} stays quiet on old events`,
      inputSeries: [...extra, { series: c.series, values: values([runOf(3, total + windowSteps)]) }],
      checks: [{ evalTime: at(total + windowSteps - 1), alertname: spec.name, alerts: [] }],
    },
  ];
  if (!c.appearsWithFirstEvent) {
    tests.push({
      name: `${name} stays quiet on a counter reset`,
      inputSeries: [...extra, { series: c.series, values: values([runOf(5, windowSteps + 2), runOf(0, total)]) }],
      checks: [{ evalTime: at(windowSteps + 2 + forSteps + 1), alertname: spec.name, alerts: [] }],
    });
  }
  if (forSteps > 0) {
    // One event keeps the condition true for `window`; when `for` is longer, it never fires.
    const neverFires = forSteps > windowSteps;
    const checks = [{ evalTime: at(eventAt), alertname: spec.name, alerts: [] }];
    if (neverFires) checks.push({ evalTime: at(eventAt + forSteps), alertname: spec.name, alerts: [] });
    tests.push({
      name: `${name} does not fire before for${neverFires ? ' on a single event' : ''}`,
      inputSeries: [...extra, { series: c.series, values: values([before, runOf(1, total - eventAt)]) }],
      checks,
    });
  }
  return tests;
}
