/**
 * Which `nvidia-smi -q -x` elements we read, and how their text becomes a GpuReading.
 *
 * The streaming parser (xml.ts) keeps the text of the element paths listed here, keyed by the
 * path relative to `<gpu>` (or to `<process_info>`), and hands them to `gpuReadingFromXml`. Paths
 * cover the current layout (driver 580) and the older one (`power_readings`,
 * `clocks_throttle_reasons`, `single_bit`/`double_bit` ECC, older remapped-row names), so one
 * parser reads both.
 */
import { compact } from '../../../src/defined.js';
import { CLOCK_EVENT_REASONS, type ClockEventReason, type EccCounts, type GpuProcess, type GpuReading, type MigDevice } from '../../types.js';
import {
  readActive,
  readCount,
  readCounter,
  readMhzAsHertz,
  readMibAsBytes,
  readNumber,
  readPercentAsRatio,
  readPerformanceState,
  readText,
  readYesNo,
  sumPresent,
} from './values.js';

/** Text of the wanted elements of one `<gpu>` or `<process_info>`, keyed by relative path. */
export type ElementTexts = Record<string, string>;

/** Power sections, newest first: the first section that has a value wins. */
const POWER_SECTIONS = ['gpu_power_readings', 'power_readings'] as const;
const POWER_DRAW_NAMES = ['average_power_draw', 'power_draw', 'instant_power_draw'] as const;
const POWER_LIMIT_NAMES = ['current_power_limit', 'enforced_power_limit', 'power_limit'] as const;
const POWER_BOUND_NAMES = ['default_power_limit', 'min_power_limit', 'max_power_limit'] as const;
const PCIE_LINK = 'pci/pci_gpu_link_info';

const ECC_SCOPES = ['volatile', 'aggregate'] as const;
const ECC_PARTS = [
  'sram_correctable',
  'sram_uncorrectable',
  'sram_uncorrectable_parity',
  'sram_uncorrectable_secded',
  'dram_correctable',
  'dram_uncorrectable',
  'single_bit/total',
  'double_bit/total',
] as const;

const REMAPPED_ROW_NAMES = [
  'remapped_row_corr',
  'remapped_row_unc',
  'remapped_row_pending',
  'remapped_row_failure',
  'correctable_rows',
  'uncorrectable_rows',
  'pending',
  'remapping_failure_occurred',
] as const;

/** Paths under `<gpu>` whose text we keep. Everything else is skipped unread. */
export const GPU_ELEMENT_PATHS: readonly string[] = [
  'uuid',
  'product_name',
  'utilization/gpu_util',
  'utilization/memory_util',
  'fb_memory_usage/total',
  'fb_memory_usage/used',
  'fb_memory_usage/free',
  'fb_memory_usage/reserved',
  'utilization/encoder_util',
  'utilization/decoder_util',
  'fan_speed',
  `${PCIE_LINK}/pcie_gen/current_link_gen`,
  `${PCIE_LINK}/pcie_gen/max_link_gen`,
  `${PCIE_LINK}/link_widths/current_link_width`,
  `${PCIE_LINK}/link_widths/max_link_width`,
  'temperature/gpu_temp',
  'temperature/memory_temp',
  ...POWER_SECTIONS.flatMap((section) => [...POWER_DRAW_NAMES, ...POWER_LIMIT_NAMES, ...POWER_BOUND_NAMES, 'power_state'].map((name) => `${section}/${name}`)),
  'clocks/sm_clock',
  'clocks/mem_clock',
  'performance_state',
  ...CLOCK_EVENT_REASONS.flatMap((reason) => [
    `clocks_event_reasons/clocks_event_reason_${reason}`,
    `clocks_throttle_reasons/clocks_throttle_reason_${reason}`,
  ]),
  ...ECC_SCOPES.flatMap((scope) => ECC_PARTS.map((part) => `ecc_errors/${scope}/${part}`)),
  ...REMAPPED_ROW_NAMES.map((name) => `remapped_rows/${name}`),
  'retired_pages/multiple_single_bit_retirement/retired_count',
  'retired_pages/double_bit_retirement/retired_count',
  'retired_pages/pending_retirement',
  'retired_pages/pending_blacklist',
  'pci/replay_counter',
  'mig_mode/current_mig',
  'processes',
];

/** Paths under `<processes>/<process_info>` whose text we keep. */
export const PROCESS_ELEMENT_PATHS: readonly string[] = ['pid', 'process_name', 'used_memory', 'gpu_instance_id', 'compute_instance_id'];

/** Paths under `<mig_devices>/<mig_device>` whose text we keep. */
export const MIG_DEVICE_ELEMENT_PATHS: readonly string[] = ['index', 'gpu_instance_id', 'compute_instance_id', 'fb_memory_usage/total', 'fb_memory_usage/used'];

