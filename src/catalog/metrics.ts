/**
 * The metric catalog: every series gpuwatch emits, in one list.
 *
 * The exporter registers its metrics from here; rules and dashboards may only reference names that
 * are in here (or recording rules they define themselves). Names follow Prometheus conventions:
 * base units, `_total` for counters, `_info` for label-carrying info series, prefix `gpuwatch_`.
 */
import type { MetricDef, MetricType } from './metric-def.js';
import { ROUTER_METRICS, RULE_SERVICE_METRICS } from './service-metrics.js';

export type { MetricDef, MetricType } from './metric-def.js';
export { ROUTER_METRICS, RULE_SERVICE_METRICS } from './service-metrics.js';

/** Labels every per-GPU series carries. */
export const GPU_LABELS = ['node', 'gpu', 'uuid'] as const;
/**
 * MIG instance labels: on MIG series always, on process and job-attribution series only where the
 * driver says which instance a process runs in (a GPU in MIG mode); absent otherwise.
 */
export const MIG_LABELS = ['gpu_instance_id', 'compute_instance_id'] as const;
/** Labels of the job-attribution series (DESIGN §5), plus the MIG instance where known. */
export const JOB_LABELS = ['node', 'gpu', 'uuid', 'job', 'user', 'vc', 'priority', 'pod', 'namespace', ...MIG_LABELS] as const;

const gpu = (name: string, type: MetricType, unit: string, help: string, extra: string[] = []): MetricDef => ({
  name,
  type,
  unit,
  help,
  labels: [...GPU_LABELS, ...extra],
});

const node = (name: string, type: MetricType, unit: string, help: string, extra: string[] = []): MetricDef => ({
  name,
  type,
  unit,
  help,
  labels: ['node', ...extra],
});

