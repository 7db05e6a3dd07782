/**
 * Device alerts on further exported GPU metrics: a page retirement pending, a GPU the driver says
 * needs a reset, PCIe replays, HBM temperature, a held GPU stuck in a slow performance state, and
 * memory held with no process (the memory-leak alert of OpenPAI's own monitoring).
 */
import { GPU_METRICS, JOB_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, type AlertSpec } from '../alert-builder.js';
import { constant, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, num, on, range, selector } from '../promql.js';
import { at, runOf, seriesText, stepsOf, values } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { variantsOf } from '../variants.js';
import { GPU_BY, stormTests, where } from './gpu-health.js';
import { gpuLabelsFor } from './gpu-labels.js';

const GIB = 1024 ** 3;

export function retiredPagesPending(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.retiredPagesPending;
  if (!policy.enabled) return [];
  const metric = GPU_METRICS.retiredPagesPending.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuRetiredPagesPending',
      gpuHolder: true,
      expr: `max ${by(GPU_BY)} (${selector(metric, v.matchers)}) == 1`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} needs a reset to retire memory pages`,
        description: (s) => `${where(s)} has a page retirement pending${v.scope}: it takes effect only after a GPU reset. Drain the GPU and reset it.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const tests = gpu
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(metric, gpu.withInstance), bad: constant(1), good: constant(0) }],
          labels: gpu.labels,
          value: 1,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/** The driver reports that the GPU needs a reset (NVML_ERROR_RESET_REQUIRED): it has no readings until then. */
export function gpuResetRequired(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.gpuResetRequired;
  if (!policy.enabled) return [];
  const metric = GPU_METRICS.state.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuResetRequired',
      gpuHolder: true,
      expr: `max ${by(GPU_BY)} (${selector(metric, [...v.matchers, { label: 'state', op: '=', value: 'reset_required' }])}) == 1`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} needs a reset`,
        description: (s) =>
          `The driver reports that ${where(s)} needs a GPU reset${v.scope}: until then it gives no readings and runs no work. Drain the GPU and reset it.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const tests = gpu
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(metric, { ...gpu.withInstance, state: 'reset_required' }), bad: constant(1), good: constant(0) }],
          labels: gpu.labels,
          value: 1,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

export function pcieReplays(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.pcieReplays;
  if (!policy.enabled) return [];
  const metric = GPU_METRICS.pcieReplays.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuPcieReplays',
      gpuHolder: true,
      expr: `max ${by(GPU_BY)} (increase(${selector(metric, v.matchers)}${range(policy.window)})) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `PCIe replays on GPU ${s.label('gpu')} of ${s.label('node')}`,
        description: (s) =>
          `${where(s)} replayed more than ${v.threshold} PCIe transfers in the last ${policy.window}${v.scope}: ` +
          `the link is unreliable (seating, riser, slot). It slows the jobs and often precedes the GPU falling off the bus.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    return { rule: alertRule(ctx, spec), tests: gpu ? stormTests(ctx, spec, v, policy.window, seriesText(metric, gpu.withInstance), gpu.labels) : [] };
  });
}

export function memoryTemperature(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.memoryTemperature;
  if (!policy.enabled) return [];
  const metric = GPU_METRICS.memoryTemperature.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuMemoryTemperatureHigh',
      gpuHolder: true,
      expr: `max ${by(GPU_BY)} (${selector(metric, v.matchers)}) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `The memory of GPU ${s.label('gpu')} of ${s.label('node')} is at ${s.value} °C`,
        description: (s) =>
          `The device memory (HBM) of ${where(s)} has been hotter than ${v.threshold} °C for ${v.for} (now ${s.value} °C)${v.scope}. ` +
          `Hot HBM throttles and wears out; check the node's cooling and airflow.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const hot = Math.floor(v.threshold) + 5;
    const tests = gpu
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(metric, gpu.withInstance), bad: constant(hot), good: constant(Math.floor(v.threshold) - 10) }],
          labels: gpu.labels,
          value: hot,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/** The lowest (fastest) state over the window, so a short drop to a slower state does not count. */
