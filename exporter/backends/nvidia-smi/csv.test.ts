import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { H100_RECORDED_BOARD } from '../../../test/h100-readings.js';
import { CLOCK_EVENT_REASONS, SourceError } from '../../types.js';
import { clockEventReasonsFromMask } from '../nvml/read.js';
import { QUERY_FIELDS, parseQueryGpuCsv, parseQueryGpuLine } from './csv.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const MIB = 1_048_576;

/** The 214 fields, in the order every query-gpu-* recording used. */
const ALL_FIELDS = fixture('query-gpu-fields.txt')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '');

/**
 * stream.csv's README entry says "8 fields" without naming them. Read off the values: GPU index,
 * uuid, three zeros (an idle GPU's utilization and used memory), 41-42 (core temperature), 72.xx
 * (power in watts with two decimals), and a last zero that cannot be told apart. Only the index,
 * uuid, temperature and power columns are asserted on.
 */
const STREAM_FIXTURE_FIELDS = ['index', 'uuid', 'utilization.gpu', 'utilization.memory', 'memory.used', 'temperature.gpu', 'power.draw', 'unidentified'];

describe('QUERY_FIELDS', () => {
  it('names only fields that driver 580 accepts, including index and uuid', () => {
    for (const field of QUERY_FIELDS) expect(ALL_FIELDS).toContain(field);
    expect(QUERY_FIELDS).toContain('index');
    expect(QUERY_FIELDS).toContain('uuid');
    expect(new Set(QUERY_FIELDS).size).toBe(QUERY_FIELDS.length);
  });
});

describe('parseQueryGpuCsv on the recordings (all 214 fields)', () => {
  it('has 214 fields and one value per field in each recording', () => {
    expect(ALL_FIELDS).toHaveLength(214);
    for (const name of ['query-gpu-idle-nounits.csv', 'query-gpu-busy-nounits.csv']) {
      expect(fixture(name).trim().split(',')).toHaveLength(214);
    }
  });

  it('reads the busy recording (nounits)', () => {
    expect(parseQueryGpuCsv(fixture('query-gpu-busy-nounits.csv'), ALL_FIELDS)).toEqual([
      {
        index: 0,
        uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882',
        name: 'NVIDIA H100 80GB HBM3',
        busId: '00000000:00:06.0',
        driverVersion: '580.159.04',
        utilizationRatio: 0.99,
        memoryUtilizationRatio: 0.31,
        memoryTotalBytes: 81559 * MIB,
        memoryUsedBytes: 12457 * MIB,
        memoryFreeBytes: 68623 * MIB,
        ...H100_RECORDED_BOARD,
        temperatureCelsius: 64,
        memoryTemperatureCelsius: 58,
        // power.draw.average is preferred; in this recording it equals power.draw.
        powerUsageWatts: 691.1,
        powerLimitWatts: 700,
        smClockHertz: 1500e6,
        memoryClockHertz: 2619e6,
        performanceState: 0,
        clockEventReasons: {
          gpu_idle: false,
          applications_clocks_setting: false,
          sw_power_cap: true,
          hw_slowdown: false,
          hw_thermal_slowdown: false,
          hw_power_brake_slowdown: false,
          sync_boost: false,
          sw_thermal_slowdown: false,
          display_clocks_setting: false,
        },
        ecc: { correctedVolatile: 0, correctedAggregate: 0, uncorrectedVolatile: 0, uncorrectedAggregate: 0 },
        remappedRows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
      },
    ]);
  });

  it('reads the busy recording with units and header (power 692.50 W there)', () => {
    const [gpu] = parseQueryGpuCsv(fixture('query-gpu-busy.csv'), ALL_FIELDS);
    expect(gpu).toMatchObject({
      uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882',
      utilizationRatio: 0.99,
      memoryUtilizationRatio: 0.3,
      memoryUsedBytes: 12457 * MIB,
      powerUsageWatts: 692.5,
      powerLimitWatts: 700,
      smClockHertz: 1500e6,
      temperatureCelsius: 64,
    });
  });

  it('reads the idle recordings alike with and without units', () => {
    const bare = parseQueryGpuCsv(fixture('query-gpu-idle-nounits.csv'), ALL_FIELDS);
    const withUnits = parseQueryGpuCsv(fixture('query-gpu-idle.csv'), ALL_FIELDS);
    expect(bare).toEqual(withUnits);
    expect(bare[0]).toMatchObject({
      uuid: 'GPU-f6a4b594-4260-b95b-6164-2bbedf0b43a9',
      utilizationRatio: 0,
      memoryUsedBytes: 0,
      temperatureCelsius: 42,
      powerUsageWatts: 72.8,
      smClockHertz: 345e6,
      clockEventReasons: { gpu_idle: true, sw_power_cap: false },
    });
  });

  it('leaves [N/A] fields absent, never 0', () => {
    const [gpu] = parseQueryGpuCsv(fixture('query-gpu-busy-nounits.csv'), ALL_FIELDS);
    expect(fixture('query-gpu-busy-nounits.csv')).toContain('[N/A]');
    // retired_pages.* are [N/A] on H100.
    expect(gpu).not.toHaveProperty('retiredPages');
  });

  it('reads every line of the all-fields stream recording', () => {
    const gpus = parseQueryGpuCsv(fixture('stream-all.csv'), ALL_FIELDS);
    expect(gpus).toHaveLength(fixture('stream-all.csv').trim().split('\n').length);
    for (const gpu of gpus) expect(gpu.uuid).toBe('GPU-965f6752-50c3-d610-d7ce-6a93e5f52882');
  });

  it('reads the 8-field stream recording', () => {
    const gpus = parseQueryGpuCsv(fixture('stream.csv'), STREAM_FIXTURE_FIELDS);
    expect(gpus).toHaveLength(50);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: 'GPU-f6a4b594-4260-b95b-6164-2bbedf0b43a9',
      utilizationRatio: 0,
      memoryUtilizationRatio: 0,
      memoryUsedBytes: 0,
      temperatureCelsius: 42,
      powerUsageWatts: 72.85,
    });
    expect(gpus.at(-1)).toMatchObject({ temperatureCelsius: 41, powerUsageWatts: 72.66 });
  });
});