export const GPU_METRICS = {
  info: gpu('gpuwatch_gpu_info', 'gauge', '', 'GPU identity; always 1.', ['name', 'bus_id', 'driver_version']),
  state: gpu(
    'gpuwatch_gpu_state',
    'gauge',
    '',
    'Whether the driver can read the GPU: 1 for its current state, 0 for the others (ok; reset_required: needs a GPU reset; not_ready; unknown_error). In any state but ok the GPU has no readings, only its identity.',
    ['state'],
  ),
  utilization: gpu('gpuwatch_gpu_utilization_ratio', 'gauge', 'ratio', 'Share of the last sample period in which a kernel ran on the GPU (0-1).'),
  memoryUtilization: gpu(
    'gpuwatch_gpu_memory_utilization_ratio',
    'gauge',
    'ratio',
    'Share of the last sample period in which device memory was read or written (0-1).',
  ),
  memoryUsed: gpu('gpuwatch_gpu_memory_used_bytes', 'gauge', 'bytes', 'Device memory in use.'),
  memoryTotal: gpu('gpuwatch_gpu_memory_total_bytes', 'gauge', 'bytes', 'Device memory in total.'),
  memoryFree: gpu('gpuwatch_gpu_memory_free_bytes', 'gauge', 'bytes', 'Device memory free.'),
  memoryReserved: gpu('gpuwatch_gpu_memory_reserved_bytes', 'gauge', 'bytes', 'Device memory the driver and firmware reserve for themselves.'),
  encoderUtilization: gpu(
    'gpuwatch_gpu_encoder_utilization_ratio',
    'gauge',
    'ratio',
    'Share of the last sample period in which the video encoder was busy (0-1).',
  ),
  decoderUtilization: gpu(
    'gpuwatch_gpu_decoder_utilization_ratio',
    'gauge',
    'ratio',
    'Share of the last sample period in which the video decoder was busy (0-1).',
  ),
  fanSpeed: gpu('gpuwatch_gpu_fan_speed_ratio', 'gauge', 'ratio', 'Fan speed as a share of its maximum (0-1); absent on passively cooled boards.'),
  pcieLinkGeneration: gpu(
    'gpuwatch_gpu_pcie_link_generation',
    'gauge',
    '',
    'PCIe link generation, as trained now (kind="current") and the most the GPU and slot allow (kind="max").',
    ['kind'],
  ),
  pcieLinkWidth: gpu('gpuwatch_gpu_pcie_link_width_lanes', 'gauge', '', 'PCIe link width in lanes, now (kind="current") and at most (kind="max").', ['kind']),
  temperature: gpu('gpuwatch_gpu_temperature_celsius', 'gauge', 'celsius', 'GPU core temperature.'),
  memoryTemperature: gpu('gpuwatch_gpu_memory_temperature_celsius', 'gauge', 'celsius', 'Device memory (HBM) temperature, where supported.'),
  powerUsage: gpu('gpuwatch_gpu_power_usage_watts', 'gauge', 'watts', 'Power drawn by the board.'),
  powerLimit: gpu('gpuwatch_gpu_power_limit_watts', 'gauge', 'watts', 'Enforced power limit.'),
  powerDefaultLimit: gpu('gpuwatch_gpu_power_default_limit_watts', 'gauge', 'watts', 'Default power limit of the board.'),
  powerMinLimit: gpu('gpuwatch_gpu_power_min_limit_watts', 'gauge', 'watts', 'Lowest power limit that can be set.'),
  powerMaxLimit: gpu('gpuwatch_gpu_power_max_limit_watts', 'gauge', 'watts', 'Highest power limit that can be set.'),
  energy: gpu('gpuwatch_gpu_energy_joules_total', 'counter', 'joules', 'Energy consumed since the driver was loaded.'),
  smClock: gpu('gpuwatch_gpu_sm_clock_hertz', 'gauge', 'hertz', 'Current SM clock.'),
  memoryClock: gpu('gpuwatch_gpu_memory_clock_hertz', 'gauge', 'hertz', 'Current memory clock.'),
  performanceState: gpu('gpuwatch_gpu_performance_state', 'gauge', '', 'Performance state (0 = P0, maximum performance; 15 = P15, minimum).'),
  clockEvent: gpu('gpuwatch_gpu_clock_event_active', 'gauge', '', 'Whether a clock-event (throttle) reason is active (1) or not (0).', ['reason']),
  ecc: gpu(
    'gpuwatch_gpu_ecc_errors_total',
    'counter',
    '',
    'ECC errors counted by the device, by type (corrected, uncorrected) and scope (volatile: since the driver was loaded; aggregate: lifetime).',
    ['type', 'scope'],
  ),
  remappedRows: gpu('gpuwatch_gpu_remapped_rows_total', 'counter', '', "Memory rows remapped over the GPU's lifetime, by cause (correctable, uncorrectable).", [
    'cause',
  ]),
  remapPending: gpu('gpuwatch_gpu_row_remap_pending', 'gauge', '', '1 when a row remap is pending and needs a GPU reset.'),
  remapFailed: gpu('gpuwatch_gpu_row_remap_failed', 'gauge', '', '1 when a row remap failed: the GPU needs service.'),
  retiredPages: gpu(
    'gpuwatch_gpu_retired_pages_total',
    'counter',
    '',
    "Memory pages retired over the GPU's lifetime, by cause (sbe: multiple single-bit errors, dbe: double-bit error).",
    ['cause'],
  ),
  retiredPagesPending: gpu('gpuwatch_gpu_retired_pages_pending', 'gauge', '', '1 when a page retirement is pending and needs a GPU reset.'),
  pcieReplays: gpu('gpuwatch_gpu_pcie_replays_total', 'counter', '', 'PCIe replay counter of the GPU link.'),
  nvlinkErrors: gpu('gpuwatch_gpu_nvlink_errors_total', 'counter', '', 'NVLink errors of one link, by type (replay, recovery, crc_flit, crc_data).', [
    'link',
    'type',
  ]),
  nvlinkTransmit: gpu('gpuwatch_gpu_nvlink_transmit_bytes_total', 'counter', 'bytes', 'Data bytes sent over one NVLink.', ['link']),
  nvlinkReceive: gpu('gpuwatch_gpu_nvlink_receive_bytes_total', 'counter', 'bytes', 'Data bytes received over one NVLink.', ['link']),
  xid: gpu('gpuwatch_gpu_xid_errors_total', 'counter', '', 'XID error events seen by the exporter since it started, by XID code.', ['xid']),
  xidLastEvent: gpu(
    'gpuwatch_gpu_xid_last_event_timestamp_seconds',
    'gauge',
    'seconds',
    'Unix time of the last XID error event of this code seen by the exporter.',
    ['xid'],
  ),
  processMemory: gpu(
    'gpuwatch_gpu_process_memory_used_bytes',
    'gauge',
    'bytes',
    'GPU memory held by one process; job="external" for a process outside any container, job="unknown" when its /proc entry cannot be read. On a GPU in MIG mode also the GPU and compute instance the process runs in.',
    ['pid', 'job', 'container', ...MIG_LABELS],
  ),
  migMode: gpu(
    'gpuwatch_gpu_mig_mode',
    'gauge',
    '',
    '1 when the GPU is in MIG mode, 0 when not; absent where the GPU has no MIG. In MIG mode the driver reports no whole-GPU utilization (gpuwatch_gpu_utilization_ratio and gpuwatch_gpu_memory_utilization_ratio are absent): use the per-instance series (gpuwatch_gpu_mig_utilization_ratio where GPM gives it, and memory).',
  ),
  migInfo: gpu(
    'gpuwatch_gpu_mig_info',
    'gauge',
    '',
    'One MIG device (compute instance in a GPU instance) of a GPU in MIG mode; always 1. mig_uuid is empty where the source gives none (nvidia-smi XML).',
    [...MIG_LABELS, 'mig_index', 'mig_uuid'],
  ),
  migMemoryUsed: gpu('gpuwatch_gpu_mig_memory_used_bytes', 'gauge', 'bytes', 'Device memory in use in one MIG GPU instance.', [...MIG_LABELS]),
  migMemoryTotal: gpu('gpuwatch_gpu_mig_memory_total_bytes', 'gauge', 'bytes', 'Device memory of one MIG GPU instance.', [...MIG_LABELS]),
  migUtilization: gpu(
    'gpuwatch_gpu_mig_utilization_ratio',
    'gauge',
    'ratio',
    "Share of the last collection interval in which the graphics/compute engine of one MIG GPU instance was busy (0-1; NVML GPM GRAPHICS_UTIL): the instance's counterpart of gpuwatch_gpu_utilization_ratio, which the job rules use for jobs on MIG instances. Absent without GPM (NVML backend, Hopper or newer GPU, driver R520 or newer) and at the first collection after the exporter starts.",
    ['gpu_instance_id'],
  ),
  migSmUtilization: gpu(
    'gpuwatch_gpu_mig_sm_utilization_ratio',
    'gauge',
    'ratio',
    'Average share of the SMs of one MIG GPU instance that were busy over the last collection interval (0-1; NVML GPM SM_UTIL); lower than gpuwatch_gpu_mig_utilization_ratio when kernels leave SMs idle. Absent without GPM and at the first collection.',
    ['gpu_instance_id'],
  ),
  externalProcesses: gpu('gpuwatch_gpu_external_processes', 'gauge', '', 'Processes using this GPU that run outside any container (not part of any job).'),
} as const;

