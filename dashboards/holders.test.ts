import { describe, expect, it } from 'vitest';
import { holdersTable } from './holders.js';

const build = (gpuColumn: boolean) =>
  holdersTable({ title: 'Held by', description: 'who holds it', on: ['cluster="$cluster"', 'node="$node"'], gpuColumn, height: 4 }).build();

const shownFields = (panel: ReturnType<typeof build>) => panel.transformations?.find((t) => t.id === 'filterFieldsByName')?.options.include.names as string[];

describe('holdersTable', () => {
  it('reads the allocation series of the selected GPUs', () => {
    const panel = build(false);
    expect(panel.targets?.map((t) => (t as { expr?: string }).expr)).toEqual(['gpuwatch_job_gpu_allocated{cluster="$cluster", node="$node"}']);
  });

  it('shows the GPU column only when asked, before the job and whose it is', () => {
    expect(shownFields(build(false))).toEqual(['job', 'user', 'vc', 'priority', 'pod']);
    expect(shownFields(build(true))).toEqual(['gpu', 'job', 'user', 'vc', 'priority', 'pod']);
  });
});
