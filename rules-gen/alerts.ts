/** Every alerting rule, by group, in a fixed order. */
import type { GenContext } from './context.js';
import { clusterGpusUnavailable, nodeGpusMissing } from './policies/capacity.js';
import {
  eccCorrectableStorm,
  eccUncorrectable,
  gpuTemperature,
  powerSlowdown,
  retiredPagesNearLimit,
  rowRemapPendingOrFailed,
  thermalSlowdown,
} from './policies/gpu-health.js';
import { gpuResetRequired, lowPerformanceState, memoryTemperature, memoryWithoutProcess, pcieReplays, retiredPagesPending } from './policies/gpu-device.js';
import { gpuExternalProcess, jobLowUtilization, jobRunningTooLong } from './policies/jobs.js';
import { diskFull, memoryPressure, nodeDown } from './policies/node.js';
import { alertmanagerSelfCheck, exporterAbsent, exporterCollectionFailing, exporterDown, exporterStale, prometheusSelfCheck } from './policies/pipeline.js';
import { watchdog } from './policies/watchdog.js';
import { xidErrors } from './policies/xid.js';
import type { GeneratedAlert } from './types.js';

export interface AlertGroup {
  name: string;
  alerts: GeneratedAlert[];
}

type Generator = (ctx: GenContext) => GeneratedAlert[];

/**
 * Groups are evaluated concurrently by Prometheus (and sharded by group in Thanos and Mimir rulers),
 * rules within a group one after the other: rules that each read tens of thousands of per-GPU series
 * get groups of their own so that no group takes long at 10,000 GPUs (see bench/rules-eval.ts).
 */
const GROUPS: readonly { name: string; generators: readonly Generator[] }[] = [
  { name: 'gpuwatch-jobs', generators: [jobLowUtilization, jobRunningTooLong, gpuExternalProcess] },
  { name: 'gpuwatch-gpu-ecc', generators: [eccUncorrectable, eccCorrectableStorm] },
  { name: 'gpuwatch-gpu-memory', generators: [rowRemapPendingOrFailed, retiredPagesNearLimit, retiredPagesPending, gpuResetRequired, memoryWithoutProcess] },
  { name: 'gpuwatch-gpu-pcie', generators: [pcieReplays] },
  { name: 'gpuwatch-gpu-xid', generators: [xidErrors] },
  { name: 'gpuwatch-gpu-thermal', generators: [thermalSlowdown, gpuTemperature, memoryTemperature] },
  { name: 'gpuwatch-gpu-power', generators: [powerSlowdown, lowPerformanceState] },
  { name: 'gpuwatch-capacity', generators: [nodeGpusMissing, clusterGpusUnavailable] },
  {
    name: 'gpuwatch-pipeline',
    generators: [exporterDown, exporterCollectionFailing, exporterStale, exporterAbsent, prometheusSelfCheck, alertmanagerSelfCheck],
  },
  { name: 'gpuwatch-node', generators: [nodeDown, diskFull, memoryPressure] },
  { name: 'gpuwatch-watchdog', generators: [watchdog] },
];

export function alertGroups(ctx: GenContext): AlertGroup[] {
  return GROUPS.map((g) => ({ name: g.name, alerts: g.generators.flatMap((generate) => generate(ctx)) })).filter((g) => g.alerts.length > 0);
}
