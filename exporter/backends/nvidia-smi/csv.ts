/**
 * Reader for `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` lines.
 *
 * Values may also carry units (`--format=csv`): each converter accepts the bare number or the
 * number with its expected unit. Field aliases that nvidia-smi accepts (`clocks.sm`,
 * `clocks_throttle_reasons.*`, `gpu_uuid`, …) are read like their main names.
 */
import { compact } from '../../../src/defined.js';
import { CLOCK_EVENT_REASON_BITS, CLOCK_EVENT_REASONS, SourceError, type ClockEventReason, type GpuReading } from '../../types.js';
import {
  readActive,
  readCount,
  readCounter,
  readHexMask,
  readMhzAsHertz,
  readMibAsBytes,
  readNumber,
  readPercentAsRatio,
  readPerformanceState,
  readText,
  readYesNo,
} from './values.js';

/**
 * Fields the exporter streams from a long-lived `nvidia-smi --query-gpu … -lms N`: the fast-moving
 * values plus the cheap health counters. All are accepted by driver 580 (query-gpu-fields.txt) and
 * by older drivers too, which matters because one unknown field makes nvidia-smi refuse the whole
 * query:
 * - `power.draw` rather than `power.draw.average`: on Ampere and newer it already is the 1 s
 *   average, and `power.draw.average` does not exist on older drivers.
 * - `enforced.power.limit`: the limit actually applied (what the XML calls `current_power_limit`).
 * - clock-event reasons as the `supported` and `active` bitmasks: two fields instead of nine, and
 *   they include `display_clocks_setting`, which has no field of its own.
 * Processes and PCIe replays have no `--query-gpu` field; they come from the XML. Fields an older
 * driver lacks are left out of the stream after asking `--help-query-gpu` (query-fields.ts).
 */
export const QUERY_FIELDS: readonly string[] = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'utilization.gpu',
  'utilization.memory',
  'memory.total',
  'memory.used',
  'memory.free',
  'memory.reserved',
  'utilization.encoder',
  'utilization.decoder',
  'fan.speed',
  'pcie.link.gen.current',
  'pcie.link.gen.max',
  'pcie.link.width.current',
  'pcie.link.width.max',
  'temperature.gpu',
  'temperature.memory',
  'power.draw',
  'enforced.power.limit',
  'power.default_limit',
  'power.min_limit',
  'power.max_limit',
  'clocks.current.sm',
  'clocks.current.memory',
  'pstate',
  'clocks_event_reasons.supported',
  'clocks_event_reasons.active',
  'ecc.errors.corrected.volatile.total',
  'ecc.errors.corrected.aggregate.total',
  'ecc.errors.uncorrected.volatile.total',
  'ecc.errors.uncorrected.aggregate.total',
  'retired_pages.single_bit_ecc.count',
  'retired_pages.double_bit.count',
  'retired_pages.pending',
  'remapped_rows.correctable',
  'remapped_rows.uncorrectable',
  'remapped_rows.pending',
  'remapped_rows.failure',
];

/** nvidia-smi's alternative field names, mapped to the names used below. */
const FIELD_ALIASES: Record<string, string> = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  gpu_bus_id: 'pci.bus_id',
  'clocks.sm': 'clocks.current.sm',
  'clocks.mem': 'clocks.current.memory',
  'gpu.power.draw.average': 'power.draw.average',
  'gpu.power.draw.instant': 'power.draw.instant',
  'gpu.power.requested_limit': 'power.limit',
  'gpu.power.current_limit': 'enforced.power.limit',
  'retired_pages.sbe': 'retired_pages.single_bit_ecc.count',
  'retired_pages.dbe': 'retired_pages.double_bit.count',
  'remapped_rows.sbe': 'remapped_rows.correctable',
  'remapped_rows.dbe': 'remapped_rows.uncorrectable',
};

function canonicalField(field: string): string {
  const trimmed = field.trim();
  const unaliased = FIELD_ALIASES[trimmed] ?? trimmed;
  return unaliased.startsWith('clocks_throttle_reasons.') ? `clocks_event_reasons.${unaliased.slice('clocks_throttle_reasons.'.length)}` : unaliased;
}

/**
 * Read one CSV line into a reading. `fields` is the `--query-gpu` list the line was produced with;
 * it must contain `index` and `uuid`. Throws `SourceError('parse')` when the line does not match.
 */