/** What the parser gathered for one `<gpu>` element. */
export interface GpuElement {
  /** Position among the document's `<gpu>` elements: nvidia-smi's own GPU index. */
  index: number;
  /** The `id` attribute: the PCI bus id. */
  busId: string | undefined;
  texts: ElementTexts;
  /** One entry per `<process_info>`; undefined when the document has no `<processes>` element. */
  processes: ElementTexts[] | undefined;
  /** One entry per `<mig_devices>/<mig_device>` (none outside MIG mode). */
  migDevices: ElementTexts[];
}

/**
 * Turn the gathered text of one `<gpu>` into a reading; undefined when the GPU has no UUID (such a
 * GPU cannot be told apart from the others, and one GPU must not cost the whole document).
 */
export function gpuReadingFromXml(gpu: GpuElement, driverVersion: string | undefined): GpuReading | undefined {
  const texts = gpu.texts;
  const uuid = readText(texts['uuid']);
  if (uuid === undefined) return undefined;
  const reading: GpuReading = {
    index: gpu.index,
    uuid,
    name: readText(texts['product_name']),
    busId: readText(gpu.busId),
    driverVersion: readText(driverVersion),
    utilizationRatio: readPercentAsRatio(texts['utilization/gpu_util']),
    memoryUtilizationRatio: readPercentAsRatio(texts['utilization/memory_util']),
    memoryTotalBytes: readMibAsBytes(texts['fb_memory_usage/total']),
    memoryUsedBytes: readMibAsBytes(texts['fb_memory_usage/used']),
    temperatureCelsius: readNumber(texts['temperature/gpu_temp'], 'C'),
    memoryTemperatureCelsius: readNumber(texts['temperature/memory_temp'], 'C'),
    powerUsageWatts: firstPowerValue(texts, POWER_DRAW_NAMES),
    powerLimitWatts: firstPowerValue(texts, POWER_LIMIT_NAMES),
    smClockHertz: readMhzAsHertz(texts['clocks/sm_clock']),
    memoryClockHertz: readMhzAsHertz(texts['clocks/mem_clock']),
    performanceState:
      readPerformanceState(texts['performance_state']) ??
      readPerformanceState(texts['gpu_power_readings/power_state']) ??
      readPerformanceState(texts['power_readings/power_state']),
    clockEventReasons: clockEventReasons(texts),
    ...moreFields(texts),
    ecc: eccCounts(texts),
    remappedRows: compact({
      correctable: readCounter(texts['remapped_rows/remapped_row_corr'] ?? texts['remapped_rows/correctable_rows']),
      uncorrectable: readCounter(texts['remapped_rows/remapped_row_unc'] ?? texts['remapped_rows/uncorrectable_rows']),
      pending: readYesNo(texts['remapped_rows/remapped_row_pending'] ?? texts['remapped_rows/pending']),
      failure: readYesNo(texts['remapped_rows/remapped_row_failure'] ?? texts['remapped_rows/remapping_failure_occurred']),
    }),
    retiredPages: compact({
      singleBit: readCounter(texts['retired_pages/multiple_single_bit_retirement/retired_count']),
      doubleBit: readCounter(texts['retired_pages/double_bit_retirement/retired_count']),
      pending: readYesNo(texts['retired_pages/pending_retirement']) ?? readYesNo(texts['retired_pages/pending_blacklist']),
    }),
    pcieReplays: readCounter(texts['pci/replay_counter']),
    processes: processList(gpu),
    migMode: readEnabled(texts['mig_mode/current_mig']),
    migDevices: migDeviceList(gpu),
  };
  return compact(reading) ?? reading;
}

/** Memory free/reserved, video engines, fan, PCIe link and power-limit bounds. */
function moreFields(texts: ElementTexts): Partial<GpuReading> {
  return {
    memoryFreeBytes: readMibAsBytes(texts['fb_memory_usage/free']),
    memoryReservedBytes: readMibAsBytes(texts['fb_memory_usage/reserved']),
    encoderUtilizationRatio: readPercentAsRatio(texts['utilization/encoder_util']),
    decoderUtilizationRatio: readPercentAsRatio(texts['utilization/decoder_util']),
    fanSpeedRatio: readPercentAsRatio(texts['fan_speed']),
    pcieLink: compact({
      generationCurrent: readCount(texts[`${PCIE_LINK}/pcie_gen/current_link_gen`]),
      generationMax: readCount(texts[`${PCIE_LINK}/pcie_gen/max_link_gen`]),
      widthCurrent: readNumber(texts[`${PCIE_LINK}/link_widths/current_link_width`], 'x'),
      widthMax: readNumber(texts[`${PCIE_LINK}/link_widths/max_link_width`], 'x'),
    }),
    powerDefaultLimitWatts: firstPowerValue(texts, ['default_power_limit']),
    powerMinLimitWatts: firstPowerValue(texts, ['min_power_limit']),
    powerMaxLimitWatts: firstPowerValue(texts, ['max_power_limit']),
  };
}

