/** Timelines of the capacity and node alerts in promtool. */
import { describe, expect, it } from 'vitest';
import { SMALL_LAYOUT } from './testing/test-support.js';
import { runTimelines, series, type Timeline } from './testing/timeline-support.js';

const CONFIG = `clusters:\n  - {name: c1, layout: layout.yaml}\n`;
const W0 = { cluster: 'c1', node: 'w0', instance: '10.0.0.1:9445' };
const W1 = { cluster: 'c1', node: 'w1', instance: '10.0.0.2:9445' };
const TIB = 2 ** 40;

async function expectTimelines(timelines: Timeline[], config = CONFIG) {
  const { code, output } = await runTimelines({ 'gpuwatch.yaml': config, 'layout.yaml': SMALL_LAYOUT }, timelines);
  expect(output).toContain('SUCCESS');
  expect(code, output).toBe(0);
}

describe('capacity and node timelines', () => {
  it('NodeGpusMissing fires from layout.yaml when the exporter runs without --config (no expected-GPU series)', async () => {
    await expectTimelines([
      {
        name: 'a GPU fell off, exporter without --config',
        series: [
          { series: series('gpuwatch_node_gpus', W0), values: '7x20' },
          { series: series('gpuwatch_node_gpus', W1), values: '8x20' },
        ],
        checks: [{ at: '10m', alertname: 'NodeGpusMissing', by: ['cluster', 'node'], firing: [{ cluster: 'c1', node: 'w0' }] }],
      },
    ]);
  });

  it.each(['ceph', 'wekafs', 'fuse.juicefs'])('a full %s mount is a shared file system: one SharedFilesystemFull, no NodeDiskFull', async (fstype) => {
    const fs = { mountpoint: '/mnt/shared', fstype, device: 'storage:/data' };
    const mounted = [W0, W1].flatMap((w) => [
      { series: series('gpuwatch_node_filesystem_size_bytes', { ...w, ...fs }), values: `${TIB}x30` },
      { series: series('gpuwatch_node_filesystem_available_bytes', { ...w, ...fs }), values: `${TIB / 100}x30` },
    ]);
    await expectTimelines([
      {
        name: `full ${fstype}`,
        series: mounted,
        checks: [
          { at: '20m', alertname: 'SharedFilesystemFull', by: ['cluster', 'fstype'], firing: [{ cluster: 'c1', fstype }] },
          { at: '20m', alertname: 'NodeDiskFull', by: ['node'], firing: [] },
        ],
      },
    ]);
  });

  it('ClusterGpusUnavailable follows cluster size and priority: one rebooting node is no outage', async () => {
    const layout = (p: string) =>
      `machine-sku:\n  g8: {computing-device: {type: nvidia.com/gpu, count: 8}}\n  g4: {computing-device: {type: nvidia.com/gpu, count: 4}}\n` +
      `machine-list:\n` +
      [0, 1].map((i) => `  - {hostname: ${p}-${i}, hostip: 10.0.${p === 'p' ? 1 : 2}.${i}, machine-type: g8, pai-worker: "true"}\n`).join('') +
      `  - {hostname: ${p}-2, hostip: 10.0.${p === 'p' ? 1 : 2}.2, machine-type: g4, pai-worker: "true"}\n`;
    const config = `clusters:\n  - {name: prod, layout: p.yaml}\n  - {name: stage, priority: staging, layout: s.yaml}\n`;
    const gpus = (cluster: string, node: string, values: string) => ({
      series: series('gpuwatch_node_gpus', { cluster, node, instance: `${node}:9445` }),
      values,
    });
    const { code, output } = await runTimelines({ 'gpuwatch.yaml': config, 'p.yaml': layout('p'), 's.yaml': layout('s') }, [
      {
        name: 'one 8-GPU node of 20 GPUs reboots',
        series: [
          gpus('prod', 'p-0', '_x30'),
          gpus('prod', 'p-1', '8x30'),
          gpus('prod', 'p-2', '4x30'),
          gpus('stage', 's-0', '8x30'),
          gpus('stage', 's-1', '8x30'),
          gpus('stage', 's-2', '4x30'),
        ],
        checks: [{ at: '20m', alertname: 'ClusterGpusUnavailable', by: ['cluster'], firing: [] }],
      },
      {
        name: 'two nodes down in each cluster',
        series: [
          gpus('prod', 'p-0', '_x30'),
          gpus('prod', 'p-1', '_x30'),
          gpus('prod', 'p-2', '4x30'),
          gpus('stage', 's-0', '_x30'),
          gpus('stage', 's-1', '_x30'),
          gpus('stage', 's-2', '4x30'),
        ],
        checks: [
          {
            at: '20m',
            alertname: 'ClusterGpusUnavailable',
            by: ['cluster', 'severity'],
            firing: [
              { cluster: 'prod', severity: '0' },
              { cluster: 'stage', severity: '2' },
            ],
          },
        ],
      },
    ]);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });

  it('NodeDown joins on cluster and node, skips cordoned nodes, and reads kube-state-metrics without a cluster label as the monitoring cluster', async () => {
    const config = `clusters:\n  - {name: c1, layout: layout.yaml}\n  - {name: c2, layout: layout.yaml}\n`;
    const ready = (labels: Record<string, string>, values: string) => ({
      series: series('kube_node_status_condition', { ...labels, condition: 'Ready', status: 'true', job: 'kube-state-metrics' }),
      values,
    });
    const cordoned = (labels: Record<string, string>, values: string) => ({
      series: series('kube_node_spec_unschedulable', { ...labels, job: 'kube-state-metrics' }),
      values,
    });
    const { code, output } = await runTimelines({ 'gpuwatch.yaml': config, 'layout.yaml': SMALL_LAYOUT }, [
      {
        name: 'w0 of c1 down, w0 of c2 up',
        series: [
          ready({ cluster: 'c1', node: 'w0' }, '0x30'),
          ready({ cluster: 'c2', node: 'w0' }, '1x30'),
          ready({ cluster: 'c1', node: 'w1' }, '1x30'),
          ready({ cluster: 'c2', node: 'w1' }, '1x30'),
        ],
        checks: [{ at: '15m', alertname: 'NodeDown', by: ['cluster', 'node'], firing: [{ cluster: 'c1', node: 'w0' }] }],
      },
      {
        name: 'w1 of c2 down, and w0 of c2 down but cordoned',
        series: [
          ready({ cluster: 'c2', node: 'w0' }, '0x30'),
          cordoned({ cluster: 'c2', node: 'w0' }, '1x30'),
          ready({ cluster: 'c2', node: 'w1' }, '0x30'),
          cordoned({ cluster: 'c2', node: 'w1' }, '0x30'),
        ],
        checks: [{ at: '15m', alertname: 'NodeDown', by: ['cluster', 'node'], firing: [{ cluster: 'c2', node: 'w1' }] }],
      },
      {
        name: 'kube-state-metrics without a cluster label',
        series: [ready({ node: 'w1' }, '0x30')],
        checks: [{ at: '15m', alertname: 'NodeDown', by: ['cluster', 'node'], firing: [{ cluster: 'c1', node: 'w1' }] }],
      },
    ]);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });
});
