/** Why a GPU's clocks are held down: the reason names every backend, the metrics and the policies share. */

/** Reason names, as nvidia-smi's `clocks_event_reasons` element names them (minus the prefix). */
export const CLOCK_EVENT_REASONS = [
  'gpu_idle',
  'applications_clocks_setting',
  'sw_power_cap',
  'hw_slowdown',
  'hw_thermal_slowdown',
  'hw_power_brake_slowdown',
  'sync_boost',
  'sw_thermal_slowdown',
  'display_clocks_setting',
] as const;
export type ClockEventReason = (typeof CLOCK_EVENT_REASONS)[number];

/**
 * NVML's nvmlClocksEventReason* bits (named nvmlClocksThrottleReason* before NVML 12.2; same
 * values), as in NVML's mask and nvidia-smi's `clocks_event_reasons.active`/`.supported`.
 */
export const CLOCK_EVENT_REASON_BITS: Readonly<Record<ClockEventReason, number>> = {
  gpu_idle: 0x1,
  applications_clocks_setting: 0x2,
  sw_power_cap: 0x4,
  hw_slowdown: 0x8,
  sync_boost: 0x10,
  sw_thermal_slowdown: 0x20,
  hw_thermal_slowdown: 0x40,
  hw_power_brake_slowdown: 0x80,
  display_clocks_setting: 0x100,
};
