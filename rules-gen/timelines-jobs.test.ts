/** Timelines of GpuJobLowUtilization in promtool (defaults: threshold 0.1, window 1h, for 30m). */
import { describe, expect, it } from 'vitest';
import { SMALL_LAYOUT } from './testing/test-support.js';
import { runTimelines, series, type Timeline } from './testing/timeline-support.js';

const CONFIG = `clusters:\n  - {name: c1, layout: layout.yaml}\n`;
const JOB = { job: 'alice~train', user: 'alice', vc: 'default', priority: 'test' };
const W0 = { cluster: 'c1', node: 'w0', instance: '10.0.0.1:9445' };

/** A job on GPUs of w0 from index `firstGpu` on, started at time 0, each GPU with its own utilization values. */
function jobSeries(utilization: string[], allocated: string, started = '0x200', firstGpu = 0) {
  return [
    { series: series('gpuwatch_job_start_time_seconds', { ...W0, ...JOB }), values: started },
    ...utilization.flatMap((values, i) => {
      const gpu = firstGpu + i;
      const g = { ...W0, gpu: String(gpu), uuid: `GPU-w0-${gpu}` };
      return [
        { series: series('gpuwatch_gpu_utilization_ratio', g), values },
        { series: series('gpuwatch_job_gpu_allocated', { ...g, ...JOB, pod: 'alice-train-0', namespace: 'default' }), values: allocated },
      ];
    }),
  ];
}

/**
 * Two jobs, each on one MIG instance of GPU 0 of w0 (GPU instances 1 and 2), started at time 0: the
 * GPU has no whole-GPU utilization, only each instance's (the exporter's GPM reading).
 */
function migJobsSeries(jobs: { job: typeof JOB; gpuInstanceId: string; utilization: string }[]) {
  const g = { ...W0, gpu: '0', uuid: 'GPU-w0-0' };
  return jobs.flatMap(({ job, gpuInstanceId, utilization }) => [
    { series: series('gpuwatch_job_start_time_seconds', { ...W0, ...job }), values: '0x200' },
    { series: series('gpuwatch_gpu_mig_utilization_ratio', { ...g, gpu_instance_id: gpuInstanceId }), values: utilization },
    {
      series: series('gpuwatch_job_gpu_allocated', {
        ...g,
        ...job,
        pod: `${job.user}-0`,
        namespace: 'default',
        gpu_instance_id: gpuInstanceId,
        compute_instance_id: '0',
      }),
      values: '1x200',
    },
  ]);
}

const firing = (at: string, jobs: string[]) => ({ at, alertname: 'GpuJobLowUtilization', by: ['job'], firing: jobs.map((job) => ({ job })) });

async function expectTimelines(timelines: Timeline[]) {
  const { code, output } = await runTimelines({ 'gpuwatch.yaml': CONFIG, 'layout.yaml': SMALL_LAYOUT }, timelines);
  expect(output).toContain('SUCCESS');
  expect(code, output).toBe(0);
}

describe('GpuJobLowUtilization timelines', () => {
  it('judges a new idle job only after its whole window, then fires after for', async () => {
    await expectTimelines([
      {
        name: 'new idle job',
        series: jobSeries(['0x200', '0x200'], '1x200'),
        checks: [firing('35m', []), firing('60m', []), firing('80m', []), firing('95m', ['alice~train'])],
      },
    ]);
  });

  it('stops firing as soon as the job has ended', async () => {
    await expectTimelines([
      {
        name: 'idle job ends at 100m',
        series: jobSeries(['0x99 stale', '0x99 stale'], '1x99 stale', '0x99 stale'),
        checks: [firing('98m', ['alice~train']), firing('103m', []), firing('130m', [])],
      },
    ]);
  });

  it('catches a job that keeps 1 of its 8 GPUs busy (12.5 % on average)', async () => {
    await expectTimelines([
      {
        name: 'one busy GPU of eight',
        series: jobSeries(['1x200', ...Array(7).fill('0x200')], '1x200'),
        checks: [firing('95m', ['alice~train'])],
      },
      {
        name: 'eight busy GPUs',
        series: jobSeries(Array(8).fill('0.8x200'), '1x200'),
        checks: [firing('95m', [])],
      },
    ]);
  });

  it('judges a job on a MIG instance by that instance alone: the idle one fires, the busy one beside it does not', async () => {
    const BOB = { job: 'bob~serve', user: 'bob', vc: 'default', priority: 'test' };
    await expectTimelines([
      {
        name: 'idle and busy MIG instances of one GPU',
        series: migJobsSeries([
          { job: JOB, gpuInstanceId: '1', utilization: '0.02x200' },
          { job: BOB, gpuInstanceId: '2', utilization: '0.9x200' },
        ]),
        checks: [firing('80m', []), firing('95m', ['alice~train'])],
      },
      {
        name: 'both MIG instances busy',
        series: migJobsSeries([
          { job: JOB, gpuInstanceId: '1', utilization: '0.5x200' },
          { job: BOB, gpuInstanceId: '2', utilization: '0.9x200' },
        ]),
        checks: [firing('95m', [])],
      },
    ]);
  });

  it("records a MIG job's utilization from its instance, and a whole-GPU job's as before", async () => {
    const BOB = { job: 'bob~serve', user: 'bob', vc: 'default', priority: 'test' };
    const recorded = (name: string, labels: Record<string, string>, value: number) => ({ labels: series(name, { cluster: 'c1', ...labels }), value });
    const perJob = (job: typeof JOB, value: number) =>
      recorded('gpuwatch:job_gpu_utilization:avg', { job: job.job, priority: job.priority, user: job.user, vc: job.vc }, value);
    await expectTimelines([
      {
        name: 'a job on a MIG instance beside a job on whole GPUs',
        series: [
          ...migJobsSeries([{ job: BOB, gpuInstanceId: '2', utilization: '0.25x30' }]),
          { series: series('gpuwatch_gpu_mig_utilization_ratio', { ...W0, gpu: '0', uuid: 'GPU-w0-0', gpu_instance_id: '1' }), values: '0.75x30' },
          ...jobSeries(['0.5x30', '0.5x30'], '1x30', '0x30', 1),
        ],
        checks: [],
        valueChecks: [
          { expr: 'gpuwatch:job_gpu_utilization:avg', at: '10m', samples: [perJob(BOB, 0.25), perJob(JOB, 0.5)] },
          {
            expr: 'gpuwatch:gpu_utilization:by_job{node="w0",gpu="0"}',
            at: '10m',
            samples: [
              recorded('gpuwatch:gpu_utilization:by_job', { node: 'w0', gpu: '0', uuid: 'GPU-w0-0', gpu_instance_id: '2', ...BOB }, 0.25),
              recorded('gpuwatch:gpu_utilization:by_job', { node: 'w0', gpu: '0', uuid: 'GPU-w0-0', gpu_instance_id: '1' }, 0.75),
            ],
          },
        ],
      },
    ]);
  });

  it('leaves out a job on a node Kubernetes reports not Ready', async () => {
    await expectTimelines([
      {
        name: 'idle job on a NotReady node',
        series: [
          ...jobSeries(['0x200', '0x200'], '1x200'),
          { series: series('kube_node_status_condition', { cluster: 'c1', node: 'w0', condition: 'Ready', status: 'true' }), values: '0x200' },
        ],
        checks: [firing('95m', []), { at: '95m', alertname: 'NodeDown', by: ['node'], firing: [{ node: 'w0' }] }],
      },
    ]);
  });
});
