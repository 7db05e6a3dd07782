/**
 * Job: who owns it, when it started, which GPUs it holds and how well it uses them over time —
 * what a user or the on-call engineer needs before acting on a low-utilization alert.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { GPU_METRICS, JOB_METRICS } from '../src/catalog/metrics.js';
import type { LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { DASHBOARD_KEYS, finish, linkTo, newDashboard } from './base.js';
import { goodFrom, statPanel, tablePanel, timeseriesPanel, withSections, type Section } from './panels.js';
import { JOB_OWNER_COLUMNS } from './holders.js';
import { sel } from './promql.js';
import { DATE_UNIT, unitOf, units } from './units.js';
import { clusterVariable, jobVariable, userVariable, vcVariable } from './variables.js';

export function jobDashboard(loaded: LoadedConfig): dashboard.Dashboard {
  const scope = jobScope(loaded);
  const { cluster, vc, user, job } = scope;
  const builder = newDashboard({
    key: DASHBOARD_KEYS.job,
    title: 'gpuwatch / Job',
    description: "One job's owner, start time, GPUs and utilization over time.",
    from: 'now-24h',
    variables: [cluster, vc, user, job],
  });
  return finish(
    withSections(builder, [
      ['Job', jobPanels(scope)],
      ['Over time', overTimePanels(scope)],
      ['Jobs in the selection', selectionPanels(scope)],
    ]),
  );
}

/** What the rows of the dashboard share: its variables, matchers and panel makers. */
function jobScope(loaded: LoadedConfig) {
  const cluster = clusterVariable(loaded.clusters.map((c) => c.name));
  const vc = vcVariable(cluster);
  const user = userVariable(cluster, vc);
  const job = jobVariable(cluster, vc, user);
  const C = cluster.matcher;
  const J = job.matcher;
  const jobGpus = sel(RECORDING.jobGpus, C, J);
  const start = `min(${sel(JOB_METRICS.startTime.name, C, J)})`;
  const identity = (title: string, label: string) =>
    statPanel({
      title,
      description: `The job's ${label} label.`,
      unit: units.Short,
      queries: [{ expr: jobGpus, legend: `{{${label}}}` }],
      show: 'name',
      width: 4,
      height: 4,
    });

  return { cluster, vc, user, job, C, J, jobGpus, start, identity };
}

type JobScope = ReturnType<typeof jobScope>;

/** The "Job" row. */
function jobPanels({ C, J, jobGpus, start, identity }: JobScope): Section[1] {
  return [
    identity('Owner', 'user'),
    identity('VC', 'vc'),
    identity('Priority', 'priority'),
    statPanel({ title: 'GPUs held', description: 'GPUs the job holds now.', unit: units.Short, queries: [{ expr: jobGpus }], width: 4, height: 4 }),
    statPanel({
      title: 'Started',
      description: `${JOB_METRICS.startTime.help} Earliest over its nodes.`,
      unit: DATE_UNIT,
      // Grafana's date units take milliseconds.
      queries: [{ expr: `${start} * 1000` }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'Running for',
      description: 'Time since the job was first seen running.',
      unit: unitOf(JOB_METRICS.startTime),
      queries: [{ expr: `time() - ${start}` }],
      width: 4,
      height: 4,
    }),
    statPanel({
      title: 'Mean utilization over the range',
      description: "Time average of the job's mean GPU utilization over the dashboard's time range.",
      unit: units.PercentUnit,
      queries: [{ expr: `avg_over_time(${sel(RECORDING.jobUtilization, C, J)}[$__range])` }],
      width: 4,
      height: 4,
      colors: goodFrom(0.3),
    }),
    statPanel({
      title: 'Utilization now',
      description: "Mean utilization of the job's GPUs.",
      unit: units.PercentUnit,
      queries: [{ expr: sel(RECORDING.jobUtilization, C, J) }],
      width: 4,
      height: 4,
      colors: goodFrom(0.3),
    }),
    tablePanel({
      title: 'GPUs held',
      description: JOB_METRICS.allocated.help,
      queries: [{ expr: sel(JOB_METRICS.allocated.name, C, J) }],
      columns: [
        { field: 'node', header: 'Node', link: linkTo(DASHBOARD_KEYS.node, 'Node details', { node: '${__value.raw}' }) },
        { field: 'gpu', header: 'GPU', link: linkTo(DASHBOARD_KEYS.gpu, 'GPU details', { node: '${__data.fields.node}', gpu: '${__value.raw}' }) },
        { field: 'uuid', header: 'UUID' },
        { field: 'pod', header: 'Pod' },
        { field: 'namespace', header: 'Namespace' },
      ],
      width: 16,
      height: 4,
    }),
  ];
}

/** The "Over time" row. */
function overTimePanels({ C, J, jobGpus }: JobScope): Section[1] {
  return [
    timeseriesPanel({
      title: 'GPU utilization',
      description: "The job's mean and each of its GPUs.",
      unit: units.PercentUnit,
      queries: [
        { expr: sel(RECORDING.jobUtilization, C, J), legend: 'job mean' },
        { expr: sel(RECORDING.gpuUtilizationByJob, C, J), legend: '{{node}} GPU {{gpu}}' },
      ],
      width: 24,
      height: 9,
      min: 0,
      max: 1,
    }),
    timeseriesPanel({
      title: 'GPUs held',
      description: 'GPUs the job holds.',
      unit: units.Short,
      queries: [{ expr: jobGpus, legend: 'GPUs' }],
      width: 8,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: 'GPU memory used by the job',
      description: `${GPU_METRICS.processMemory.help} Summed per GPU.`,
      unit: unitOf(GPU_METRICS.processMemory),
      queries: [{ expr: `sum by (node, gpu) (${sel(GPU_METRICS.processMemory.name, C, J)})`, legend: '{{node}} GPU {{gpu}}' }],
      width: 8,
      height: 8,
      min: 0,
    }),
    timeseriesPanel({
      title: "Power of the job's GPUs",
      description: 'Board power of the GPUs the job holds, summed.',
      unit: unitOf(GPU_METRICS.powerUsage),
      queries: [
        {
          expr: `sum(${sel(GPU_METRICS.powerUsage.name, C)} * on (cluster, node, uuid) group_left () ${sel(JOB_METRICS.allocated.name, C, J)})`,
          legend: 'power',
        },
      ],
      width: 8,
      height: 8,
      min: 0,
    }),
  ];
}

/** The "Jobs in the selection" row. */
function selectionPanels({ vc, user, C }: JobScope): Section[1] {
  return [
    tablePanel({
      title: 'Jobs',
      description: 'Jobs of the selected VCs and users, lowest utilization first.',
      queries: [{ expr: `sort(${sel(RECORDING.jobUtilization, C, vc.matcher, user.matcher)})` }, { expr: sel(RECORDING.jobGpus, C, vc.matcher, user.matcher) }],
      columns: [
        ...JOB_OWNER_COLUMNS,
        { field: 'priority', header: 'Priority' },
        { field: 'Value #A', header: 'GPU utilization', unit: units.PercentUnit },
        { field: 'Value #B', header: 'GPUs' },
      ],
      width: 24,
      height: 10,
    }),
  ];
}
