import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Collector } from './collector.js';
import { parseQueryGpuLine } from './backends/nvidia-smi/csv.js';
import { mergeProcesses, sanitizeSnapshot } from './sanitize.js';
import type { GpuBackend, GpuReading, GpuSnapshot } from './types.js';

const gpu = (index: number, extra: Partial<GpuReading> = {}): GpuReading => ({ index, uuid: `GPU-${index}`, ...extra });

/** A collector over a source that answers `snapshot` every time. */
async function exposition(snapshot: GpuSnapshot, collections = 1): Promise<string> {
  const source: GpuBackend = { name: 'replay', collect: async () => snapshot, close: async () => {} };
  const c = new Collector({ node: 'n1', version: '1', backend: source, intervalMs: 1000, timeoutMs: 1000, log: pino({ level: 'silent' }) });
  for (let i = 0; i < collections; i++) await c.collectOnce();
  return c.exposition;
}

describe('impossible values', () => {
  it('are dropped and counted by the metric they would have fed', () => {
    const { snapshot, invalid } = sanitizeSnapshot({
      gpus: [
        gpu(0, { utilizationRatio: -0.03, memoryUtilizationRatio: 2.5, memoryUsedBytes: -1048576, powerUsageWatts: -5 }),
        gpu(1, { smClockHertz: -1, memoryClockHertz: 1.6e9, temperatureCelsius: 255, performanceState: 32 }),
      ],
    });
    expect(snapshot.gpus[0]).toEqual({ index: 0, uuid: 'GPU-0' });
    expect(snapshot.gpus[1]).toEqual({ index: 1, uuid: 'GPU-1', memoryClockHertz: 1.6e9 });
    expect(Object.fromEntries(invalid)).toEqual({
      gpuwatch_gpu_utilization_ratio: 1,
      gpuwatch_gpu_memory_utilization_ratio: 1,
      gpuwatch_gpu_memory_used_bytes: 1,
      gpuwatch_gpu_power_usage_watts: 1,
      gpuwatch_gpu_sm_clock_hertz: 1,
      gpuwatch_gpu_temperature_celsius: 1,
      gpuwatch_gpu_performance_state: 1,
    });
  });

  it('drops negative device counters (ECC, remapped rows, retired pages, NVLink, MIG memory) and counts them', () => {
    const { snapshot, invalid } = sanitizeSnapshot({
      gpus: [
        gpu(0, {
          ecc: { correctedVolatile: -1, uncorrectedVolatile: 0 },
          remappedRows: { correctable: -2, uncorrectable: 1, pending: false },
          retiredPages: { singleBit: -1 },
          nvlinks: [{ link: 0, errors: { replay: -1, recovery: 2 }, transmitBytes: -5, receiveBytes: 7 }],
          migDevices: [{ index: 0, gpuInstanceId: 1, computeInstanceId: 0, memoryUsedBytes: -1, memoryTotalBytes: 10 }],
        }),
      ],
    });
    expect(snapshot.gpus[0]).toEqual(
      gpu(0, {
        ecc: { uncorrectedVolatile: 0 },
        remappedRows: { uncorrectable: 1, pending: false },
        retiredPages: {},
        nvlinks: [{ link: 0, errors: { recovery: 2 }, receiveBytes: 7 }],
        migDevices: [{ index: 0, gpuInstanceId: 1, computeInstanceId: 0, memoryTotalBytes: 10 }],
      }),
    );
    expect(Object.fromEntries(invalid)).toEqual({
      gpuwatch_gpu_ecc_errors_total: 1,
      gpuwatch_gpu_remapped_rows_total: 1,
      gpuwatch_gpu_retired_pages_total: 1,
      gpuwatch_gpu_nvlink_errors_total: 1,
      gpuwatch_gpu_nvlink_transmit_bytes_total: 1,
      gpuwatch_gpu_mig_memory_used_bytes: 1,
    });
  });

  it('counts a negative member under the metric that member feeds (NVLink receive, MIG total, PCIe width)', () => {
    const { invalid } = sanitizeSnapshot({
      gpus: [
        gpu(0, {
          nvlinks: [{ link: 0, transmitBytes: 5, receiveBytes: -1 }],
          migDevices: [{ index: 0, gpuInstanceId: 1, computeInstanceId: 0, memoryUsedBytes: 1, memoryTotalBytes: -10 }],
          pcieLink: { generationCurrent: 5, widthCurrent: -16 },
        }),
      ],
    });
    expect(Object.fromEntries(invalid)).toEqual({
      gpuwatch_gpu_nvlink_receive_bytes_total: 1,
      gpuwatch_gpu_mig_memory_total_bytes: 1,
      gpuwatch_gpu_pcie_link_width_lanes: 1,
    });
  });

  it('reach the checks from nvidia-smi: a negative ECC count is counted, not dropped unseen', async () => {
    const line = parseQueryGpuLine('0, GPU-a, -3, 5', ['index', 'uuid', 'ecc.errors.corrected.volatile.total', 'ecc.errors.uncorrected.volatile.total']);
    const text = await exposition({ gpus: [line] });
    expect(text).not.toContain('type="corrected",scope="volatile"');
    expect(text).toContain('type="uncorrected",scope="volatile"} 5');
    expect(text).toContain('gpuwatch_exporter_invalid_values_total{node="n1",metric="gpuwatch_gpu_ecc_errors_total"} 1');
  });

  it('keeps the edges of each range', () => {
    const edges = gpu(0, { utilizationRatio: 0, memoryUtilizationRatio: 1, powerUsageWatts: 0, performanceState: 15 });
    const { snapshot, invalid } = sanitizeSnapshot({ gpus: [edges] });
    expect(snapshot.gpus[0]).toEqual(edges);
    expect(invalid.size).toBe(0);
  });

  it('never reach the exposition, and their count grows scrape after scrape', async () => {
    const text = await exposition({ gpus: [gpu(0, { utilizationRatio: 2.5, powerUsageWatts: 300 })] }, 3);
    expect(text).not.toMatch(/^gpuwatch_gpu_utilization_ratio\{/m);
    expect(text).toMatch(/^gpuwatch_gpu_power_usage_watts\{node="n1",gpu="0",uuid="GPU-0"\} 300$/m);
    expect(text).toContain('gpuwatch_exporter_invalid_values_total{node="n1",metric="gpuwatch_gpu_utilization_ratio"} 3');
  });
});

describe('duplicate GPUs and processes', () => {
  it('keeps the first GPU of a UUID, leaves out the second and counts it', async () => {
    const text = await exposition({ gpus: [gpu(0, { utilizationRatio: 0.1 }), { ...gpu(1, { utilizationRatio: 0.9 }), uuid: 'GPU-0' }] });
    expect(text).toContain('gpuwatch_gpu_utilization_ratio{node="n1",gpu="0",uuid="GPU-0"} 0.1');
    expect(text).not.toContain('gpu="1"');
    expect(text).toContain('gpuwatch_exporter_skipped_gpus{node="n1",reason="duplicate_uuid"} 1');
    expect(text).toContain('gpuwatch_node_gpus{node="n1"} 1');
  });

  it('adds the GPUs a backend left out to the ones the collector leaves out', () => {
    const { snapshot } = sanitizeSnapshot({ gpus: [gpu(0), gpu(0)], skippedGpus: { no_uuid: 2 } });
    expect(snapshot.skippedGpus).toEqual({ no_uuid: 2, duplicate_uuid: 1 });
  });

  it('exports zero skipped GPUs when none were', async () => {
    const text = await exposition({ gpus: [gpu(0)] });
    expect(text).toContain('gpuwatch_exporter_skipped_gpus{node="n1",reason="no_uuid"} 0');
  });

  it('makes one entry of a pid listed twice on one GPU instance, without doubling its memory', () => {
    const merged = mergeProcesses([
      { pid: 7, usedMemoryBytes: 100 },
      { pid: 7, usedMemoryBytes: 100, name: 'python3' },
      { pid: 8, usedMemoryBytes: 5 },
      { pid: 9, usedMemoryBytes: 1, gpuInstanceId: 1, computeInstanceId: 0 },
      { pid: 9, usedMemoryBytes: 2, gpuInstanceId: 2, computeInstanceId: 0 },
    ]);
    expect(merged).toEqual([
      { pid: 7, usedMemoryBytes: 100, name: 'python3' },
      { pid: 8, usedMemoryBytes: 5 },
      { pid: 9, usedMemoryBytes: 1, gpuInstanceId: 1, computeInstanceId: 0 },
      { pid: 9, usedMemoryBytes: 2, gpuInstanceId: 2, computeInstanceId: 0 },
    ]);
  });

  it('drops a negative process memory and counts it', () => {
    const { snapshot, invalid } = sanitizeSnapshot({ gpus: [gpu(0, { processes: [{ pid: 7, usedMemoryBytes: -1 }] })] });
    expect(snapshot.gpus[0]?.processes).toEqual([{ pid: 7 }]);
    expect(invalid.get('gpuwatch_gpu_process_memory_used_bytes')).toBe(1);
  });
});

describe('GPU state', () => {
  it('is exported for every GPU: ok by default, the state a backend gives otherwise', async () => {
    const text = await exposition({ gpus: [gpu(0), gpu(1, { state: 'reset_required' })] });
    expect(text).toContain('gpuwatch_gpu_state{node="n1",gpu="0",uuid="GPU-0",state="ok"} 1');
    expect(text).toContain('gpuwatch_gpu_state{node="n1",gpu="0",uuid="GPU-0",state="reset_required"} 0');
    expect(text).toContain('gpuwatch_gpu_state{node="n1",gpu="1",uuid="GPU-1",state="reset_required"} 1');
    expect(text).toContain('gpuwatch_gpu_state{node="n1",gpu="1",uuid="GPU-1",state="ok"} 0');
  });
});
