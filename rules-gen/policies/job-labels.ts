/** Concrete OpenPAI job labels for generated tests, chosen to satisfy a variant's matchers. */
import { GPU_METRICS, JOB_METRICS } from '../../src/catalog/metrics.js';
import type { GenContext, TestTarget } from '../context.js';
import type { Matcher } from '../promql.js';
import { seriesText } from '../timeline.js';
import { pickLabels } from '../variants.js';

export interface JobLabels {
  cluster: string;
  job: string;
  user: string;
  vc: string;
  priority: string;
}

export function jobLabelsFor(ctx: GenContext, matchers: readonly Matcher[]): JobLabels | undefined {
  const base = pickLabels(matchers, ctx.candidates);
  if (!base) return undefined;
  const user = base.user ?? 'alice';
  const named = pickLabels(matchers, { job: ['train', 'eval', 'finetune'].map((n) => `${user}~${n}`) });
  if (!named) return undefined;
  return { cluster: base.cluster ?? '', job: named.job ?? '', user, vc: base.vc ?? '', priority: base.priority ?? '' };
}

/**
 * For each exemption matcher (`user!~"x"`), labels that fit every other matcher but are exempt
 * through this one, so a test can show exempt jobs stay quiet.
 */
export function exemptLabelsFor(ctx: GenContext, matchers: readonly Matcher[], exemptions: readonly Matcher[]): { exemption: Matcher; labels: JobLabels }[] {
  const found: { exemption: Matcher; labels: JobLabels }[] = [];
  for (const exemption of exemptions) {
    const others = matchers.filter((m) => !(m.label === exemption.label && m.op === exemption.op && m.value === exemption.value));
    const labels = jobLabelsFor(ctx, [...others, { label: exemption.label, op: '=~', value: exemption.value }]);
    if (labels) found.push({ exemption, labels });
  }
  return found;
}

export const gpuUuid = (node: string, gpu: number) =>
  `GPU-${Buffer.from(node).toString('hex').padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${String(gpu).padStart(12, '0')}`;

/** The series a job on GPUs 0 and 1 of the target produces: attribution plus per-GPU utilization. */
export function jobGpuSeries(target: TestTarget, job: JobLabels) {
  return [0, 1].map((gpu) => {
    const gpuLabels = { cluster: job.cluster, node: target.node, gpu: String(gpu), uuid: gpuUuid(target.node, gpu) };
    return {
      utilization: seriesText(GPU_METRICS.utilization.name, { ...gpuLabels, instance: target.instance }),
      allocated: seriesText(JOB_METRICS.allocated.name, {
        ...gpuLabels,
        job: job.job,
        user: job.user,
        vc: job.vc,
        priority: job.priority,
        pod: `${job.job.replace('~', '-')}-worker-0`,
        namespace: 'default',
        instance: target.instance,
      }),
    };
  });
}

/** The job's start time series on the target node. */
export function jobStartSeries(target: TestTarget, job: JobLabels): string {
  return seriesText(JOB_METRICS.startTime.name, { ...job, node: target.node, instance: target.instance });
}
