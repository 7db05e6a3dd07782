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
import { by, num, on, range, seconds, selector } from '../promql.js';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { at, runOf, stepsOf, seriesText, values } from '../timeline.js';
import type { GeneratedAlert, PromtoolTest } from '../types.js';
import { exemptMatchers, variantsOf, type Variant } from '../variants.js';
import { exemptLabelsFor, gpuUuid, jobGpuSeries, jobLabelsFor, jobStartSeries, type JobLabels } from './job-labels.js';
import { gpuLabelsFor } from './gpu-labels.js';
import { nodesNotReady } from './node.js';

const JOB_BY = ['cluster', 'job', 'user', 'vc', 'priority'];

function actionSentence(action: PolicyAction | undefined): string {
  if (!action || action.type === 'notify') return ' The owner is notified.';
  const verb = action.type === 'kill' ? 'stopped' : 'stopped and resubmitted at a lower priority';
  return ` The owner is warned; if this still holds after ${action.grace}, the job is ${verb}.`;
}

const jobIdentity = (s: Slots) =>
  `job ${s.label('job')} (user ${s.label('user')}, VC ${s.label('vc')}, priority ${s.label('priority')}, cluster ${s.label('cluster')})`;

const percentText = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

/**
 * A job that wastes its GPUs: over the whole window its GPUs were busy less than `threshold` on
 * average, or at least `idleGpuShare` of its GPUs were each busy less than `threshold` (a job that
 * keeps 1 of 8 GPUs busy averages 12.5 % and is still caught). The alert's value is the job's
 * average. Only jobs that have run for the whole window and still run now: a new job is not judged
 * on its first minutes, and an ended job does not keep firing (and draw actions) for a window. Jobs
 * with a GPU on a node Kubernetes reports not Ready are left out (NodeDown explains them; job alerts
 * have no node label for Alertmanager to inhibit them by).
 */
export function jobLowUtilization(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.jobLowUtilization;
  if (!policy.enabled) return [];
  const exemptions = exemptMatchers(policy.exempt);
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'GpuJobLowUtilization',
      expr: lowUtilizationExpr(ctx, v, policy.window, policy.idleGpuShare),
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      ...(v.action ? { action: v.action } : {}),
      text: {
        summary: (s) => `Job ${s.label('job')} keeps its GPUs busy only ${s.percent} of the time`,
        description: (s) =>
          `Over the last ${policy.window}, the GPUs of ${jobIdentity(s)} were busy ${s.percent} of the time on average: ` +
          `below the ${percentText(v.threshold)} threshold, or ${percentText(policy.idleGpuShare)} or more of its GPUs were each busy less than that${v.scope}.` +
          actionSentence(v.action),
      },
    };
    return { rule: alertRule(ctx, spec), tests: lowUtilizationTests(ctx, spec, v, policy.window, exemptions) };
  });
}

function lowUtilizationExpr(ctx: GenContext, v: Variant<number>, window: string, idleGpuShare: number): string {
  const w = range(window);
  const job = selector(RECORDING.jobUtilization, v.matchers);
  const perGpu = `avg_over_time(${selector(RECORDING.gpuUtilizationByJob, [{ label: 'job', op: '!=', value: '' }, ...v.matchers])}${w})`;
  const idleShare = `count ${by(JOB_BY)} (${perGpu} < ${num(v.threshold)})\n  / ${on(JOB_BY)}\n  count ${by(JOB_BY)} (${perGpu})`;
  const started = `min ${by(['cluster', 'job'])} (${JOB_METRICS.startTime.name})`;
  const onDownNode = `max ${by(['cluster', 'node', 'job'])} (${JOB_METRICS.allocated.name})\n  and ${on(['cluster', 'node'])}\n  (${nodesNotReady(ctx)})`;
  return [
    `avg_over_time(${job}${w})`,
    `and ${on(JOB_BY)}`,
    `(`,
    `  avg_over_time(${job}${w}) < ${num(v.threshold)}`,
    `  or`,
    `  ${idleShare} >= ${num(idleGpuShare)}`,
    `)`,
    `and ${on(JOB_BY)} ${job}`,
    `and ${on(['cluster', 'job'])} (time() - ${started} >= ${num(seconds(window))})`,
    `unless ${on(['cluster', 'job'])}`,
    `(`,
    `  ${onDownNode}`,
    `)`,
  ].join('\n');
}

function lowUtilizationTests(
  ctx: GenContext,
  spec: AlertSpec,
  v: Variant<number>,
  window: string,
  exemptions: ReturnType<typeof exemptMatchers>,
): PromtoolTest[] {
  const labels = jobLabelsFor(ctx, v.matchers);
  if (!labels || v.threshold <= 0) return [];
  const low = v.threshold / 2;
  const high = (1 + v.threshold) / 2;
  const forSteps = stepsOf(spec.for);
  const fireAt = forSteps + 2;
  const total = fireAt + 2;
  const length = total + stepsOf(window) * 2;
  // The job started a window before the test's time 0, so it has run for the whole window throughout.
  const seriesOf = (job: JobLabels, utilization: string) => [
    { series: jobStartSeries(ctx.targetIn(job.cluster), job), values: values([runOf(-seconds(window), length)]) },
    ...jobGpuSeries(ctx.targetIn(job.cluster), job).flatMap((g) => [
      { series: g.utilization, values: utilization },
      { series: g.allocated, values: values([runOf(1, length)]) },
    ]),
  ];
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
        description: (s) =>
          `${capitalize(jobIdentity(s))} started more than ${v.threshold} ago, longer than a job may run${v.scope}.${actionSentence(v.action)}`,
      },
    };
    const labels = jobLabelsFor(ctx, v.matchers);
    const startSeries = (job: JobLabels) => jobStartSeries(ctx.targetIn(job.cluster), job);
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
      gpuHolder: true,
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