export const JOB_METRICS = {
  allocated: {
    name: 'gpuwatch_job_gpu_allocated',
    type: 'gauge',
    unit: '',
    help: 'A job holds this GPU; always 1. Join on (node, uuid) for per-job views.',
    labels: JOB_LABELS,
  },
  startTime: {
    name: 'gpuwatch_job_start_time_seconds',
    type: 'gauge',
    unit: 'seconds',
    help: 'Unix time when the job was first seen running on this node (its earliest GPU process or container).',
    labels: ['node', 'job', 'user', 'vc', 'priority'],
  },
} as const satisfies Record<string, MetricDef>;

export const NODE_METRICS = {
  // Not gpuwatch_gpu_count: promtool's linter reserves the _count suffix for histograms and summaries.
  gpus: node('gpuwatch_node_gpus', 'gauge', '', 'GPUs the GPU source reports on this node; a fall means a GPU disappeared (fell off the bus).'),
  expectedGpus: node('gpuwatch_node_expected_gpus', 'gauge', '', "GPUs this node should have according to its SKU in the cluster's layout.yaml."),
  cpuUtilization: node('gpuwatch_node_cpu_utilization_ratio', 'gauge', 'ratio', 'CPU busy share since the previous collection (0-1).'),
  load1: node('gpuwatch_node_load1', 'gauge', '', 'One-minute load average.'),
  memoryTotal: node('gpuwatch_node_memory_total_bytes', 'gauge', 'bytes', 'Host memory in total.'),
  memoryAvailable: node('gpuwatch_node_memory_available_bytes', 'gauge', 'bytes', 'Host memory available for new work (MemAvailable).'),
  filesystemSize: node('gpuwatch_node_filesystem_size_bytes', 'gauge', 'bytes', 'File system size.', ['mountpoint', 'fstype', 'device']),
  filesystemAvailable: node('gpuwatch_node_filesystem_available_bytes', 'gauge', 'bytes', 'File system space available.', ['mountpoint', 'fstype', 'device']),
  networkReceive: node('gpuwatch_node_network_receive_bytes_total', 'counter', 'bytes', 'Bytes received by a network interface.', ['interface']),
  networkTransmit: node('gpuwatch_node_network_transmit_bytes_total', 'counter', 'bytes', 'Bytes sent by a network interface.', ['interface']),
} as const;

