/**
 * Job alerts: low GPU utilization, running too long, and GPUs used by processes outside any job.
 * Job alerts carry the job's labels (job, user, vc, priority) and `action`, which the router acts on.
 */
import { GPU_METRICS, JOB_METRICS } from '../../src/catalog/metrics.js';
import type { PolicyAction } from '../../src/config/policy-fields.js';
import { alertRule, expectedAlert, type AlertSpec } from '../alert-builder.js';
import type { Slots } from '../annotations.js';
import { constant, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, num, range, seconds, selector } from '../promql.js';
import { RECORDING } from '../recording-names.js';
import { at, runOf, stepsOf, seriesText, values } from '../timeline.js';
import type { GeneratedAlert, PromtoolTest } from '../types.js';
import { exemptMatchers, variantsOf, type Variant } from '../variants.js';
import { exemptLabelsFor, gpuUuid, jobGpuSeries, jobLabelsFor, type JobLabels } from './job-labels.js';
import { gpuLabelsFor } from './gpu-labels.js';

const JOB_BY = ['cluster', 'job', 'user', 'vc', 'priority'];

function actionSentence(action: PolicyAction | undefined): string {
  if (!action || action.type === 'notify') return ' The owner is notified.';
  const verb = action.type === 'kill' ? 'stopped' : 'stopped and resubmitted at a lower priority';
  return ` The owner is warned; if this still holds after ${action.grace}, the job is ${verb}.`;
}

const jobIdentity = (s: Slots) =>
  `job ${s.label('job')} (user ${s.label('user')}, VC ${s.label('vc')}, priority ${s.label('priority')}, cluster ${s.label('cluster')})`;

const percentText = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

