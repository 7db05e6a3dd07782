import { describe, expect, it } from 'vitest';
import { CLOCK_EVENT_REASON_BITS, CLOCK_EVENT_REASONS } from './clock-event-reasons.js';

describe('clock-event reasons', () => {
  it('give every reason its own NVML bit, and nothing else', () => {
    expect(Object.keys(CLOCK_EVENT_REASON_BITS).sort()).toEqual([...CLOCK_EVENT_REASONS].sort());
    const bits = Object.values(CLOCK_EVENT_REASON_BITS);
    for (const bit of bits) expect(bit & (bit - 1)).toBe(0);
    expect(new Set(bits).size).toBe(bits.length);
  });

  it('match nvml.h (nvmlClocksEventReason*)', () => {
    expect(CLOCK_EVENT_REASON_BITS).toMatchObject({
      gpu_idle: 0x1,
      sw_power_cap: 0x4,
      hw_slowdown: 0x8,
      sw_thermal_slowdown: 0x20,
      hw_thermal_slowdown: 0x40,
      hw_power_brake_slowdown: 0x80,
    });
  });
});
