/**
 * Every alerting rule, by group, in a fixed order. The rule engine picks the evaluator's self-checks:
 * Prometheus's, or with the VictoriaMetrics scale engine vmalert's, vmagent's and VictoriaMetrics's.
 */
import type { ScaleConfig } from '../src/config/scale.js';
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
import { victoriaMetricsSelfCheck } from './policies/vm-self-checks.js';
import { watchdog } from './policies/watchdog.js';
import { xidErrors } from './policies/xid.js';
import type { GeneratedAlert } from './types.js';

export interface AlertGroup {
  name: string;
  alerts: GeneratedAlert[];
}

/** What evaluates the rules: Prometheus (also the central one of the Prometheus scale engine), or vmalert over VictoriaMetrics. */
export type RuleEngine = ScaleConfig['engine'];

type Generator = (ctx: GenContext, engine: RuleEngine) => GeneratedAlert[];

/** The self-checks of the engine evaluating the rules (their series exist only there). */
const engineSelfCheck: Generator = (ctx, engine) => (engine === 'victoriametrics' ? victoriaMetricsSelfCheck(ctx) : prometheusSelfCheck(ctx));

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
    generators: [exporterDown, exporterCollectionFailing, exporterStale, exporterAbsent, engineSelfCheck, alertmanagerSelfCheck],
  },
  { name: 'gpuwatch-node', generators: [nodeDown, diskFull, memoryPressure] },
  { name: 'gpuwatch-watchdog', generators: [watchdog] },
];

export function alertGroups(ctx: GenContext, engine: RuleEngine = 'prometheus'): AlertGroup[] {
  return GROUPS.map((g) => ({ name: g.name, alerts: g.generators.flatMap((generate) => generate(ctx, engine)) })).filter((g) => g.alerts.length > 0);
}
