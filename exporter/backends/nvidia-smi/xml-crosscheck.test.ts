/**
 * Our `-q -x` reading against node-nvidia-smi's (xml2js) reading of the same recording.
 * node-nvidia-smi runs `nvidia-smi -q -x` through a shell, so a fake `nvidia-smi` that prints the
 * recording is put first on PATH for the call.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSmiXml } from './xml.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);

/** The parts of node-nvidia-smi's output compared here (xml2js, explicitArray: false). */
interface TheirProcess {
  pid: string;
  process_name: string;
  used_memory: string;
}
interface TheirGpu {
  uuid: string;
  utilization: { gpu_util: string; memory_util: string };
  fb_memory_usage: { total: string; used: string };
  temperature: { gpu_temp: string; memory_temp: string };
  gpu_power_readings: { average_power_draw: string; current_power_limit: string };
  processes: { process_info?: TheirProcess | TheirProcess[] } | '';
}
interface TheirLog {
  nvidia_smi_log: { gpu: TheirGpu | TheirGpu[] };
}
type NodeNvidiaSmi = (callback: (error: unknown, data: TheirLog) => void) => void;

const nodeNvidiaSmi = createRequire(import.meta.url)('node-nvidia-smi') as NodeNvidiaSmi;
const fakeDir = mkdtempSync(join(tmpdir(), 'gpuwatch-node-nvidia-smi-'));
afterAll(() => rmSync(fakeDir, { recursive: true, force: true }));

/** node-nvidia-smi's reading of a recorded file. */
async function theirReading(fixtureName: string): Promise<TheirGpu[]> {
  const fixturePath = fileURLToPath(new URL(fixtureName, FIXTURES));
  writeFileSync(join(fakeDir, 'nvidia-smi'), `#!/bin/sh\nexec cat '${fixturePath}'\n`, { mode: 0o755 });
  const savedPath = process.env['PATH'];
  process.env['PATH'] = `${fakeDir}${delimiter}${savedPath ?? ''}`;
  try {
    const data = await new Promise<TheirLog>((resolve, reject) => nodeNvidiaSmi((error, result) => (error ? reject(error) : resolve(result))));
    const gpu = data.nvidia_smi_log.gpu;
    return Array.isArray(gpu) ? gpu : [gpu];
  } finally {
    process.env['PATH'] = savedPath;
  }
}

const number = (text: string) => Number.parseFloat(text);
const MIB = 1_048_576;

describe.each(['q-idle.xml', 'q-busy.xml', 'q-busy-2.xml'])('%s read by us and by node-nvidia-smi', (name) => {
  it('gives the same uuid, utilization, memory, temperature, power and processes', async () => {
    const theirs = await theirReading(name);
    const ours = parseSmiXml(readFileSync(new URL(name, FIXTURES), 'utf8'));
    expect(ours).toHaveLength(theirs.length);
    theirs.forEach((their, position) => {
      const our = ours[position]!;
      expect(our.uuid).toBe(their.uuid);
      expect(our.utilizationRatio).toBeCloseTo(number(their.utilization.gpu_util) / 100, 12);
      expect(our.memoryUtilizationRatio).toBeCloseTo(number(their.utilization.memory_util) / 100, 12);
      expect(our.memoryTotalBytes).toBe(number(their.fb_memory_usage.total) * MIB);
      expect(our.memoryUsedBytes).toBe(number(their.fb_memory_usage.used) * MIB);
      expect(our.temperatureCelsius).toBe(number(their.temperature.gpu_temp));
      expect(our.memoryTemperatureCelsius).toBe(number(their.temperature.memory_temp));
      expect(our.powerUsageWatts).toBe(number(their.gpu_power_readings.average_power_draw));
      expect(our.powerLimitWatts).toBe(number(their.gpu_power_readings.current_power_limit));

      const listed = their.processes === '' ? [] : (their.processes.process_info ?? []);
      const theirProcesses = (Array.isArray(listed) ? listed : [listed]).map((process) => ({
        pid: Number(process.pid),
        name: process.process_name,
        usedMemoryBytes: number(process.used_memory) * MIB,
      }));
      expect(our.processes).toEqual(theirProcesses);
    });
  });
});
