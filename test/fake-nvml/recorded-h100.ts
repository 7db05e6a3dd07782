/**
 * The reading an NVML backend must produce for the recorded H100, worked out from the fixture
 * files themselves (q-busy.xml for the busy snapshot, nvml.txt for what only NVML reports), so a
 * fake that drifts from the recording fails the tests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLOCK_EVENT_REASONS, type ClockEventReason, type GpuReading } from '../../exporter/types.js';

export const H100_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url));

const MIB = 1024 * 1024;

export interface RecordedH100 {
  /** The full reading of GPU 0, in base units. */
  reading: GpuReading;
  /** The uuid NVML itself reported (nvml.txt). */
  nvmlUuid: string;
  /** GPU memory "used" as NVML's v1 memory call reports it: total - free (reserved included). */
  memoryUsedBytesV1: number;
}

export function recordedH100(): RecordedH100 {
  const xml = readFileSync(`${H100_FIXTURE_DIR}q-busy.xml`, 'utf8');
  const nvml = parseNvmlText(readFileSync(`${H100_FIXTURE_DIR}nvml.txt`, 'utf8'));
  const text = (tag: string) => firstElement(xml, tag);
  const number = (tag: string, unit: string) => numberWithUnit(text(tag), unit);
  const [correctable, uncorrectable, pending, failure] = tuple(nvml.get('remapped_rows'));
  const processXml = elementBlock(xml, 'process_info');

  const reading: GpuReading = {
    index: 0,
    uuid: text('uuid'),
    name: text('product_name'),
    busId: text('pci_bus_id'),
    driverVersion: text('driver_version'),
    utilizationRatio: number('gpu_util', '%') / 100,
    memoryUtilizationRatio: number('memory_util', '%') / 100,
    memoryTotalBytes: number('total', 'MiB') * MIB,
    memoryUsedBytes: number('used', 'MiB') * MIB,
    memoryFreeBytes: number('free', 'MiB') * MIB,
    memoryReservedBytes: number('reserved', 'MiB') * MIB,
    encoderUtilizationRatio: number('encoder_util', '%') / 100,
    decoderUtilizationRatio: number('decoder_util', '%') / 100,
    pcieLink: {
      generationCurrent: Number(text('current_link_gen')),
      generationMax: Number(text('max_link_gen')),
      widthCurrent: Number(text('current_link_width').replace(/x$/, '')),
      widthMax: Number(text('max_link_width').replace(/x$/, '')),
    },
    temperatureCelsius: number('gpu_temp', 'C'),
    memoryTemperatureCelsius: number('memory_temp', 'C'),
    powerUsageWatts: number('average_power_draw', 'W'),
    powerLimitWatts: number('current_power_limit', 'W'),
    powerDefaultLimitWatts: number('default_power_limit', 'W'),
    powerMinLimitWatts: number('min_power_limit', 'W'),
    powerMaxLimitWatts: number('max_power_limit', 'W'),
    energyJoules: Number(nvml.get('energy_mJ')) / 1000,
    smClockHertz: number('sm_clock', 'MHz') * 1_000_000,
    memoryClockHertz: number('mem_clock', 'MHz') * 1_000_000,
    performanceState: Number(text('performance_state').replace(/^P/, '')),
    clockEventReasons: Object.fromEntries(CLOCK_EVENT_REASONS.map((reason) => [reason, text(`clocks_event_reason_${reason}`) === 'Active'])) as Record<
      ClockEventReason,
      boolean
    >,
    ecc: {
      correctedVolatile: Number(nvml.get('ecc_corrected_volatile')),
      correctedAggregate: Number(nvml.get('ecc_corrected_aggregate')),
      uncorrectedVolatile: Number(nvml.get('ecc_uncorrected_volatile')),
      uncorrectedAggregate: Number(nvml.get('ecc_uncorrected_aggregate')),
    },
    remappedRows: {
      correctable: Number(correctable),
      uncorrectable: Number(uncorrectable),
      pending: Number(pending) !== 0,
      failure: Number(failure) !== 0,
    },
    pcieReplays: Number(nvml.get('pcie_replay')),
    migMode: text('current_mig') === 'Enabled',
    processes: [
      {
        pid: Number(firstElement(processXml, 'pid')),
        name: firstElement(processXml, 'process_name'),
        usedMemoryBytes: numberWithUnit(firstElement(processXml, 'used_memory'), 'MiB') * MIB,
      },
    ],
  };
  if (text('fan_speed') !== 'N/A') throw new Error('the recording was expected to show no fan speed');
  if (nvml.get('retired_pages_sbe') !== 'ERR Not Supported') {
    throw new Error('the recording was expected to show retired pages as Not Supported');
  }
  const memoryUsedBytesV1 = (number('total', 'MiB') - number('free', 'MiB')) * MIB;
  return { reading, nvmlUuid: nvml.get('uuid') ?? '', memoryUsedBytesV1 };
}

/** nvml.txt lines: `key = value`, or `key ERR reason` for a call that failed. */
function parseNvmlText(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(?:=\s+(.*)|(ERR .*))$/.exec(line.trim());
    if (match?.[1]) values.set(match[1], (match[2] ?? match[3] ?? '').trim());
  }
  return values;
}

/** The text of the first `<tag>` element; fixtures list the current values before other sections. */
function firstElement(xml: string, tag: string): string {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!match?.[1]) throw new Error(`<${tag}> not found in the recording`);
  return match[1].trim();
}

function elementBlock(xml: string, tag: string): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  if (!match?.[1]) throw new Error(`<${tag}> not found in the recording`);
  return match[1];
}

function numberWithUnit(text: string, unit: string): number {
  const match = new RegExp(`^(-?[\\d.]+) ${unit}$`).exec(text);
  if (!match?.[1]) throw new Error(`expected a value in ${unit}, got '${text}'`);
  return Number(match[1]);
}

function tuple(text: string | undefined): string[] {
  const match = /^\((.*)\)$/.exec(text ?? '');
  if (!match?.[1]) throw new Error(`expected a tuple, got '${text}'`);
  return match[1].split(',').map((part) => part.trim());
}