export function lowPerformanceState(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.lowPerformanceState;
  if (!policy.enabled) return [];
  const metric = GPU_METRICS.performanceState.name;
  const allocated = JOB_METRICS.allocated.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuLowPerformanceState',
      gpuHolder: true,
      expr:
        `max ${by(GPU_BY)} (min_over_time(${selector(metric, v.matchers)}${range(policy.window)})) > ${num(v.threshold)}\n` +
        `and ${on(['cluster', 'node', 'uuid'])} ${allocated}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} is stuck in performance state P${s.value}`,
        description: (s) =>
          `${where(s)} is held by a job but has not been faster than P${s.value} for ${policy.window}, slower than P${v.threshold}${v.scope}: ` +
          `its clocks are held down (a clock lock, power cap or driver fault). Check nvidia-smi -q -d PERFORMANCE,CLOCK.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const job = { job: 'alice~train', user: 'alice', vc: 'default' };
    const slow = v.threshold + 6;
    if (!gpu) return { rule: alertRule(ctx, spec), tests: [] };
    const state = seriesText(metric, gpu.withInstance);
    const holder = {
      series: seriesText(allocated, { ...gpu.withInstance, ...job, priority: 'test', pod: 'alice-train-0', namespace: 'default' }),
      values: values([runOf(1, 200)]),
    };
    const tests = levelCases(ctx, spec, v.scope, {
      series: [{ series: state, bad: constant(slow), good: constant(0) }],
      labels: { ...gpu.labels, ...job },
      value: slow,
      blip: false,
      context: [holder],
    });
    // A slow spell shorter than the window, and a slow GPU that no job holds, stay quiet.
    const windowSteps = stepsOf(policy.window);
    const spell = Math.max(1, windowSteps - 1);
    const forSteps = stepsOf(spec.for);
    tests.push(
      {
        name: `${spec.name}${v.scope} ignores a slow spell shorter than the window`,
        inputSeries: [holder, { series: state, values: values([runOf(0, windowSteps), runOf(slow, spell), runOf(0, forSteps + 4)]) }],
        checks: [windowSteps + spell - 1, windowSteps + spell + forSteps].map((step) => ({ evalTime: at(step), alertname: spec.name, alerts: [] })),
      },
      {
        name: `${spec.name}${v.scope} stays quiet on a GPU no job holds`,
        inputSeries: [{ series: state, values: values([runOf(slow, forSteps + 6)]) }],
        checks: [{ evalTime: at(forSteps + 3), alertname: spec.name, alerts: [] }],
      },
    );
    return { rule: alertRule(ctx, spec), tests };
  });
}

export function memoryWithoutProcess(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.memoryWithoutProcess;
  if (!policy.enabled) return [];
  const used = GPU_METRICS.memoryUsed.name;
  const processMemory = GPU_METRICS.processMemory.name;
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuMemoryWithoutProcess',
      gpuHolder: true,
      expr: `max ${by(GPU_BY)} (${selector(used, v.matchers)}) > ${num(v.threshold)}\nunless ${on(['cluster', 'node', 'uuid'])} ${processMemory}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `GPU ${s.label('gpu')} of ${s.label('node')} holds ${s.value} bytes of memory with no process`,
        description: (s) =>
          `${where(s)} has ${s.value} bytes of memory in use but no process holding any, for ${v.for}${v.scope}: memory leaked by a process ` +
          `that is gone (a zombie container, a driver fault). New jobs there run out of memory; drain the GPU and reset it.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const held = 2 * Math.max(v.threshold, GIB);
    const process = gpu && seriesText(processMemory, { ...gpu.withInstance, pid: '4242', job: 'alice~train', container: 'main' });
    const tests =
      gpu && process
        ? levelCases(ctx, spec, v.scope, {
            series: [
              { series: seriesText(used, gpu.withInstance), bad: constant(held), good: constant(held) },
              { series: process, bad: (_start, count) => ({ missing: count }), good: constant(held) },
            ],
            labels: gpu.labels,
            value: held,
          })
        : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}
