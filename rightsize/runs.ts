/** Query results (one vector per query, see queries.ts) → one record per job run. Pure. */
import type { HostQueryName, QueryName } from './queries.js';

/** One sample of an instant vector: its labels and value. */
export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

export interface Run {
  /** The OpenPAI job id, `user~name`. */
  job: string;
  user: string;
  /** Distinct GPUs the run held, and on which nodes (node → GPUs). */
  gpus: number;
  nodes: Record<string, number>;
  /** GPUs whose utilization quantile over the run reached the busy threshold. */
  busyGpus: number;
  /** Each GPU's utilization quantile (busyQuantile) over the run, 0–1, ascending. */
  gpuUtilization: number[];
  /** Peak memory used on any one GPU of the run, bytes. */
  memoryPeakBytes?: number;
  /** Memory of the run's largest GPU, bytes. */
  memoryTotalBytes?: number;
  /** With --host: per node, its host memory peak (bytes) and CPU quantile (busyQuantile, 0–1) while the run was there. */
  host?: Record<string, { memoryPeakBytes?: number; cpu?: number }>;
  /** Unix seconds of the run's first and last allocation sample. */
  start: number;
  end: number;
}

export type QueryResults = Record<QueryName, VectorSample[]> & Partial<Record<HostQueryName, VectorSample[]>>;

const runKey = (l: Record<string, string>) => `${l.user ?? ''}\u0000${l.job ?? ''}`;

function byRun(samples: VectorSample[]): Map<string, number> {
  return new Map(samples.map((s) => [runKey(s.labels), s.value]));
}

const finite = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? undefined : v);

/** Per (run, node, uuid): the highest value of its series (one GPU may have several allocation series). */
function perGpu(samples: VectorSample[]): Map<string, { run: string; value: number }> {
  const found = new Map<string, { run: string; value: number }>();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    const run = runKey(s.labels);
    const key = `${run}\u0000${s.labels.node ?? ''}\u0000${s.labels.uuid ?? ''}`;
    found.set(key, { run, value: Math.max(found.get(key)?.value ?? -Infinity, s.value) });
  }
  return found;
}

function addHost(runs: Map<string, Run>, samples: VectorSample[] | undefined, field: 'memoryPeakBytes' | 'cpu'): void {
  for (const s of samples ?? []) {
    const run = runs.get(runKey(s.labels));
    if (!run || !Number.isFinite(s.value)) continue;
    const node = s.labels.node ?? '';
    run.host = { ...run.host, [node]: { ...run.host?.[node], [field]: s.value } };
  }
}

/** Runs seen in the allocation results, with every other reading joined on (job, user). */
export function extractRuns(results: QueryResults, busyThreshold: number): Run[] {
  const runs = new Map<string, Run>();
  for (const s of results.allocated) {
    const { job, user, node } = s.labels;
    if (!job || user === undefined) continue;
    const key = runKey(s.labels);
    const run: Run = runs.get(key) ?? { job, user, gpus: 0, nodes: {}, busyGpus: 0, gpuUtilization: [], start: NaN, end: NaN };
    run.nodes[node ?? ''] = (run.nodes[node ?? ''] ?? 0) + s.value;
    run.gpus += s.value;
    runs.set(key, run);
  }
  for (const { run: key, value } of perGpu(results.busiest).values()) {
    const run = runs.get(key);
    if (!run) continue;
    if (value >= busyThreshold) run.busyGpus += 1;
    run.gpuUtilization.push(value);
  }
  for (const run of runs.values()) run.gpuUtilization.sort((a, b) => a - b);
  const [peak, total, start, end] = (['memoryPeak', 'memoryTotal', 'start', 'end'] as const).map((q) => byRun(results[q]));
  for (const [key, run] of runs) {
    const extra = {
      memoryPeakBytes: finite(peak?.get(key)),
      memoryTotalBytes: finite(total?.get(key)),
    };
    for (const [field, value] of Object.entries(extra)) if (value !== undefined) Object.assign(run, { [field]: value });
    run.start = start?.get(key) ?? NaN;
    run.end = end?.get(key) ?? NaN;
  }
  addHost(runs, results.hostMemoryPeak, 'memoryPeakBytes');
  addHost(runs, results.hostCpu, 'cpu');
  return [...runs.values()].filter((r) => Number.isFinite(r.start) && Number.isFinite(r.end));
}
