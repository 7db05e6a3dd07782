/**
 * Synthetic history for rightsize's tests and benchmark: job runs on GPUs, written as OpenMetrics
 * for `promtool tsdb create-blocks-from openmetrics`. Each GPU reports utilization, memory used and
 * memory total every `stepSeconds` from `from` to `to` (0 and 0 bytes while no run holds it); each
 * run has `gpuwatch_job_gpu_allocated` on each of its GPUs from its start to its end.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { GPU_METRICS, JOB_METRICS, NODE_METRICS } from '../../src/catalog/metrics.js';

export interface GpuRef {
  node: string;
  gpu: number;
  uuid: string;
}

export interface RunSpec {
  /** `user~name`. */
  job: string;
  user: string;
  gpus: GpuRef[];
  /** Unix seconds, inclusive. */
  start: number;
  end: number;
  /** Utilization (0–1) and memory used (bytes) of the run's i-th GPU at time t. */
  utilization(i: number, t: number): number;
  memory(i: number, t: number): number;
}

export interface History {
  from: number;
  to: number;
  stepSeconds: number;
  gpus: (GpuRef & { totalBytes: number })[];
  runs: RunSpec[];
  /** Host series of some nodes: memory in total and used, CPU utilization (0–1) at time t. */
  hosts?: { node: string; totalBytes: number; used(t: number): number; cpu(t: number): number }[];
}

const gpuLabels = (g: GpuRef) => `node="${g.node}",gpu="${g.gpu}",uuid="${g.uuid}"`;

/** Writes the history; resolves with the number of samples. */
export async function writeOpenMetrics(path: string, h: History): Promise<number> {
  const out = createWriteStream(path);
  let samples = 0;
  let buffer: string[] = [];
  const emit = async (line: string) => {
    buffer.push(line);
    samples++;
    if (buffer.length >= 10_000) await flush();
  };
  const flush = async () => {
    if (!out.write(`${buffer.join('\n')}\n`)) await once(out, 'drain');
    buffer = [];
  };
  const holders = holdersByGpu(h);
  const families: [string, (g: History['gpus'][number], t: number) => number][] = [
    [GPU_METRICS.utilization.name, (g, t) => reading(holders, g, t, 'utilization')],
    [GPU_METRICS.memoryUsed.name, (g, t) => reading(holders, g, t, 'memory')],
    [GPU_METRICS.memoryTotal.name, (g) => g.totalBytes],
  ];
  for (const [name, value] of families) {
    buffer.push(`# TYPE ${name} gauge`);
    for (const g of h.gpus) for (let t = h.from; t <= h.to; t += h.stepSeconds) await emit(`${name}{${gpuLabels(g)}} ${value(g, t)} ${t}`);
  }
  buffer.push(`# TYPE ${JOB_METRICS.allocated.name} gauge`);
  for (const run of h.runs) {
    for (const g of run.gpus) {
      const labels = `${gpuLabels(g)},job="${run.job}",user="${run.user}",vc="default",priority="test"`;
      for (let t = run.start; t <= run.end; t += h.stepSeconds) await emit(`${JOB_METRICS.allocated.name}{${labels}} 1 ${t}`);
    }
  }
  const hosts: [string, (h: NonNullable<History['hosts']>[number], t: number) => number][] = [
    [NODE_METRICS.memoryTotal.name, (host) => host.totalBytes],
    [NODE_METRICS.memoryAvailable.name, (host, t) => host.totalBytes - host.used(t)],
    [NODE_METRICS.cpuUtilization.name, (host, t) => host.cpu(t)],
  ];
  for (const [name, value] of hosts) {
    if (!h.hosts?.length) break;
    buffer.push(`# TYPE ${name} gauge`);
    for (const host of h.hosts) for (let t = h.from; t <= h.to; t += h.stepSeconds) await emit(`${name}{node="${host.node}"} ${value(host, t)} ${t}`);
  }
  buffer.push('# EOF');
  await flush();
  out.end();
  await once(out, 'finish');
  return samples;
}

type Holders = Map<string, { run: RunSpec; index: number }[]>;

function holdersByGpu(h: History): Holders {
  const holders: Holders = new Map();
  for (const run of h.runs) run.gpus.forEach((g, index) => holders.set(g.uuid, [...(holders.get(g.uuid) ?? []), { run, index }]));
  return holders;
}

function reading(holders: Holders, g: GpuRef, t: number, what: 'utilization' | 'memory'): number {
  const holder = holders.get(g.uuid)?.find(({ run }) => run.start <= t && t <= run.end);
  if (!holder) return 0;
  return what === 'utilization' ? holder.run.utilization(holder.index, t) : holder.run.memory(holder.index, t);
}
