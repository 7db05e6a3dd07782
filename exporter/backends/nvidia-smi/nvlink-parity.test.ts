/**
 * Both backends name and label the NVLink series alike: the links the fake libnvidia-ml reports
 * (test/fake-nvml), written out as `nvidia-smi nvlink -s/-e/-gt d` print them, read back by the
 * nvidia-smi reader, give the NVML backend's series with the same labels and values. The one
 * difference is the data CRC count, which `nvlink -e` does not print (it prints one CRC counter).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFakeNvml, clearFakeNvmlEnv, setFakeNvmlEnv } from '../../../test/fake-nvml/build.js';
import { renderExposition } from '../../exposition.js';
import type { GpuReading, NvLinkReading } from '../../types.js';
import { NvmlBackend } from '../nvml/index.js';
import { nvLinkReadings, parseNvLinkLines } from './nvlink.js';

let dir: string;
let library: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpuwatch-nvlink-parity-'));
  library = buildFakeNvml(dir);
});
afterAll(() => {
  clearFakeNvmlEnv();
  rmSync(dir, { recursive: true, force: true });
});

async function readThroughNvml(): Promise<GpuReading> {
  setFakeNvmlEnv({ FAKE_NVML_NVLINKS: 3 });
  const backend = await NvmlBackend.open({ libraryPath: library, watchXid: false });
  try {
    return (await backend.collect()).gpus[0]!;
  } finally {
    await backend.close();
  }
}

/** The three outputs of `nvidia-smi nvlink` for one GPU with these links, in the documented format. */
function asNvidiaSmiPrintsThem(gpu: GpuReading, links: readonly NvLinkReading[]) {
  const header = `GPU ${gpu.index}: ${gpu.name} (UUID: ${gpu.uuid})`;
  const block = (line: (link: NvLinkReading) => string[]) => [header, ...links.flatMap(line)].join('\n');
  return {
    state: block((n) => [`\t Link ${n.link}: 26.562 GB/s`]),
    errors: block((n) => [
      `\t Link ${n.link}: Replay Errors: ${n.errors?.replay}`,
      `\t Link ${n.link}: Recovery Errors: ${n.errors?.recovery}`,
      `\t Link ${n.link}: CRC Errors: ${n.errors?.crc_flit}`,
      '',
    ]),
    data: block((n) => [`\t Link ${n.link}: Data Tx: ${n.transmitBytes! / 1024} KiB`, `\t Link ${n.link}: Data Rx: ${n.receiveBytes! / 1024} KiB`]),
  };
}

const nvlinkSeries = async (backend: 'nvml' | 'nvidia-smi', gpu: GpuReading) =>
  (await renderExposition({ node: 'n', version: '1', backend, sources: new Map(), gpus: { gpus: [gpu] } }))
    .split('\n')
    .filter((line) => line.startsWith('gpuwatch_gpu_nvlink_'));

describe('NVLink series of the two backends', () => {
  it('are the same names, labels and values for the same links (but the data CRC count)', async () => {
    const nvml = await readThroughNvml();
    expect(nvml.nvlinks).toHaveLength(3);
    const printed = asNvidiaSmiPrintsThem(nvml, nvml.nvlinks!);
    const read = nvLinkReadings(
      parseNvLinkLines(printed.state, 'nvidia-smi nvlink -s'),
      parseNvLinkLines(printed.errors, 'nvidia-smi nvlink -e'),
      parseNvLinkLines(printed.data, 'nvidia-smi nvlink -gt d'),
    );
    const { nvlinks: _, ...withoutLinks } = nvml;
    const smi = { ...withoutLinks, nvlinks: read.get(nvml.uuid)! };
    const fromNvml = await nvlinkSeries('nvml', nvml);
    expect(fromNvml).toHaveLength(3 * 6);
    expect(await nvlinkSeries('nvidia-smi', smi)).toEqual(fromNvml.filter((line) => !line.includes('type="crc_data"')));
  });
});
