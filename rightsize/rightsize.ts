/**
 * `rightsize(options)`: the queries (queries.ts) against Prometheus, in parallel, then the pure
 * steps: runs (runs.ts) → recurring jobs (group.ts) → recommendations (recommend.ts).
 */
import type { LayoutNode } from '../src/config/layout.js';
import { formatDuration } from '../src/config/duration.js';
import type { Report } from './format.js';
import { groupRuns } from './group.js';
import { succeededJobs, type OpenPaiEndpoint } from './openpai.js';
import { instantVector, type PrometheusEndpoint } from './prometheus-client.js';
import { hostQueries, rightsizeQueries } from './queries.js';
import { recommend } from './recommend.js';
import { extractRuns, type QueryResults } from './runs.js';

export interface RightsizeOptions {
  prometheus: PrometheusEndpoint;
  /** Unix seconds: the end of the window. */
  at: number;
  lookbackSeconds: number;
  stepSeconds: number;
  runSuffix: string;
  minRuns: number;
  headroom: number;
  gpuHeadroom: number;
  busyQuantile: number;
  busyThreshold: number;
  minDurationRatio: number;
  /** For nodes not in `layout` (or without one). */
  gpusPerNode: number;
  /** The layouts' nodes, for each node's GPU count. */
  layout: readonly LayoutNode[];
  /** Also read host CPU and memory of the runs' nodes (two more queries). */
  host?: boolean;
  /** When set, completed normal runs are the jobs rest-server lists as SUCCEEDED. */
  openpai?: OpenPaiEndpoint;
}

export async function queryAll(o: RightsizeOptions): Promise<QueryResults> {
  const window = { lookbackSeconds: o.lookbackSeconds, stepSeconds: o.stepSeconds, busyQuantile: o.busyQuantile };
  const queries = Object.entries({ ...rightsizeQueries(window), ...(o.host ? hostQueries(window) : {}) });
  const vectors = await Promise.all(queries.map(([, query]) => instantVector(o.prometheus, query, o.at)));
  return Object.fromEntries(queries.map(([name], i) => [name, vectors[i] ?? []])) as QueryResults;
}

/** The most GPUs a node of `nodes` has per the layout; the fallback for nodes the layout lacks. */
export function gpusPerNodeOf(layout: readonly LayoutNode[], fallback: number): (nodes: readonly string[]) => number {
  const known = new Map(layout.filter((n) => n.expectedGpus > 0).flatMap((n) => [[n.hostname, n.expectedGpus] as const, [n.hostip, n.expectedGpus] as const]));
  return (nodes) => Math.max(...nodes.map((n) => known.get(n) ?? fallback), 1);
}

export function reportFrom(results: QueryResults, o: RightsizeOptions, states?: ReadonlyMap<string, string>): Report {
  const runs = extractRuns(results, o.busyThreshold);
  const groups = groupRuns(runs, o.runSuffix, { at: o.at, stepSeconds: o.stepSeconds, minDurationRatio: o.minDurationRatio, ...(states ? { states } : {}) });
  const gpusPerNode = gpusPerNodeOf(o.layout, o.gpusPerNode);
  return {
    at: new Date(o.at * 1000).toISOString(),
    lookback: formatDuration(o.lookbackSeconds * 1000),
    completion: states ? 'openpai' : 'series',
    recommendations: groups.map((g) => recommend(g, { minRuns: o.minRuns, headroom: o.headroom, gpuHeadroom: o.gpuHeadroom, gpusPerNode })),
  };
}

export async function rightsize(o: RightsizeOptions): Promise<Report> {
  const [results, states] = await Promise.all([queryAll(o), o.openpai ? succeededJobs(o.openpai) : undefined]);
  return reportFrom(results, o, states);
}
