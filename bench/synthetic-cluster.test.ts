/**
 * The shared synthetic cluster's job model, read back from the series it generates: about 30% of the
 * GPUs in multi-GPU jobs, about 10% idle, every allocated GPU in exactly one job, and each job's
 * allocated series adding up to the GPU count it declares.
 */
import { describe, expect, it } from 'vitest';
import { jobSummary, syntheticSeries } from './synthetic-cluster.js';

const label = (labels: string, name: string) => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '';

/** Per job label: its allocated GPUs (node/uuid), from gpuwatch_job_gpu_allocated. */
function allocations(nodes: number, gpus: number): Map<string, string[]> {
  const byJob = new Map<string, string[]>();
  for (const s of syntheticSeries(nodes, gpus, 1_700_000_000)) {
    if (s.name !== 'gpuwatch_job_gpu_allocated') continue;
    const job = label(s.labels, 'job');
    byJob.set(job, [...(byJob.get(job) ?? []), `${label(s.labels, 'node')}/${label(s.labels, 'uuid')}`]);
  }
  return byJob;
}

describe.each([
  [1250, 8],
  [500, 8],
  [210, 8],
])('the job model on %i nodes × %i GPUs', (nodes, gpus) => {
  const byJob = allocations(nodes, gpus);
  const held = [...byJob.values()].flat();

  it('puts 25–35% of the GPUs in multi-GPU jobs and leaves about 10% idle', () => {
    const multi = [...byJob.values()].filter((g) => g.length > 1).flat().length;
    expect(multi / (nodes * gpus)).toBeGreaterThanOrEqual(0.25);
    expect(multi / (nodes * gpus)).toBeLessThanOrEqual(0.35);
    const idle = 1 - held.length / (nodes * gpus);
    expect(idle).toBeGreaterThan(0.05);
    expect(idle).toBeLessThan(0.15);
    const summary = jobSummary(nodes, gpus);
    expect(summary).toMatchObject({ gpus: nodes * gpus, allocated: held.length, inMultiGpuJobs: multi, jobs: byJob.size });
  });

  it('gives every allocated GPU exactly one job', () => {
    expect(new Set(held).size).toBe(held.length);
  });

  it('spans jobs of 2 GPUs, whole nodes and 2–4 nodes', () => {
    const nodesOf = (g: string[]) => new Set(g.map((x) => x.split('/')[0])).size;
    const sizes = new Set([...byJob.values()].map((g) => `${g.length}/${nodesOf(g)}`));
    for (const shape of ['1/1', '2/1', `${gpus}/1`, `${2 * gpus}/2`, `${4 * gpus}/4`]) expect(sizes).toContain(shape);
  });
});