export function jobLowUtilization(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.jobLowUtilization;
  if (!policy.enabled) return [];
  const exemptions = exemptMatchers(policy.exempt);
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuJobLowUtilization',
      expr: `avg_over_time(${selector(RECORDING.jobUtilization, v.matchers)}${range(policy.window)}) < ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      ...(v.action ? { action: v.action } : {}),
      text: {
        summary: (s) => `Job ${s.label('job')} keeps its GPUs busy only ${s.percent} of the time`,
        description: (s) =>
          `Over the last ${policy.window}, the GPUs of ${jobIdentity(s)} were busy ${s.percent} of the time on average, ` +
          `below the ${percentText(v.threshold)} threshold${v.scope}.${actionSentence(v.action)}`,
      },
    };
    return { rule: alertRule(ctx, spec), tests: lowUtilizationTests(ctx, spec, v, policy.window, exemptions) };
  });
}

function lowUtilizationTests(ctx: GenContext, spec: AlertSpec, v: Variant<number>, window: string, exemptions: ReturnType<typeof exemptMatchers>): PromtoolTest[] {
  const labels = jobLabelsFor(ctx, v.matchers);
  if (!labels || v.threshold <= 0) return [];
  const low = v.threshold / 2;
  const high = (1 + v.threshold) / 2;
  const forSteps = stepsOf(spec.for);
  const fireAt = forSteps + 2;
  const total = fireAt + 2;
  const seriesOf = (job: JobLabels, utilization: string) =>
    jobGpuSeries(ctx.targetIn(job.cluster), job).flatMap((g) => [
      { series: g.utilization, values: utilization },
      { series: g.allocated, values: values([runOf(1, total + stepsOf(window) * 2)]) },
    ]);
  const tests: PromtoolTest[] = [
    {
      name: `${spec.name}${v.scope} fires`,
      inputSeries: seriesOf(labels, values([runOf(low, total)])),
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [expectedAlert(ctx, spec, { ...labels }, low)] }],
    },
    {
      name: `${spec.name}${v.scope} stays quiet for a busy job`,
      inputSeries: seriesOf(labels, values([runOf(high, total)])),
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [] }],
    },
  ];
  // An idle spell inside a full window that keeps the window's average above the threshold.
  const samples = stepsOf(window) + 1;
  const dip = Math.min(Math.floor(samples * (1 - v.threshold / high)) - 1, Math.max(1, Math.floor(forSteps / 2)));
  if (dip >= 1) {
    const dipStart = samples + 1;
    const after = forSteps + 4;
    tests.push({
      name: `${spec.name}${v.scope} ignores a short idle spell`,
      inputSeries: seriesOf(labels, values([runOf(high, dipStart), runOf(0, dip), runOf(high, after)])),
      checks: [
        { evalTime: at(dipStart + dip - 1), alertname: spec.name, alerts: [] },
        { evalTime: at(dipStart + dip + forSteps + 1), alertname: spec.name, alerts: [] },
      ],
    });
  }
  for (const { exemption, labels: exempt } of exemptLabelsFor(ctx, v.matchers, exemptions)) {
    tests.push({
      name: `${spec.name}${v.scope} leaves out exempt ${exemption.label} ${exempt[exemption.label as keyof JobLabels]}`,
      inputSeries: seriesOf(exempt, values([runOf(low, total)])),
      checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [] }],
    });
  }
  return tests;
}

export function jobRunningTooLong(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.jobRunningTooLong;
  if (!policy.enabled) return [];
  const exemptions = exemptMatchers(policy.exempt);
  return variantsOf(policy).map((v) => {
    const limit = seconds(v.threshold);
    const spec: AlertSpec = {
      name: 'GpuJobRunningTooLong',
      expr: `time() - min ${by(JOB_BY)} (${selector(JOB_METRICS.startTime.name, v.matchers)}) > ${num(limit)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      ...(v.action ? { action: v.action } : {}),
      text: {
        summary: (s) => `Job ${s.label('job')} has run longer than ${v.threshold}`,
        description: (s) => `${capitalize(jobIdentity(s))} started more than ${v.threshold} ago, longer than a job may run${v.scope}.${actionSentence(v.action)}`,
      },
    };
    const labels = jobLabelsFor(ctx, v.matchers);
    const startSeries = (job: JobLabels) =>
      seriesText(JOB_METRICS.startTime.name, { ...job, node: ctx.targetIn(job.cluster).node, instance: ctx.targetIn(job.cluster).instance });
    // Old: started `limit` ago at time 0. Recent: started at the end of the phase, never too long ago.
    const started = (job: JobLabels) => ({
      series: startSeries(job),
      bad: constant(-limit),
      good: (start: number, count: number) => runOf((start + count) * 60, count),
    });
    const tests = labels ? levelCases(ctx, spec, v.scope, { series: [started(labels)], labels: { ...labels }, value: 0, delaySteps: 1 }) : [];
    for (const { exemption, labels: exempt } of exemptLabelsFor(ctx, v.matchers, exemptions)) {
      const fireAt = stepsOf(v.for) + 3;
      tests.push({
        name: `${spec.name}${v.scope} leaves out exempt ${exemption.label} ${exempt[exemption.label as keyof JobLabels]}`,
        inputSeries: [{ series: startSeries(exempt), values: values([runOf(-limit, fireAt + 2)]) }],
        checks: [{ evalTime: at(fireAt), alertname: spec.name, alerts: [] }],
      });
    }
    return { rule: alertRule(ctx, spec), tests };
  });
}

export function gpuExternalProcess(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.gpuExternalProcess;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuExternalProcess',
      expr: `max ${by(['cluster', 'node', 'gpu', 'uuid'])} (${selector(GPU_METRICS.externalProcesses.name, v.matchers)}) > 0`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `A process outside any job uses GPU ${s.label('gpu')} on ${s.label('node')}`,
        description: (s) =>
          `${s.value} process(es) that belong to no job (outside any container) use GPU ${s.label('gpu')} (${s.label('uuid')}) ` +
          `on node ${s.label('node')} in cluster ${s.label('cluster')}${v.scope}; they take memory and time from the jobs scheduled there.`,
      },
    };
    const gpu = gpuLabelsFor(ctx, v.matchers);
    const tests = gpu
      ? levelCases(ctx, spec, v.scope, {
          series: [{ series: seriesText(GPU_METRICS.externalProcesses.name, gpu.withInstance), bad: constant(1), good: constant(0) }],
          labels: gpu.labels,
          value: 1,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export { gpuUuid };
