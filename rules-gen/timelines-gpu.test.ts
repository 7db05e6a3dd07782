/** Timelines of the GPU health alerts in promtool, with the exact series shapes the exporter produces. */
import { describe, expect, it } from 'vitest';
import { SMALL_LAYOUT } from './testing/test-support.js';
import { runTimelines, series, type Timeline } from './testing/timeline-support.js';

const CONFIG = `clusters:\n  - {name: c1, layout: layout.yaml}\n`;
const GPU = { cluster: 'c1', node: 'w0', gpu: '0', uuid: 'GPU-w0-0', instance: '10.0.0.1:9445' };
const NODE = { cluster: 'c1', node: 'w0', instance: '10.0.0.1:9445' };

async function expectTimelines(timelines: Timeline[], config = CONFIG) {
  const { code, output } = await runTimelines({ 'gpuwatch.yaml': config, 'layout.yaml': SMALL_LAYOUT }, timelines);
  expect(output).toContain('SUCCESS');
  expect(code, output).toBe(0);
}

describe('GPU health timelines', () => {
  it('GpuXidError does not fire again for an old XID after a gap in scraping', async () => {
    // XID 79 at 5m; scrapes fail from 23m to 35m (a 14-minute gap between samples), then resume.
    await expectTimelines([
      {
        name: 'old XID after a scrape gap',
        series: [
          { series: series('gpuwatch_gpu_xid_errors_total', { ...GPU, xid: '79' }), values: '_x5 1x17 _x13 1x15' },
          { series: series('gpuwatch_exporter_build_info', { ...NODE, version: '1.0.0', backend: 'nvml' }), values: '1x22 _x13 1x15' },
        ],
        checks: [
          { at: '7m', alertname: 'GpuXidError', by: ['node', 'xid'], firing: [{ node: 'w0', xid: '79' }] },
          ...['36m', '38m', '40m', '45m', '50m'].map((at) => ({ at, alertname: 'GpuXidError', by: ['node', 'xid'], firing: [] })),
        ],
      },
    ]);
  });

  it('a GPU slowed by heat (hw_slowdown with hw_thermal_slowdown) pages as thermal, not as power', async () => {
    const reason = (r: string, v: string) => ({ series: series('gpuwatch_gpu_clock_event_active', { ...GPU, reason: r }), values: v });
    await expectTimelines([
      {
        name: 'thermal slowdown',
        series: [
          reason('hw_slowdown', '1x40'),
          reason('hw_thermal_slowdown', '1x40'),
          reason('hw_power_brake_slowdown', '0x40'),
          reason('sw_power_cap', '1x40'),
        ],
        checks: [
          { at: '30m', alertname: 'GpuThermalSlowdown', by: ['node', 'gpu', 'reason'], firing: [{ node: 'w0', gpu: '0', reason: 'hw_thermal_slowdown' }] },
          { at: '30m', alertname: 'GpuPowerSlowdown', by: ['node', 'gpu'], firing: [] },
        ],
      },
      {
        name: 'power brake',
        series: [reason('hw_slowdown', '1x40'), reason('hw_thermal_slowdown', '0x40'), reason('hw_power_brake_slowdown', '1x40')],
        checks: [
          { at: '30m', alertname: 'GpuPowerSlowdown', by: ['node', 'gpu', 'reason'], firing: [{ node: 'w0', gpu: '0', reason: 'hw_power_brake_slowdown' }] },
          { at: '30m', alertname: 'GpuThermalSlowdown', by: ['node', 'gpu'], firing: [] },
        ],
      },
    ]);
  });

  it('GPU alerts name the job holding the GPU (labels and description); a GPU with no job still alerts', async () => {
    const gpu1 = { ...GPU, gpu: '1', uuid: 'GPU-w0-1' };
    const ecc = (g: Record<string, string>) => ({
      series: series('gpuwatch_gpu_ecc_errors_total', { ...g, type: 'uncorrected', scope: 'volatile' }),
      values: '0 0 1x20',
    });
    const erin = { job: 'erin~vit-huge', user: 'erin', vc: 'vision', priority: 'prod' };
    const where = (g: typeof GPU) => `GPU ${g.gpu} (${g.uuid}) on node w0 in cluster c1`;
    const annotations = (g: typeof GPU, held: string) => ({
      summary: `Uncorrectable ECC errors on GPU ${g.gpu} of w0`,
      description: `${where(g)} counted new uncorrectable ECC errors in the last 30m. The job on it has likely crashed; drain the GPU and check for a pending row remap.${held}`,
      runbook_url: 'https://github.com/gpuwatch/gpuwatch/blob/main/docs/runbooks.md#gpueccuncorrectable',
    });
    const labels = (g: typeof GPU) => ({ cluster: 'c1', node: 'w0', gpu: g.gpu, uuid: g.uuid, severity: '2' });
    await expectTimelines([
      {
        name: 'ECC on a GPU held by a job and on a free one',
        series: [
          ecc(GPU),
          ecc(gpu1),
          { series: series('gpuwatch_job_gpu_allocated', { ...GPU, ...erin, pod: 'erin-vit-huge-0', namespace: 'default' }), values: '1x20' },
        ],
        checks: [],
        alertRuleTests: [
          {
            eval_time: '5m',
            alertname: 'GpuEccUncorrectable',
            exp_alerts: [
              {
                exp_labels: { ...labels(GPU), job: erin.job, user: 'erin', vc: 'vision' },
                exp_annotations: annotations(GPU, ' Held by job erin~vit-huge (user erin, VC vision).'),
              },
              { exp_labels: labels(gpu1), exp_annotations: annotations(gpu1, '') },
            ],
          },
        ],
      },
    ]);
  });

  it('alerts on the further device metrics, and counts XID 154 (GPU reset required) as critical', async () => {
    const on = (gpu: number) => ({ ...GPU, gpu: String(gpu), uuid: `GPU-w0-${gpu}` });
    const firing = (alertname: string, gpu: number, extra: Record<string, string> = {}) => ({
      at: '40m',
      alertname,
      by: ['gpu', ...Object.keys(extra)],
      firing: [{ gpu: String(gpu), ...extra }],
    });
    await expectTimelines([
      {
        name: 'one fault per GPU',
        series: [
          { series: series('gpuwatch_gpu_retired_pages_pending', on(0)), values: '1x50' },
          { series: series('gpuwatch_gpu_pcie_replays_total', on(1)), values: '0+10x50' },
          { series: series('gpuwatch_gpu_memory_temperature_celsius', on(2)), values: '97x50' },
          { series: series('gpuwatch_gpu_performance_state', on(3)), values: '8x50' },
          {
            series: series('gpuwatch_job_gpu_allocated', {
              ...on(3),
              job: 'bob~bert',
              user: 'bob',
              vc: 'nlp',
              priority: 'test',
              pod: 'bob-bert-0',
              namespace: 'default',
            }),
            values: '1x50',
          },
          { series: series('gpuwatch_gpu_memory_used_bytes', on(4)), values: `${40 * 1024 ** 3}x50` },
          { series: series('gpuwatch_gpu_memory_used_bytes', on(5)), values: `${40 * 1024 ** 3}x50` },
          {
            series: series('gpuwatch_gpu_process_memory_used_bytes', { ...on(5), pid: '7', job: 'bob~bert', container: 'main' }),
            values: `${40 * 1024 ** 3}x50`,
          },
          { series: series('gpuwatch_gpu_xid_errors_total', { ...on(6), xid: '154' }), values: '_x35 1x14' },
        ],
        checks: [
          firing('GpuRetiredPagesPending', 0),
          firing('GpuPcieReplays', 1),
          firing('GpuMemoryTemperatureHigh', 2),
          firing('GpuLowPerformanceState', 3, { job: 'bob~bert' }),
          firing('GpuMemoryWithoutProcess', 4),
          firing('GpuXidError', 6, { xid: '154', xid_class: 'critical' }),
        ],
      },
    ]);
  });

  it('GpuResetRequired fires for a GPU the driver says needs a reset, not for one that is ok or not ready', async () => {
    const state = (gpu: number, name: string, values: string) => ({
      series: series('gpuwatch_gpu_state', { ...GPU, gpu: String(gpu), uuid: `GPU-w0-${gpu}`, state: name }),
      values,
    });
    await expectTimelines([
      {
        name: 'GPU states',
        series: [
          state(0, 'ok', '0x10'),
          state(0, 'reset_required', '1x10'),
          state(1, 'ok', '1x10'),
          state(1, 'reset_required', '0x10'),
          state(2, 'not_ready', '1x10'),
          state(2, 'reset_required', '0x10'),
        ],
        checks: [
          { at: '0m', alertname: 'GpuResetRequired', by: ['gpu'], firing: [] },
          { at: '5m', alertname: 'GpuResetRequired', by: ['gpu'], firing: [{ gpu: '0' }] },
        ],
      },
    ]);
  });
});
