/**
 * What every recorded H100 80GB HBM3 (driver 580) reads alike, whichever way it is read
 * (nvidia-smi CSV, nvidia-smi XML, NVML through the fake library): reserved memory, idle video
 * engines, the PCIe link and the power-limit bounds.
 */
import type { GpuReading } from '../exporter/types.js';

const MIB = 1_048_576;

export const H100_RECORDED_BOARD = {
  memoryReservedBytes: 480 * MIB,
  encoderUtilizationRatio: 0,
  decoderUtilizationRatio: 0,
  pcieLink: { generationCurrent: 5, generationMax: 5, widthCurrent: 16, widthMax: 16 },
  powerDefaultLimitWatts: 700,
  powerMinLimitWatts: 200,
  powerMaxLimitWatts: 700,
} as const satisfies Partial<GpuReading>;
