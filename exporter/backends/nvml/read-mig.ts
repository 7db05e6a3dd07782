/**
 * MIG (Multi-Instance GPU) through NVML: whether a GPU is in MIG mode and, when it is, each MIG
 * device's GPU/compute instance ids, UUID and memory. In MIG mode the whole GPU's utilization
 * answers NOT_SUPPORTED; per GPU instance, utilization comes from GPM (read-gpm.ts).
 */
import type { MigDevice } from '../../types.js';
import type { DeviceHandle, NvmlLibrary } from './bindings.js';
import * as calls from './calls-more.js';
import { NvmlReturn } from './constants.js';
import { withoutUndefined } from '../../../src/defined.js';
import type { FieldReader } from './read.js';

export interface MigFields {
  migMode?: boolean;
  migDevices?: MigDevice[];
}

/** The MIG fields of one GPU; empty on GPUs and drivers without MIG. */
export function readMig(nvml: NvmlLibrary, handle: DeviceHandle, field: FieldReader): MigFields {
  const mode = field(calls.migMode(nvml, handle));
  if (mode === undefined) return {};
  if (mode !== 1) return { migMode: false };
  const slots = field(calls.maxMigDeviceCount(nvml, handle)) ?? 0;
  const migDevices: MigDevice[] = [];
  for (let index = 0; index < slots; index++) {
    // An empty slot answers NOT_FOUND: not an error.
    const migHandle = field(calls.migDeviceHandle(nvml, handle, index), NvmlReturn.NOT_FOUND);
    if (migHandle === undefined) continue;
    const device = readMigDevice(nvml, migHandle, index, field);
    if (device !== undefined) migDevices.push(device);
  }
  return { migMode: true, migDevices };
}

function readMigDevice(nvml: NvmlLibrary, handle: DeviceHandle, index: number, field: FieldReader): MigDevice | undefined {
  const gpuInstanceId = field(calls.gpuInstanceId(nvml, handle));
  const computeInstanceId = field(calls.computeInstanceId(nvml, handle));
  if (gpuInstanceId === undefined || computeInstanceId === undefined) return undefined;
  const memory = field(nvml.memory(handle));
  return withoutUndefined<MigDevice>({
    index,
    gpuInstanceId,
    computeInstanceId,
    uuid: field(nvml.uuid(handle)),
    memoryTotalBytes: memory?.totalBytes,
    memoryUsedBytes: memory?.usedBytes,
  });
}
