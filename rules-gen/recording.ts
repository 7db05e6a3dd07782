/**
 * The recording rules (names in src/catalog/recording-names.ts): every per-GPU join with job attribution is done
 * here once, so dashboards and alerts read per-job, per-VC, per-user and per-cluster series directly.
 *
 * Groups run concurrently in Prometheus; each of these reads tens of thousands of per-GPU series at
 * 10,000 GPUs, hence several small groups (see bench/rules-eval.ts).
 *
 * The join runs from the attribution side (`group_right`): the utilization is unique per GPU, while a
 * GPU shared by two jobs has two attribution series, which `group_left` from the GPU side would
 * reject as a many-to-many match and fail the whole rule.
 *
 * A GPU in MIG mode has no whole-GPU utilization; a job on one of its MIG instances is joined with
 * that GPU instance's utilization instead, on (cluster, node, uuid, gpu_instance_id), and its series
 * carry `gpu_instance_id`. Those series exist only for MIG GPUs, so every other GPU's series and
 * everything recorded from them stay as they were.
 */
import { GPU_METRICS, JOB_METRICS, NODE_METRICS } from '../src/catalog/metrics.js';
import type { GenContext } from './context.js';
import { by, on } from './promql.js';
import { RECORDING as R } from '../src/catalog/recording-names.js';
import type { RecordingRule, RuleGroup } from './types.js';

const JOB = ['cluster', 'job', 'user', 'vc', 'priority'] as const;
const GPU = ['cluster', 'node', 'gpu', 'uuid'] as const;
const INSTANCE = [...GPU, 'gpu_instance_id'] as const;
const UTIL = GPU_METRICS.utilization.name;
const MIG_UTIL = GPU_METRICS.migUtilization.name;
const ALLOCATED = JOB_METRICS.allocated.name;
const JOB_IDENTITY = ['job', 'user', 'vc', 'priority'] as const;

/** One attribution series per (GPU, job), without pod/namespace and scrape labels. */
const allocations = `max ${by([...GPU, ...JOB_IDENTITY])} (${ALLOCATED})`;
/** One attribution series per (MIG GPU instance, job), where the exporter knows the instance. */
const instanceAllocations = `max ${by([...INSTANCE, ...JOB_IDENTITY])} (${ALLOCATED}{gpu_instance_id!=""})`;
const attributed = `${R.gpuUtilizationByJob}{job!=""}`;

/** Per GPU (per GPU instance on a MIG GPU): utilization with the job holding it. */
export function gpuRules(): RecordingRule[] {
  return [
    {
      record: R.gpuUtilizationByJob,
      expr: [
        `(`,
        `  max ${by(GPU)} (${UTIL})`,
        `  * ${on(['cluster', 'node', 'uuid'])} group_right ()`,
        `  ${allocations}`,
        `)`,
        `or ${on(['cluster', 'node', 'uuid'])}`,
        `max ${by(GPU)} (${UTIL})`,
        `or`,
        `(`,
        `  max ${by(INSTANCE)} (${MIG_UTIL})`,
        `  * ${on(['cluster', 'node', 'uuid', 'gpu_instance_id'])} group_right ()`,
        `  ${instanceAllocations}`,
        `)`,
        `or ${on(['cluster', 'node', 'uuid', 'gpu_instance_id'])}`,
        `max ${by(INSTANCE)} (${MIG_UTIL})`,
      ].join('\n'),
    },
  ];
}

/** Per node and per cluster, from the exporters' series. */
export function clusterRules(): RecordingRule[] {
  return [
    { record: R.nodeUtilization, expr: `avg ${by(['cluster', 'node'])} (${UTIL})` },
    { record: R.clusterGpusSeen, expr: `sum ${by(['cluster'])} (${NODE_METRICS.gpus.name})` },
    { record: R.clusterGpusAllocated, expr: `count ${by(['cluster'])} (max ${by(['cluster', 'node', 'uuid'])} (${ALLOCATED}))` },
    { record: R.clusterUtilization, expr: `avg ${by(['cluster'])} (${UTIL})` },
  ];
}

/**
 * Per job, VC and user. In a group of their own: they read the per-GPU join recorded by the
 * previous evaluation of gpuwatch-recording-gpu (at most one evaluation interval old).
 */
export function jobRules(): RecordingRule[] {
  return [
    { record: R.jobUtilization, expr: `avg ${by(JOB)} (${attributed})` },
    { record: R.jobGpus, expr: `count ${by(JOB)} (${allocations})` },
    { record: R.vcUtilization, expr: `avg ${by(['cluster', 'vc'])} (${attributed})` },
    { record: R.vcGpus, expr: `sum ${by(['cluster', 'vc'])} (${R.jobGpus})` },
    { record: R.userUtilization, expr: `avg ${by(['cluster', 'user'])} (${attributed})` },
    { record: R.userGpus, expr: `sum ${by(['cluster', 'user'])} (${R.jobGpus})` },
  ];
}

/** One layout constant: a recorded series name, its labels and its value. */
export interface LayoutConstant {
  record: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * layout.yaml as series: the GPUs each worker and each cluster (its workers) should have. Constants, so they exist
 * even when a node or its exporter reports nothing, which is what the capacity alerts compare with.
 */
export function layoutConstants(ctx: GenContext): LayoutConstant[] {
  const perCluster = ctx.loaded.clusters.map((c): LayoutConstant => ({
    record: R.clusterGpusExpected,
    labels: { cluster: c.name },
    value: c.layoutData.nodes.filter((n) => n.isWorker).reduce((sum, n) => sum + n.expectedGpus, 0),
  }));
  const perNode = ctx.workers.map((w): LayoutConstant => ({ record: R.layoutNodeGpus, labels: { cluster: w.cluster, node: w.node }, value: w.expectedGpus }));
  return [...perCluster, ...perNode];
}

/** The layout constants as recording rules (`vector(N)` with the labels). */
export function layoutRules(ctx: GenContext): RecordingRule[] {
  return layoutConstants(ctx).map((c) => ({ record: c.record, expr: `vector(${c.value})`, labels: c.labels }));
}

/** The recording group of the layout constants. */
export const LAYOUT_GROUP = 'gpuwatch-layout';

export function recordingGroups(ctx: GenContext): RuleGroup[] {
  return [
    { name: LAYOUT_GROUP, rules: layoutRules(ctx) },
    { name: 'gpuwatch-recording-gpu', rules: gpuRules() },
    { name: 'gpuwatch-recording-cluster', rules: clusterRules() },
    { name: 'gpuwatch-recording-jobs', rules: jobRules() },
  ];
}