export const EXPORTER_METRICS = {
  buildInfo: node('gpuwatch_exporter_build_info', 'gauge', '', 'Exporter version and the GPU backend in use; always 1.', ['version', 'backend']),
  sourceUp: node('gpuwatch_exporter_source_up', 'gauge', '', '1 when the last collection of a source succeeded.', ['source']),
  collectionDuration: node('gpuwatch_exporter_collection_duration_seconds', 'gauge', 'seconds', 'How long the last collection of a source took.', ['source']),
  collectionErrors: node(
    'gpuwatch_exporter_collection_errors_total',
    'counter',
    '',
    'Failed collections by source and reason (timeout, spawn, exit, parse, unavailable, library, io).',
    ['source', 'reason'],
  ),
  invalidValues: node(
    'gpuwatch_exporter_invalid_values_total',
    'counter',
    '',
    'GPU readings dropped because no GPU can have them (a ratio outside 0-1, negative bytes, watts, hertz or counts, a temperature outside -50..200 C), by the metric they would have fed.',
    ['metric'],
  ),
  skippedGpus: node(
    'gpuwatch_exporter_skipped_gpus',
    'gauge',
    '',
    'GPUs the GPU source listed that the last reading left out, by reason (no_uuid: listed without a UUID; duplicate_uuid: a UUID already seen on another GPU).',
    ['reason'],
  ),
  lastSuccess: node('gpuwatch_exporter_last_success_timestamp_seconds', 'gauge', 'seconds', 'Unix time of the last successful collection of a source.', [
    'source',
  ]),
} as const;

/** Every metric gpuwatch emits. */
export const CATALOG: readonly MetricDef[] = [
  ...Object.values(GPU_METRICS),
  ...Object.values(JOB_METRICS),
  ...Object.values(NODE_METRICS),
  ...Object.values(EXPORTER_METRICS),
  ...Object.values(ROUTER_METRICS),
  ...Object.values(RULE_SERVICE_METRICS),
];

const byName = new Map(CATALOG.map((m) => [m.name, m]));

export function findMetric(name: string): MetricDef | undefined {
  return byName.get(name);
}
