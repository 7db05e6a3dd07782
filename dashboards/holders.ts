/** Which job holds a GPU: the job columns every job table shows, and the "held by" table of a node or a GPU. */
import type * as table from '@grafana/grafana-foundation-sdk/table';
import { JOB_METRICS } from '../src/catalog/metrics.js';
import { DASHBOARD_KEYS, linkTo } from './base.js';
import { tablePanel, type Column } from './panels.js';
import { sel } from './promql.js';

/** The job's name, linked to its dashboard. */
export const JOB_COLUMN: Column = { field: 'job', header: 'Job', link: linkTo(DASHBOARD_KEYS.job, 'Job details', { job: '${__value.raw}' }) };

/** The job, then whose it is: user and VC. */
export const JOB_OWNER_COLUMNS: readonly Column[] = [JOB_COLUMN, { field: 'user', header: 'User' }, { field: 'vc', header: 'VC' }];

const GPU_COLUMN: Column = { field: 'gpu', header: 'GPU', link: linkTo(DASHBOARD_KEYS.gpu, 'GPU details', { node: '$node', gpu: '${__value.raw}' }) };

export interface HoldersSpec {
  title: string;
  description: string;
  /** Matchers of the GPUs shown, e.g. cluster, node (and gpu). */
  on: readonly string[];
  /** A GPU column (linked to the GPU dashboard), for tables of several GPUs. */
  gpuColumn: boolean;
  height: number;
}

/** One row per (GPU, job) holding it, from the allocation series. */
export function holdersTable(spec: HoldersSpec): table.PanelBuilder {
  return tablePanel({
    title: spec.title,
    description: spec.description,
    queries: [{ expr: sel(JOB_METRICS.allocated.name, ...spec.on) }],
    columns: [...(spec.gpuColumn ? [GPU_COLUMN] : []), ...JOB_OWNER_COLUMNS, { field: 'priority', header: 'Priority' }, { field: 'pod', header: 'Pod' }],
    width: 12,
    height: spec.height,
  });
}
