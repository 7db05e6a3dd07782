/**
 * VC and user efficiency: GPU-hours allocated versus GPU-hours used over the dashboard's range.
 *
 *   allocated GPU-hours = mean over the range of gpus_allocated(t)                  × range in hours
 *   used GPU-hours      = mean over the range of gpus_allocated(t) × utilization(t) × range in hours
 *   efficiency          = used / allocated
 *
 * The means run over 1-minute steps of the range, absent steps counting as 0 (see `gpuHours`);
 * gpus_allocated and utilization are the per-VC (`gpuwatch:vc_*`) or per-user (`gpuwatch:user_*`)
 * recording rules. Utilization is the GPU-weighted mean of the holder's GPUs, so allocated ×
 * utilization is GPUs' worth of kernel time: a GPU busy half the time counts as half a GPU-hour.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { DASHBOARD_KEYS, finish, linkTo, newDashboard } from './base.js';
import { goodFrom, statPanel, tablePanel, timeseriesPanel, type Column, withSections, type Section } from './panels.js';
import { JOB_OWNER_COLUMNS } from './holders.js';
import { recommendedVsRequested } from './rightsize-panel.js';
import { gpuHours, sel } from './promql.js';
import { GPU_HOURS_UNIT, units } from './units.js';
import { clusterVariable, userVariable, vcVariable, type TemplateVariable } from './variables.js';

const FORMULA =
  'GPU-hours = mean number of GPUs over 1-minute steps of the range (none = 0) × range in hours; used GPU-hours weight each step by utilization (0-1); efficiency = used / allocated.';

interface Holder {
  /** The label that names the holder: vc or user. */
  label: 'vc' | 'user';
  gpus: string;
  utilization: string;
}

/** Allocated and used GPU-hours, efficiency and idle GPU-hours, per holder, over the range. */
function holderHours(h: Holder, matchers: string[]): { allocated: string; used: string } {
  const gpus = sel(h.gpus, ...matchers);
  const busy = `${gpus} * on (cluster, ${h.label}) ${sel(h.utilization, ...matchers)}`;
  return { allocated: gpuHours(gpus, h.label), used: gpuHours(busy, h.label) };
}

function holderTable(title: string, h: Holder, matchers: string[], link?: Column['link']) {
  const { allocated, used } = holderHours(h, matchers);
  return tablePanel({
    title,
    description: FORMULA,
    queries: [{ expr: `sort_desc(${allocated})` }, { expr: used }, { expr: `(${used}) / (${allocated})` }, { expr: `(${allocated}) - (${used})` }],
    columns: [
      { field: h.label, header: h.label === 'vc' ? 'VC' : 'User', ...(link ? { link } : {}) },
      { field: 'Value #A', header: 'GPU-hours allocated', unit: GPU_HOURS_UNIT },
      { field: 'Value #B', header: 'GPU-hours used', unit: GPU_HOURS_UNIT },
      { field: 'Value #C', header: 'Efficiency', unit: units.PercentUnit },
      { field: 'Value #D', header: 'GPU-hours idle', unit: GPU_HOURS_UNIT },
    ],
    width: 12,
    height: 10,
  });
}