function firstPowerValue(texts: ElementTexts, names: readonly string[]): number | undefined {
  for (const section of POWER_SECTIONS) {
    for (const name of names) {
      const watts = readNumber(texts[`${section}/${name}`], 'W');
      if (watts !== undefined) return watts;
    }
  }
  return undefined;
}

function clockEventReasons(texts: ElementTexts): GpuReading['clockEventReasons'] {
  const reasons: Partial<Record<ClockEventReason, boolean>> = {};
  for (const reason of CLOCK_EVENT_REASONS) {
    const active =
      readActive(texts[`clocks_event_reasons/clocks_event_reason_${reason}`]) ?? readActive(texts[`clocks_throttle_reasons/clocks_throttle_reason_${reason}`]);
    if (active !== undefined) reasons[reason] = active;
  }
  return compact(reasons);
}

/**
 * ECC totals. Current drivers split by memory (SRAM/DRAM); older Ampere drivers had one
 * `sram_uncorrectable` instead of the parity/SEC-DED pair; pre-Ampere drivers give
 * `single_bit/total` and `double_bit/total`.
 */
function eccCounts(texts: ElementTexts): EccCounts | undefined {
  const scoped = (scope: string) => {
    const part = (name: string) => readCounter(texts[`ecc_errors/${scope}/${name}`]);
    const sramUncorrectableSplit = sumPresent(part('sram_uncorrectable_parity'), part('sram_uncorrectable_secded'));
    return {
      corrected: sumPresent(part('sram_correctable'), part('dram_correctable')) ?? part('single_bit/total'),
      uncorrected: sumPresent(sramUncorrectableSplit ?? part('sram_uncorrectable'), part('dram_uncorrectable')) ?? part('double_bit/total'),
    };
  };
  const volatileCounts = scoped('volatile');
  const aggregateCounts = scoped('aggregate');
  return compact({
    correctedVolatile: volatileCounts.corrected,
    correctedAggregate: aggregateCounts.corrected,
    uncorrectedVolatile: volatileCounts.uncorrected,
    uncorrectedAggregate: aggregateCounts.uncorrected,
  });
}

/**
 * Processes listed under `<processes>`. A `<processes>` element that holds a placeholder text
 * instead of entries (e.g. "N/A") means the list is unknown, not empty.
 */
function processList(gpu: GpuElement): GpuProcess[] | undefined {
  if (gpu.processes === undefined) return undefined;
  const placeholder = (gpu.texts['processes'] ?? '').trim();
  if (placeholder !== '' && gpu.processes.length === 0) return undefined;
  const processes: GpuProcess[] = [];
  for (const entry of gpu.processes) {
    const pid = readCount(entry['pid']);
    if (pid === undefined) continue;
    const process: GpuProcess = { pid };
    const name = readText(entry['process_name']);
    if (name !== undefined) process.name = name;
    const usedMemoryBytes = readMibAsBytes(entry['used_memory']);
    if (usedMemoryBytes !== undefined) process.usedMemoryBytes = usedMemoryBytes;
    const gpuInstanceId = readCount(entry['gpu_instance_id']);
    const computeInstanceId = readCount(entry['compute_instance_id']);
    if (gpuInstanceId !== undefined) process.gpuInstanceId = gpuInstanceId;
    if (computeInstanceId !== undefined) process.computeInstanceId = computeInstanceId;
    processes.push(process);
  }
  return processes;
}

/** "Enabled" / "Disabled", as MIG mode is written. */
function readEnabled(raw: string | undefined): boolean | undefined {
  const value = raw?.trim();
  if (value === 'Enabled') return true;
  if (value === 'Disabled') return false;
  return undefined;
}

/** The `<mig_device>` entries that name their instances; undefined when there are none. */
function migDeviceList(gpu: GpuElement): MigDevice[] | undefined {
  const devices: MigDevice[] = [];
  for (const entry of gpu.migDevices) {
    const index = readCount(entry['index']);
    const gpuInstanceId = readCount(entry['gpu_instance_id']);
    const computeInstanceId = readCount(entry['compute_instance_id']);
    if (index === undefined || gpuInstanceId === undefined || computeInstanceId === undefined) continue;
    const device: MigDevice = { index, gpuInstanceId, computeInstanceId };
    const total = readMibAsBytes(entry['fb_memory_usage/total']);
    const used = readMibAsBytes(entry['fb_memory_usage/used']);
    if (total !== undefined) device.memoryTotalBytes = total;
    if (used !== undefined) device.memoryUsedBytes = used;
    devices.push(device);
  }
  return devices.length > 0 ? devices : undefined;
}
