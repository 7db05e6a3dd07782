import { describe, expect, it } from 'vitest';
import { mergeReading, mergeReadings } from './merge.js';

describe('mergeReading', () => {
  it('takes fresh values where present and slow values elsewhere, nested groups member by member', () => {
    const merged = mergeReading(
      {
        index: 1,
        uuid: 'GPU-a',
        utilizationRatio: 0.5,
        ecc: { correctedVolatile: 3 },
        clockEventReasons: { gpu_idle: false },
      },
      {
        index: 1,
        uuid: 'GPU-a',
        utilizationRatio: 0.9,
        powerUsageWatts: 100,
        ecc: { correctedVolatile: 1, uncorrectedAggregate: 2 },
        clockEventReasons: { gpu_idle: true, display_clocks_setting: false },
        processes: [{ pid: 7 }],
        pcieReplays: 4,
      },
    );
    expect(merged).toEqual({
      index: 1,
      uuid: 'GPU-a',
      utilizationRatio: 0.5,
      powerUsageWatts: 100,
      ecc: { correctedVolatile: 3, uncorrectedAggregate: 2 },
      clockEventReasons: { gpu_idle: false, display_clocks_setting: false },
      processes: [{ pid: 7 }],
      pcieReplays: 4,
    });
    expect(Object.values(merged)).not.toContain(undefined);
  });

  it('returns the fresh reading when there is no slow one', () => {
    const fresh = { index: 0, uuid: 'GPU-a', temperatureCelsius: 40 };
    expect(mergeReading(fresh, undefined)).toBe(fresh);
  });
});

describe('mergeReadings', () => {
  it('joins by uuid, keeps GPUs only one side knows, and orders by index', () => {
    const merged = mergeReadings(
      [
        { index: 2, uuid: 'GPU-c', utilizationRatio: 0.1 },
        { index: 0, uuid: 'GPU-a', utilizationRatio: 0.2 },
      ],
      [
        { index: 0, uuid: 'GPU-a', processes: [] },
        { index: 1, uuid: 'GPU-b', processes: [{ pid: 9 }] },
      ],
    );
    expect(merged).toEqual([
      { index: 0, uuid: 'GPU-a', utilizationRatio: 0.2, processes: [] },
      { index: 1, uuid: 'GPU-b', processes: [{ pid: 9 }] },
      { index: 2, uuid: 'GPU-c', utilizationRatio: 0.1 },
    ]);
  });
});