export function efficiencyDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = efficiencyScope(loaded);
  const { cluster, vc, user } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.efficiency,
    title: 'gpuwatch / VC and user efficiency',
    description: `GPU-hours allocated versus used, by VC and user. ${FORMULA}`,
    from: 'now-7d',
    variables: [cluster, vc, user],
  });
  return finish(
    withSections(builder, [
      ['Selected VCs over the range', selectionTotalsPanels(scope)],
      ['Over time', overTimePanels(scope)],
      ['Recommended vs requested', [recommendedVsRequested(loaded, scope.C, [vc.matcher, user.matcher])]],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function efficiencyScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const vc = vcVariable(cluster);
  const user = userVariable(cluster, vc);
  const C = cluster.matcher;
  const byVc: Holder = { label: 'vc', gpus: RECORDING.vcGpus, utilization: RECORDING.vcUtilization };
  const byUser: Holder = { label: 'user', gpus: RECORDING.userGpus, utilization: RECORDING.userUtilization };
  const selection = holderHours(byVc, [C, vc.matcher]);
  const total = { allocated: `sum(${selection.allocated})`, used: `sum(${selection.used})` };
  const available = gpuHours(sel(RECORDING.clusterGpusSeen, C));
  const stat = (title: string, description: string, unit: string, expr: string, good?: number) =>
    statPanel({ title, description, unit, queries: [{ expr }], width: 4, height: 4, ...(good === undefined ? {} : { colors: goodFrom(good) }) });

  return { cluster, vc, user, C, byVc, byUser, selection, total, available, stat };
}

type EfficiencyScope = ReturnType<typeof efficiencyScope>;

/** The "Selected VCs over the range" row. */
function selectionTotalsPanels({ vc, user, C, byVc, byUser, total, available, stat }: EfficiencyScope): Section[1] {
  return [
    stat('GPU-hours available', `GPU-hours of every GPU the exporters saw. ${FORMULA}`, GPU_HOURS_UNIT, available),
    stat('GPU-hours allocated', `GPU-hours held by jobs of the selected VCs. ${FORMULA}`, GPU_HOURS_UNIT, total.allocated),
    stat('GPU-hours used', `Allocated GPU-hours weighted by utilization. ${FORMULA}`, GPU_HOURS_UNIT, total.used),
    stat('GPU-hours idle', 'Allocated minus used GPU-hours.', GPU_HOURS_UNIT, `${total.allocated} - ${total.used}`),
    stat('Efficiency', 'Used over allocated GPU-hours.', units.PercentUnit, `${total.used} / ${total.allocated}`, 0.5),
    stat('Allocated share', 'Allocated GPU-hours of the selection over available GPU-hours.', units.PercentUnit, `${total.allocated} / ${available}`),
    holderTable('By VC', byVc, [C, vc.matcher], linkTo(DASHBOARD_KEYS.job, 'Jobs of this VC', { vc: '${__value.raw}' })),
    holderTable('By user', byUser, [C, user.matcher], linkTo(DASHBOARD_KEYS.job, "This user's jobs", { user: '${__value.raw}' })),
  ];
}

/** The "Over time" row. */
function overTimePanels({ vc, user, C }: EfficiencyScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'GPUs allocated and busy by VC',
      description: 'Busy = allocated × utilization: GPUs worth of kernel time.',
      unit: units.Short,
      queries: [
        { expr: sel(RECORDING.vcGpus, C, vc.matcher), legend: '{{vc}} allocated' },
        { expr: `${sel(RECORDING.vcGpus, C, vc.matcher)} * on (cluster, vc) ${sel(RECORDING.vcUtilization, C, vc.matcher)}`, legend: '{{vc}} busy' },
      ],
      width: 12,
      height: 9,
      min: 0,
    }),
    timeseriesPanel({
      title: 'GPU utilization by user',
      description: "Mean utilization of each selected user's GPUs.",
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.userUtilization, C, user.matcher), legend: '{{user}}' }],
      width: 12,
      height: 9,
      min: 0,
      max: 1,
    }),
    lowestJobs(C, vc, user),
  ];
}

function lowestJobs(C: string, vc: TemplateVariable, user: TemplateVariable) {
  const lowest = `bottomk(20, ${sel(RECORDING.jobUtilization, C, vc.matcher, user.matcher)})`;
  return tablePanel({
    title: 'Least efficient jobs now',
    description: 'The 20 running jobs of the selection with the lowest mean GPU utilization.',
    queries: [
      { expr: lowest },
      // Only the same 20 jobs, so the merged table has no rows without a utilization.
      { expr: `${sel(RECORDING.jobGpus, C, vc.matcher, user.matcher)} and on (cluster, job) ${lowest}` },
    ],
    columns: [...JOB_OWNER_COLUMNS, { field: 'Value #A', header: 'GPU utilization', unit: units.PercentUnit }, { field: 'Value #B', header: 'GPUs' }],
    width: 24,
    height: 10,
  });
}