export function parseQueryGpuLine(line: string, fields: readonly string[]): GpuReading {
  const cells = line.split(',');
  if (cells.length !== fields.length) {
    throw new SourceError('parse', `nvidia-smi CSV: expected ${fields.length} values, got ${cells.length} in line "${excerpt(line)}"`);
  }
  const values = new Map<string, string>();
  fields.forEach((field, position) => values.set(canonicalField(field), cells[position]!.trim()));
  const get = (field: string) => values.get(field);

  const index = readCount(get('index'));
  const uuid = readText(get('uuid'));
  if (index === undefined || uuid === undefined) {
    throw new SourceError('parse', `nvidia-smi CSV: no GPU index or uuid in line "${excerpt(line)}"`);
  }
  const reading: GpuReading = {
    index,
    uuid,
    name: readText(get('name')),
    busId: readText(get('pci.bus_id')),
    driverVersion: readText(get('driver_version')),
    utilizationRatio: readPercentAsRatio(get('utilization.gpu')),
    memoryUtilizationRatio: readPercentAsRatio(get('utilization.memory')),
    memoryTotalBytes: readMibAsBytes(get('memory.total')),
    memoryUsedBytes: readMibAsBytes(get('memory.used')),
    temperatureCelsius: readNumber(get('temperature.gpu'), 'C'),
    memoryTemperatureCelsius: readNumber(get('temperature.memory'), 'C'),
    powerUsageWatts: readNumber(get('power.draw.average'), 'W') ?? readNumber(get('power.draw'), 'W') ?? readNumber(get('power.draw.instant'), 'W'),
    powerLimitWatts: readNumber(get('enforced.power.limit'), 'W') ?? readNumber(get('power.limit'), 'W'),
    smClockHertz: readMhzAsHertz(get('clocks.current.sm')),
    memoryClockHertz: readMhzAsHertz(get('clocks.current.memory')),
    performanceState: readPerformanceState(get('pstate')),
    ...moreFields(get),
    clockEventReasons: clockEventReasons(get),
    ecc: compact({
      correctedVolatile: readCounter(get('ecc.errors.corrected.volatile.total')),
      correctedAggregate: readCounter(get('ecc.errors.corrected.aggregate.total')),
      uncorrectedVolatile: readCounter(get('ecc.errors.uncorrected.volatile.total')),
      uncorrectedAggregate: readCounter(get('ecc.errors.uncorrected.aggregate.total')),
    }),
    remappedRows: compact({
      correctable: readCounter(get('remapped_rows.correctable')),
      uncorrectable: readCounter(get('remapped_rows.uncorrectable')),
      pending: readYesNo(get('remapped_rows.pending')),
      failure: readYesNo(get('remapped_rows.failure')),
    }),
    retiredPages: compact({
      singleBit: readCounter(get('retired_pages.single_bit_ecc.count')),
      doubleBit: readCounter(get('retired_pages.double_bit.count')),
      pending: readYesNo(get('retired_pages.pending')),
    }),
  };
  return compact(reading) ?? reading;
}

/** Memory free/reserved, video engines, fan, PCIe link and power-limit bounds. */
function moreFields(get: (field: string) => string | undefined): Partial<GpuReading> {
  return {
    memoryFreeBytes: readMibAsBytes(get('memory.free')),
    memoryReservedBytes: readMibAsBytes(get('memory.reserved')),
    encoderUtilizationRatio: readPercentAsRatio(get('utilization.encoder')),
    decoderUtilizationRatio: readPercentAsRatio(get('utilization.decoder')),
    fanSpeedRatio: readPercentAsRatio(get('fan.speed')),
    pcieLink: compact({
      generationCurrent: readCount(get('pcie.link.gen.current')),
      generationMax: readCount(get('pcie.link.gen.max')),
      widthCurrent: readCount(get('pcie.link.width.current')),
      widthMax: readCount(get('pcie.link.width.max')),
    }),
    powerDefaultLimitWatts: readNumber(get('power.default_limit'), 'W'),
    powerMinLimitWatts: readNumber(get('power.min_limit'), 'W'),
    powerMaxLimitWatts: readNumber(get('power.max_limit'), 'W'),
  };
}

/** Read every non-empty line of a `--query-gpu` output block. A header line, if present, is skipped. */
export function parseQueryGpuCsv(text: string, fields: readonly string[]): GpuReading[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const first = lines[0];
  if (first !== undefined && fields[0] !== undefined && isHeaderLine(first, fields[0])) lines.shift();
  return lines.map((line) => parseQueryGpuLine(line, fields));
}

function isHeaderLine(line: string, firstField: string): boolean {
  const firstCell = line.split(',')[0]!.trim();
  return firstCell === firstField || firstCell.startsWith(`${firstField} [`);
}

/**
 * Named reason fields win; otherwise the `active` bitmask is read for the reasons that the
 * `supported` bitmask lists (all reasons when `supported` was not queried).
 */
function clockEventReasons(get: (field: string) => string | undefined): GpuReading['clockEventReasons'] {
  const active = readHexMask(get('clocks_event_reasons.active'));
  const supportedField = get('clocks_event_reasons.supported');
  const supported = supportedField === undefined ? undefined : readHexMask(supportedField);
  const reasons: Partial<Record<ClockEventReason, boolean>> = {};
  for (const reason of CLOCK_EVENT_REASONS) {
    const named = readActive(get(`clocks_event_reasons.${reason}`));
    const bit = BigInt(CLOCK_EVENT_REASON_BITS[reason]);
    const isSupported = supportedField === undefined || (supported !== undefined && (supported & bit) !== 0n);
    const fromMask = active !== undefined && isSupported ? (active & bit) !== 0n : undefined;
    const value = named ?? fromMask;
    if (value !== undefined) reasons[reason] = value;
  }
  return compact(reasons);
}

function excerpt(line: string): string {
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
}