describe('clock-event reasons', () => {
  it('agree between the named fields and the active bitmask in every recording', () => {
    const maskOnly = ALL_FIELDS.map((field) => (/^clocks_event_reasons\.(?!supported|active)/.test(field) ? `ignored.${field}` : field));
    for (const name of ['query-gpu-idle-nounits.csv', 'query-gpu-busy-nounits.csv', 'stream-all.csv']) {
      const named = parseQueryGpuCsv(fixture(name), ALL_FIELDS);
      const fromMask = parseQueryGpuCsv(fixture(name), maskOnly);
      expect(fromMask.map((gpu) => gpu.clockEventReasons)).toEqual(named.map((gpu) => gpu.clockEventReasons));
    }
  });

  it('reads the bitmask only for supported reasons, and the older field prefix', () => {
    const fields = ['index', 'uuid', 'clocks_throttle_reasons.supported', 'clocks_throttle_reasons.active'];
    const gpu = parseQueryGpuLine('1, GPU-a, 0x0000000000000060, 0x00000000000000A4', fields);
    // 0xA4 = sw_power_cap (0x4) | sw_thermal_slowdown (0x20) | hw_power_brake (0x80); only 0x40|0x20 supported.
    expect(gpu.clockEventReasons).toEqual({ sw_thermal_slowdown: true, hw_thermal_slowdown: false });
    const named = parseQueryGpuLine('1, GPU-a, Active', ['index', 'uuid', 'clocks_throttle_reasons.hw_slowdown']);
    expect(named.clockEventReasons).toEqual({ hw_slowdown: true });
  });

  it('covers every reason name of the data model', () => {
    const fields = ['index', 'uuid', 'clocks_event_reasons.active'];
    const gpu = parseQueryGpuLine('0, GPU-a, 0x00000000000001FF', fields);
    expect(Object.keys(gpu.clockEventReasons ?? {}).sort()).toEqual([...CLOCK_EVENT_REASONS].sort());
  });

  it('reads the active mask as the NVML backend reads the same bits', () => {
    const fields = ['index', 'uuid', 'clocks_event_reasons.active'];
    for (const mask of [0x1, 0x4, 0x48, 0xa0, 0x1ff]) {
      const gpu = parseQueryGpuLine(`0, GPU-a, 0x${mask.toString(16).padStart(16, '0')}`, fields);
      expect(gpu.clockEventReasons).toEqual(clockEventReasonsFromMask(mask));
    }
  });
});

describe('parseQueryGpuLine', () => {
  const fields = ['index', 'uuid', 'clocks.sm', 'gpu.power.draw.average', 'power.draw', 'retired_pages.sbe', 'pstate'];

  it('reads aliases and prefers the average power draw', () => {
    expect(parseQueryGpuLine('3, GPU-b, 1410, 250.5, 260.25, 4, P8', fields)).toEqual({
      index: 3,
      uuid: 'GPU-b',
      smClockHertz: 1410e6,
      powerUsageWatts: 250.5,
      retiredPages: { singleBit: 4 },
      performanceState: 8,
    });
  });

  it('treats every placeholder as absent', () => {
    const gpu = parseQueryGpuLine('3, GPU-b, [N/A], [Not Supported], N/A, [Unknown Error], [N/A]', fields);
    expect(gpu).toEqual({ index: 3, uuid: 'GPU-b' });
    const deprecated = parseQueryGpuLine('0, GPU-c, Requested functionality has been deprecated', ['index', 'uuid', 'name']);
    expect(deprecated).toEqual({ index: 0, uuid: 'GPU-c' });
  });

  it('rejects lines that do not match the fields', () => {
    const rejects = (line: string, pattern: RegExp) => {
      expect(() => parseQueryGpuLine(line, fields)).toThrow(SourceError);
      expect(() => parseQueryGpuLine(line, fields)).toThrow(pattern);
    };
    rejects('3, GPU-b, 1410', /expected 7 values, got 3/);
    rejects('Failed to initialize NVML: Driver/library version mismatch', /expected 7 values/);
    rejects('[N/A], GPU-b, 1, 2, 3, 4, P0', /no GPU index or uuid/);
    rejects('0, [N/A], 1, 2, 3, 4, P0', /no GPU index or uuid/);
  });
});
