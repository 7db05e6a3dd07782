/**
 * The readings beyond the core ones, through calls-more.ts: video engines, fan, PCIe link,
 * power-limit bounds and NVLink. A GPU or driver without one leaves it absent.
 */
import { NVLINK_ERROR_TYPES, type GpuReading, type NvLinkErrorType, type NvLinkReading } from '../../types.js';
import type { DeviceHandle, NvmlLibrary } from './bindings.js';
import * as calls from './calls-more.js';
import { NvmlReturn } from './constants.js';
import { withoutUndefined } from '../../../src/defined.js';
import type { FieldReader } from './read.js';

/** NVML_NVLINK_MAX_LINKS */
const NVLINK_MAX_LINKS = 18;
/** nvmlNvLinkErrorCounter_t */
const NVLINK_ERROR_COUNTERS: Readonly<Record<NvLinkErrorType, number>> = { replay: 0, recovery: 1, crc_flit: 2, crc_data: 3 };
/** nvmlFieldId: NVLink data throughput in KiB, per link (scopeId = link). */
const NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX = 138;
const NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX = 139;
const KIB = 1024;

const ratio = (percent: number | undefined) => (percent === undefined ? undefined : percent / 100);
const watts = (milliwatts: number | undefined) => (milliwatts === undefined ? undefined : milliwatts / 1000);

export function readMore(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): Partial<GpuReading> {
  const bounds = field(calls.powerLimitConstraints(nvml, handle));
  const link = (call: calls.PcieLinkCall) => field(calls.pcieLink(nvml, handle, call));
  const pcieLink = withoutUndefined({
    generationCurrent: link('nvmlDeviceGetCurrPcieLinkGeneration'),
    generationMax: link('nvmlDeviceGetMaxPcieLinkGeneration'),
    widthCurrent: link('nvmlDeviceGetCurrPcieLinkWidth'),
    widthMax: link('nvmlDeviceGetMaxPcieLinkWidth'),
  });
  const nvlinks = readNvLinks(nvml, handle, field);
  return {
    encoderUtilizationRatio: ratio(field(calls.videoUtilization(nvml, handle, 'Encoder'))),
    decoderUtilizationRatio: ratio(field(calls.videoUtilization(nvml, handle, 'Decoder'))),
    fanSpeedRatio: ratio(field(calls.fanSpeed(nvml, handle))),
    pcieLink: Object.keys(pcieLink).length > 0 ? pcieLink : undefined,
    powerDefaultLimitWatts: watts(field(calls.defaultPowerLimit(nvml, handle))),
    powerMinLimitWatts: watts(bounds?.min),
    powerMaxLimitWatts: watts(bounds?.max),
    nvlinks: nvlinks.length > 0 ? nvlinks : undefined,
  };
}

/** Active links only; a GPU without NVLink answers NOT_SUPPORTED, a link past its last INVALID_ARGUMENT. */
function readNvLinks(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): NvLinkReading[] {
  const links: NvLinkReading[] = [];
  for (let link = 0; link < NVLINK_MAX_LINKS; link++) {
    const state = calls.nvLinkActive(nvml, handle, link);
    if (state.rc === NvmlReturn.NOT_SUPPORTED || state.rc === NvmlReturn.INVALID_ARGUMENT) break;
    if (field(state) !== true) continue;
    const errors: Partial<Record<NvLinkErrorType, number>> = {};
    for (const type of NVLINK_ERROR_TYPES) {
      const count = field(calls.nvLinkErrorCounter(nvml, handle, link, NVLINK_ERROR_COUNTERS[type]));
      if (count !== undefined) errors[type] = count;
    }
    const kib = (fieldId: number) => field(calls.linkFieldValue(nvml, handle, fieldId, link));
    const tx = kib(NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX);
    const rx = kib(NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX);
    links.push(
      withoutUndefined<NvLinkReading>({
        link,
        errors: Object.keys(errors).length > 0 ? errors : undefined,
        transmitBytes: tx === undefined ? undefined : tx * KIB,
        receiveBytes: rx === undefined ? undefined : rx * KIB,
      }),
    );
  }
  return links;
}
