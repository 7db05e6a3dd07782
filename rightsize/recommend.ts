/**
 * Recurring jobs → recommended requests. Pure.
 *
 * After `minRuns` completed normal runs: GPUs = the most GPUs any normal run kept busy, plus
 * `gpuHeadroom` percent, rounded up to a request size the SKU allows (1, 2, 4, … up to the node's
 * GPU count within a node, whole nodes beyond); GPU memory = the highest per-GPU peak of the normal
 * runs plus `headroom` percent, rounded up to whole GiB.
 */
import { median, type RecurringJob } from './group.js';
import type { Run } from './runs.js';

export const GIB = 2 ** 30;

export interface RecommendOptions {
  minRuns: number;
  headroom: number;
  gpuHeadroom: number;
  /** GPUs per node of a recurring job: from the SKUs of the nodes its runs used. */
  gpusPerNode(nodes: readonly string[]): number;
}

export interface Recommendation {
  /** `user~base`. */
  job: string;
  user: string;
  runs: number;
  normalRuns: number;
  /** GPUs the latest normal run (else the latest run) held. */
  requestedGpus: number;
  peakBusyGpus: number;
  gpusPerNode: number;
  /**
   * The distribution of GPU utilization over the normal runs: each GPU's busyQuantile over its run,
   * the median of those over every normal run's GPUs, and the highest (0–1).
   */
  medianGpuUtilization?: number;
  busiestGpuUtilization?: number;
  peakMemoryBytes?: number;
  gpuMemoryBytes?: number;
  /**
   * With --host, from the normal runs that held every GPU of each node they used (the host's
   * figures are the node's, so they are the job's only there): peak host memory used (bytes) and the
   * highest host CPU quantile (busyQuantile, 0–1).
   */
  hostMemoryPeakBytes?: number;
  hostCpu?: number;
  /** Absent with fewer than minRuns normal runs (see `reason`). */
  recommendedGpus?: number;
  recommendedMemoryGiB?: number;
  reason?: string;
}

/** The smallest request size ≥ n: a power of two up to the node (or the node itself), whole nodes beyond. */
export function roundGpus(n: number, perNode: number): number {
  const want = Math.max(1, Math.ceil(n));
  if (want > perNode) return Math.ceil(want / perNode) * perNode;
  let size = 1;
  while (size < want) size *= 2;
  return Math.min(size, perNode);
}

/** Peak plus headroom percent, in whole GiB (rounded up). */
export function roundMemoryGiB(peakBytes: number, headroomPercent: number): number {
  // Rounded to a byte first: 30 GiB × 1.2 must be 36 GiB, not 36 GiB and a float's rounding error.
  return Math.ceil(Math.round(peakBytes * (1 + headroomPercent / 100)) / GIB);
}

const maxOf = (xs: (number | undefined)[]) => {
  const known = xs.filter((x): x is number => x !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
};

/** Host memory peak and CPU over the runs that had their nodes to themselves. */
function hostFigures(runs: readonly Run[], gpusPerNode: RecommendOptions['gpusPerNode']): Pick<Recommendation, 'hostMemoryPeakBytes' | 'hostCpu'> {
  const alone = runs.filter((r) => r.host && Object.entries(r.nodes).every(([node, gpus]) => gpus >= gpusPerNode([node])));
  const per = alone.flatMap((r) => Object.values(r.host ?? {}));
  const memory = maxOf(per.map((h) => h.memoryPeakBytes));
  const cpu = maxOf(per.map((h) => h.cpu));
  return { ...(memory === undefined ? {} : { hostMemoryPeakBytes: memory }), ...(cpu === undefined ? {} : { hostCpu: cpu }) };
}

export function recommend(group: RecurringJob, o: RecommendOptions): Recommendation {
  const normal = group.runs.filter((r) => r.verdict === 'normal').map((r) => r.run);
  const latest = normal.at(-1) ?? group.runs.at(-1)?.run;
  const nodes = [...new Set(group.runs.flatMap((r) => Object.keys(r.run.nodes)))];
  const gpusPerNode = o.gpusPerNode(nodes);
  const peakBusyGpus = Math.max(0, ...normal.map((r) => r.busyGpus));
  const peakMemoryBytes = maxOf(normal.map((r) => r.memoryPeakBytes));
  const gpuMemoryBytes = maxOf(group.runs.map((r) => r.run.memoryTotalBytes));
  const utilizations = normal.flatMap((r) => r.gpuUtilization);
  const host = hostFigures(normal, o.gpusPerNode);
  const base: Recommendation = {
    job: group.id,
    user: group.user,
    runs: group.runs.length,
    normalRuns: normal.length,
    requestedGpus: latest?.gpus ?? 0,
    peakBusyGpus,
    gpusPerNode,
    ...(utilizations.length > 0 ? { medianGpuUtilization: median(utilizations), busiestGpuUtilization: Math.max(...utilizations) } : {}),
    ...(peakMemoryBytes === undefined ? {} : { peakMemoryBytes }),
    ...(gpuMemoryBytes === undefined ? {} : { gpuMemoryBytes }),
    ...host,
  };
  if (normal.length < o.minRuns) return { ...base, reason: `${normal.length} of ${o.minRuns} completed normal runs` };
  return {
    ...base,
    recommendedGpus: roundGpus(peakBusyGpus * (1 + o.gpuHeadroom / 100), gpusPerNode),
    ...(peakMemoryBytes === undefined ? {} : { recommendedMemoryGiB: roundMemoryGiB(peakMemoryBytes, o.headroom) }),
  };
}
