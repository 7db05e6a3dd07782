import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { H100_RECORDED_BOARD } from '../../../test/h100-readings.js';
import { renderExposition } from '../../exposition.js';
import type { GpuSnapshot } from '../../types.js';
import { NvmlBackend } from './index.js';

const MIB = 1024 * 1024;
let dir: string;
let library: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvml-more-'));
  library = buildFakeNvml(dir);
});
afterEach(() => clearFakeNvmlEnv());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withBackend<T>(env: Record<string, string | number>, watchXid: boolean, use: (b: NvmlBackend) => Promise<T>): Promise<T> {
  setFakeNvmlEnv(env);
  const backend = await NvmlBackend.open({ libraryPath: library, watchXid, xidWaitTimeoutMs: 100 });
  try {
    return await use(backend);
  } finally {
    await backend.close();
  }
}

describe('the fields peers export, through NVML', () => {
  it('reads memory free/reserved, video engines, PCIe link and power-limit bounds as recorded; no fan, no NVLink', async () => {
    const gpu = (await withBackend({}, false, (b) => b.collect())).gpus[0]!;
    expect(gpu).toMatchObject({
      memoryFreeBytes: 60867 * MIB,
      ...H100_RECORDED_BOARD,
    });
    expect(gpu).not.toHaveProperty('fanSpeedRatio');
    expect(gpu).not.toHaveProperty('nvlinks');
  });

  it('reads error and data counters of each active NVLink', async () => {
    const gpu = (await withBackend({ FAKE_NVML_NVLINKS: 2 }, false, (b) => b.collect())).gpus[0]!;
    expect(gpu.nvlinks).toEqual([
      { link: 0, errors: { replay: 1, recovery: 0, crc_flit: 2, crc_data: 3 }, transmitBytes: 1000 * 1024, receiveBytes: 2000 * 1024 },
      { link: 1, errors: { replay: 2, recovery: 0, crc_flit: 2, crc_data: 3 }, transmitBytes: 2000 * 1024, receiveBytes: 4000 * 1024 },
    ]);
    const text = await renderExposition({ node: 'n', version: '1', backend: 'nvml', sources: new Map(), gpus: { gpus: [gpu] } });
    expect(text).toMatch(/^gpuwatch_gpu_nvlink_errors_total\{[^}]*link="1",type="replay"\} 2$/m);
    expect(text).toMatch(/^gpuwatch_gpu_nvlink_receive_bytes_total\{[^}]*link="0"\} 2048000$/m);
    expect(text).toMatch(/^gpuwatch_gpu_power_min_limit_watts\{[^}]*\} 200$/m);
  });

  it('stamps the last XID event of each code', async () => {
    const before = Date.now() / 1000;
    const snapshot = await withBackend({ FAKE_NVML_XID: 79, FAKE_NVML_XID_INTERVAL_MS: 20 }, true, async (b) => {
      let s: GpuSnapshot = await b.collect();
      for (let i = 0; i < 50 && !s.xidLastEventSeconds?.size; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        s = await b.collect();
      }
      return s;
    });
    const uuid = snapshot.gpus[0]!.uuid;
    const last = snapshot.xidLastEventSeconds?.get(uuid)?.get(79);
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(Date.now() / 1000);
    const text = await renderExposition({ node: 'n', version: '1', backend: 'nvml', sources: new Map(), gpus: snapshot });
    expect(text).toMatch(/^gpuwatch_gpu_xid_last_event_timestamp_seconds\{node="n",gpu="0",uuid="[^"]+",xid="79"\} \d+(\.\d+)?$/m);
  });
});
