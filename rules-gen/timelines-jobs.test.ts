/** Timelines of GpuJobLowUtilization in promtool (defaults: threshold 0.1, window 1h, for 30m). */
import { describe, expect, it } from 'vitest';
import { SMALL_LAYOUT } from './test-support.js';
import { runTimelines, series, type Timeline } from './timeline-support.js';

const CONFIG = `clusters:\n  - {name: c1, layout: layout.yaml}\n`;
const JOB = { job: 'alice~train', user: 'alice', vc: 'default', priority: 'test' };
const W0 = { cluster: 'c1', node: 'w0', instance: '10.0.0.1:9445' };

/** A job on `gpus` GPUs of w0, started at time 0, each GPU with its own utilization values. */
function jobSeries(utilization: string[], allocated: string, started = '0x200') {
  return [
    { series: series('gpuwatch_job_start_time_seconds', { ...W0, ...JOB }), values: started },
    ...utilization.flatMap((values, gpu) => {
      const g = { ...W0, gpu: String(gpu), uuid: `GPU-w0-${gpu}` };
      return [
        { series: series('gpuwatch_gpu_utilization_ratio', g), values },
        { series: series('gpuwatch_job_gpu_allocated', { ...g, ...JOB, pod: 'alice-train-0', namespace: 'default' }), values: allocated },
      ];
    }),
  ];
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
