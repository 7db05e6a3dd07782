/** GPU health alerts: ECC, row remapping, retired pages, clock-event slowdowns and temperature. */
import { GPU_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, expectedAlert, type AlertSpec } from '../alert-builder.js';
import type { Slots } from '../annotations.js';
import { constant, eventCases, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { anyOf, by, num, range, selector, type Matcher } from '../promql.js';
import { at, runOf, stepsOf, seriesText, values } from '../timeline.js';
import type { GeneratedAlert, PromtoolTest } from '../types.js';
import { variantsOf, type Variant } from '../variants.js';
import { gpuLabelsFor } from './gpu-labels.js';

export const GPU_BY = ['cluster', 'node', 'gpu', 'uuid'];
const ECC = GPU_METRICS.ecc.name;
/**
 * New errors show in both scopes; the volatile count (since the driver loaded) is updated at once,
 * and reading one scope halves the series these rules read. A driver reload resets it, which
 * `increase` treats as a counter reset, not as errors.
 */
const VOLATILE: Matcher = { label: 'scope', op: '=', value: 'volatile' };

export const where = (s: Slots) => `GPU ${s.label('gpu')} (${s.label('uuid')}) on node ${s.label('node')} in cluster ${s.label('cluster')}`;

export function eccUncorrectable(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.eccUncorrectable;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const m: Matcher[] = [{ label: 'type', op: '=', value: 'uncorrected' }, VOLATILE, ...v.matchers];
    const spec: AlertSpec = {
      gpuHolder: true,
      name: 'GpuEccUncorrectable',
      expr: `max ${by(GPU_BY)} (increase(${selector(ECC, m)}${range(policy.window)})) > 0`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Uncorrectable ECC errors on GPU ${s.label('gpu')} of ${s.label('node')}`,
        description: (s) =>
          `${where(s)} counted new uncorrectable ECC errors in the last ${policy.window}${v.scope}. ` +
          `The job on it has likely crashed; drain the GPU and check for a pending row remap.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const tests = gpu
      ? eventCases(ctx, spec, v.scope, {
          series: seriesText(ECC, { ...gpu.withInstance, type: 'uncorrected', scope: 'volatile' }),
          labels: gpu.labels,
          window: policy.window,
          appearsWithFirstEvent: false,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

export function eccCorrectableStorm(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.eccCorrectableStorm;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const m: Matcher[] = [{ label: 'type', op: '=', value: 'corrected' }, VOLATILE, ...v.matchers];
    const spec: AlertSpec = {
      gpuHolder: true,
      name: 'GpuEccCorrectableStorm',
      expr: `max ${by(GPU_BY)} (increase(${selector(ECC, m)}${range(policy.window)})) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Storm of corrected ECC errors on GPU ${s.label('gpu')} of ${s.label('node')}`,
        description: (s) =>
          `${where(s)} corrected more than ${v.threshold} ECC errors in the last ${policy.window}${v.scope}. ` +
          `Memory is degrading: plan a reset and watch for row remapping.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const series = gpu && seriesText(ECC, { ...gpu.withInstance, type: 'corrected', scope: 'volatile' });
    return { rule: alertRule(ctx, spec), tests: gpu && series ? stormTests(ctx, spec, v, policy.window, series, gpu.labels) : [] };
  });
}

/** A steady stream of counter events well above the threshold fires; a few do not; a burst is still pending before `for`. */
export function stormTests(
  ctx: GenContext,
  spec: AlertSpec,
  v: Variant<number>,
  window: string,
  series: string,
  labels: Record<string, string>,
): PromtoolTest[] {
  const windowSteps = stepsOf(window);
  const forSteps = stepsOf(spec.for);
  const perStep = Math.ceil((2 * (v.threshold + 1)) / Math.max(1, windowSteps));
  const fireAt = windowSteps + forSteps + 2;
  const total = fireAt + 2;
  const few = Math.floor(v.threshold / 2);
  const tests: PromtoolTest[] = [
    {
      name: `${spec.name}${v.scope} fires on a steady stream of errors`,
      inputSeries: [{ series, values: values([runOf(0, total, perStep)]) }],
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [expectedAlert(ctx, spec, labels, 0)] }],
    },
    {
      name: `${spec.name}${v.scope} stays quiet on a few errors`,
      inputSeries: [{ series, values: values([runOf(0, 2), runOf(few, total - 2)]) }],
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [] }],
    },
  ];
  if (forSteps > 0) {
    tests.push({
      name: `${spec.name}${v.scope} does not fire before for`,
      inputSeries: [{ series, values: values([runOf(0, 2), runOf(2 * (v.threshold + 1), total - 2)]) }],
      checks: [{ evalTime: at(2), alertname: spec.name, alerts: [] }],
    });
  }
  return tests;
}

export function rowRemapPendingOrFailed(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.rowRemapPendingOrFailed;
  if (!policy.enabled) return [];
  const kinds = [
    {
      name: 'GpuRowRemapPending',
      metric: GPU_METRICS.remapPending.name,
      summary: (s: Slots) => `GPU ${s.label('gpu')} of ${s.label('node')} needs a reset to remap memory rows`,
      description: (s: Slots, scope: string) =>
        `${where(s)} has a row remap pending${scope}: the remap takes effect only after a GPU reset. Drain the node's jobs from it and reset the GPU.`,
    },
    {
      name: 'GpuRowRemapFailed',
      metric: GPU_METRICS.remapFailed.name,
      summary: (s: Slots) => `Row remapping failed on GPU ${s.label('gpu')} of ${s.label('node')}`,
      description: (s: Slots, scope: string) => `${where(s)} failed to remap a memory row${scope}: the GPU has run out of spare rows and needs service (RMA).`,
    },
  ];
  return variantsOf(policy).flatMap((v) =>
    kinds.map((k) => {
      const spec: AlertSpec = {
        gpuHolder: true,
        name: k.name,
        expr: `max ${by(GPU_BY)} (${selector(k.metric, v.matchers)}) == 1`,
        for: v.for,
        severity: v.severity,
        ruleLabels: v.labels,
        text: { summary: k.summary, description: (s) => k.description(s, v.scope) },
      };
      const gpu = gpuLabelsFor(ctx, v.matchers);
      const tests = gpu
        ? levelCases(ctx, spec, v.scope, {
            series: [{ series: seriesText(k.metric, gpu.withInstance), bad: constant(1), good: constant(0) }],
            labels: gpu.labels,
            value: 1,
          })
        : [];
      return { rule: alertRule(ctx, spec), tests };
    }),
  );
}

export function retiredPagesNearLimit(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.retiredPagesNearLimit;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      gpuHolder: true,
      name: 'GpuRetiredPagesNearLimit',
      expr: `sum ${by(GPU_BY)} (${selector(GPU_METRICS.retiredPages.name, v.matchers)}) >= ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} has retired ${s.value} memory pages`,
        description: (s) =>
          `${where(s)} has retired ${s.value} memory pages (single- and double-bit causes), at or above ${v.threshold}${v.scope}; ` +
          `the device can retire at most 64. Plan its replacement.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const pages = (cause: string) => seriesText(GPU_METRICS.retiredPages.name, { ...gpu?.withInstance, cause });
    const tests =
      gpu && v.threshold >= 1
        ? levelCases(ctx, spec, v.scope, {
            series: [
              { series: pages('sbe'), bad: constant(v.threshold - 1), good: constant(Math.max(0, v.threshold - 2)) },
              { series: pages('dbe'), bad: constant(1), good: constant(0) },
            ],
            labels: gpu.labels,
            value: v.threshold,
          })
        : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/**
 * Thermal or power slowdown: a clock-event reason active more than `threshold` of the window, one
 * alert per reason. `hw_slowdown` is left out of both by default: NVML sets it for heat as well as
 * for the power brake, so it cannot say which; the specific bits (hw_thermal_slowdown,
 * hw_power_brake_slowdown) can.
 */
function slowdown(ctx: GenContext, kind: 'thermal' | 'power'): GeneratedAlert[] {
  const policy = kind === 'thermal' ? ctx.policies.thermalSlowdown : ctx.policies.powerSlowdown;
  if (!policy.enabled) return [];
  const name = kind === 'thermal' ? 'GpuThermalSlowdown' : 'GpuPowerSlowdown';
  const metric = GPU_METRICS.clockEvent.name;
  return variantsOf(policy).map((v) => {
    const m: Matcher[] = [{ label: 'reason', op: '=~', value: anyOf(policy.reasons) }, ...v.matchers];
    const spec: AlertSpec = {
      gpuHolder: true,
      name,
      expr: `max ${by([...GPU_BY, 'reason'])} (avg_over_time(${selector(metric, m)}${range(policy.window)})) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} is slowed down by ${kind === 'thermal' ? 'heat' : 'power'}`,
        description: (s) =>
          `${where(s)} had its clocks cut by ${s.label('reason')} ${s.percent} of the last ${policy.window}, ` +
          `more than ${Number((v.threshold * 100).toPrecision(6))}%${v.scope}. ` +
          (kind === 'thermal' ? "Check the node's cooling and fans." : 'Check the power supply and the power-brake signal of the node.'),
      },
    };
    return { rule: alertRule(ctx, spec), tests: slowdownTests(ctx, spec, v, policy.window, policy.reasons[0] ?? 'hw_thermal_slowdown') };
  });
}

function slowdownTests(ctx: GenContext, spec: AlertSpec, v: Variant<number>, window: string, reason: string): PromtoolTest[] {
  const gpu = gpuLabelsFor(ctx, v.matchers);
  if (!gpu) return [];
  const series = seriesText(GPU_METRICS.clockEvent.name, { ...gpu.withInstance, reason });
  const tests = levelCases(ctx, spec, v.scope, {
    series: [{ series, bad: constant(1), good: constant(0) }],
    labels: { ...gpu.labels, reason },
    value: 1,
    blip: false,
  });
  // A slowdown spell after a full window, short enough to keep the window's share at or below the threshold.
  const samples = stepsOf(window) + 1;
  const spell = Math.floor(v.threshold * samples);
  if (spell >= 1) {
    const start = samples + 1;
    const forSteps = stepsOf(spec.for);
    tests.push({
      name: `${spec.name}${v.scope} ignores a short slowdown`,
      inputSeries: [{ series, values: values([runOf(0, start), runOf(1, spell), runOf(0, samples + forSteps + 2)]) }],
      checks: [
        { evalTime: at(start + spell - 1), alertname: spec.name, alerts: [] },
        { evalTime: at(start + spell + forSteps), alertname: spec.name, alerts: [] },
      ],
    });
  }
  return tests;
}

export const thermalSlowdown = (ctx: GenContext) => slowdown(ctx, 'thermal');
export const powerSlowdown = (ctx: GenContext) => slowdown(ctx, 'power');

export function gpuTemperature(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.gpuTemperature;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      gpuHolder: true,
      name: 'GpuTemperatureHigh',
      expr: `max ${by(GPU_BY)} (${selector(GPU_METRICS.temperature.name, v.matchers)}) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} is at ${s.value} °C`,
        description: (s) => `${where(s)} has been hotter than ${v.threshold} °C for ${v.for} (now ${s.value} °C)${v.scope}. Check the node's cooling.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const hot = Math.floor(v.threshold) + 5;
    const tests = gpu
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(GPU_METRICS.temperature.name, gpu.withInstance), bad: constant(hot), good: constant(Math.floor(v.threshold) - 10) }],
          labels: gpu.labels,
          value: hot,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}
