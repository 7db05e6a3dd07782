/**
 * The VictoriaMetrics engine's self-checks (`scale: {engine: victoriametrics}`), which take the place
 * of the Prometheus self-checks in scale/rules/central.yml: vmalert failing rules, failing to notify
 * Alertmanager or to reload, a vmagent shard losing or piling up remote-write data, VictoriaMetrics
 * gone read-only (too little free disk: it rejects every new sample). They read the series of the
 * processes' own /metrics (VictoriaMetrics 1.79), which the generated vmagent scrape config scrapes
 * as jobs victoriametrics, vmalert and vmagent, and use the knobs of `prometheusSelfCheck`: the
 * checks of whatever evaluates the rules and stores the series.
 */
import { scaleSchema } from '../../src/config/scale.js';
import { alertRule } from '../alert-builder.js';
import { constant, eventCases, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { by, range } from '../promql.js';
import { reachable } from '../scrape.js';
import { scaleTopology, VM_ENGINE_JOBS } from '../scale/topology.js';
import { at, runOf, seriesText, stepsOf, values } from '../timeline.js';
import type { GeneratedAlert, PromtoolTest } from '../types.js';
import { selfChecks, selfCheckSpec, type SelfCheckPolicy, type SelfCheckServer } from './self-checks.js';

/** The first process of `role` in the configured topology (the default one without `scale:`), as its tests' scrape target. */
function serverOf(ctx: GenContext, role: keyof typeof VM_ENGINE_JOBS): SelfCheckServer {
  const scale = ctx.loaded.config.scale ?? scaleSchema.parse({ engine: 'victoriametrics' });
  const p = scaleTopology(ctx, scale).processes.find((x) => x.role === role);
  return { job: VM_ENGINE_JOBS[role], instance: reachable(p?.listen ?? '127.0.0.1:0') };
}

function vmalertChecks(ctx: GenContext, policy: SelfCheckPolicy): GeneratedAlert[] {
  const alertmanager = ctx.loaded.config.scale?.alertmanagers[0] ?? 'http://127.0.0.1:9093';
  return selfChecks(ctx, policy, serverOf(ctx, 'rules'), [
    {
      name: 'VmalertRuleEvaluationFailures',
      series: [
        { metric: 'vmalert_alerting_rules_error', extra: { alertname: 'GpuEccUncorrectable', group: 'gpuwatch-gpu-ecc', id: '1' } },
        { metric: 'vmalert_recording_rules_error', extra: { recording: 'gpuwatch:cluster_gpu_utilization:avg', group: 'gpuwatch-cluster', id: '2' } },
      ],
      kind: 'nonzero',
      by: ['group'],
      summary: 'vmalert fails to evaluate rules',
      description:
        'The last evaluation of rules of a group failed, and has kept failing: its alerts and recorded series are missing. The vmalert log and its /api/v1/rules name the rule and the error.',
    },
    {
      name: 'VmalertNotificationsFailing',
      series: [{ metric: 'vmalert_alerts_send_errors_total', extra: { addr: `${alertmanager.replace(/\/+$/, '')}/api/v2/alerts` } }],
      kind: 'counter',
      by: ['addr'],
      summary: 'vmalert cannot send alerts to an Alertmanager',
      description: (s) => `Sending alerts to ${s.label('addr')} failed in the last WINDOW, repeatedly: that Alertmanager does not get them.`,
    },
    {
      name: 'VmalertConfigReloadFailed',
      series: [{ metric: 'vmalert_config_last_reload_successful', extra: {} }],
      kind: 'zero',
      by: [],
      summary: 'vmalert failed to reload its rule files',
      description: 'The last reload of the rule files failed, so vmalert evaluates an older rule set.',
    },
  ]);
}

function victoriaMetricsChecks(ctx: GenContext, policy: SelfCheckPolicy): GeneratedAlert[] {
  return selfChecks(ctx, policy, serverOf(ctx, 'store'), [
    {
      name: 'VictoriaMetricsReadOnly',
      series: [{ metric: 'vm_storage_is_read_only', extra: { path: 'data/victoria-metrics' } }],
      kind: 'nonzero',
      by: [],
      summary: 'VictoriaMetrics is read-only and rejects new samples',
      description:
        'Free disk space under -storageDataPath fell below -storage.minFreeDiskSpaceBytes, so VictoriaMetrics stores no new samples: every series, alerts included, stops.',
    },
  ]);
}

const PENDING = 'vmagent_remotewrite_pending_data_bytes';
const DROPPED = 'vmagent_remotewrite_packets_dropped_total';

/**
 * A vmagent shard drops remote-write data (the store refused it), or its backlog grew over the
 * whole window without ever draining (the store is unreachable or too slow).
 */
function vmagentRemoteWriteFailing(ctx: GenContext, policy: SelfCheckPolicy): GeneratedAlert[] {
  if (!policy.enabled) return [];
  const key = by(['cluster', 'instance', 'url']);
  const w = range(policy.window);
  const expr =
    `(max ${key} (increase(${DROPPED}${w})) > 0)\n  or\n  (\n` +
    `    max ${key} (delta(${PENDING}${w})) > 0\n    and\n    min ${key} (min_over_time(${PENDING}${w})) > 0\n  )`;
  const spec = selfCheckSpec(
    ctx,
    policy,
    {
      name: 'VmagentRemoteWriteFailing',
      summary: 'vmagent fails to remote-write to VictoriaMetrics',
      description:
        'The shard dropped data the store refused in the last WINDOW, or its pending remote-write data grew over the whole WINDOW without draining: the store is down, unreachable or too slow, and the series of the nodes this shard scrapes are missing or late.',
    },
    expr,
  );
  return [{ rule: alertRule(ctx, spec), tests: remoteWriteCases(ctx, spec, policy) }];
}

function remoteWriteCases(ctx: GenContext, spec: ReturnType<typeof selfCheckSpec>, policy: SelfCheckPolicy): PromtoolTest[] {
  const server = serverOf(ctx, 'shard');
  const url = '1:secret-url';
  const labels = { cluster: ctx.monitoringCluster, instance: server.instance, url };
  const series = (metric: string, extra: Record<string, string> = {}) => seriesText(metric, { instance: server.instance, job: server.job, ...extra, url });
  const pending = series(PENDING, { path: 'data/vmagent-shard-0/persistent-queue/1_0123456789ABCDEF' });
  const forSteps = stepsOf(spec.for);
  const quietAt = forSteps + stepsOf(policy.window) + 2;
  const drainAt = 3;
  return [
    ...eventCases(ctx, spec, ' (dropped)', { series: series(DROPPED), labels, window: policy.window, appearsWithFirstEvent: false }),
    ...levelCases(ctx, spec, ' (backlog)', {
      series: [{ series: pending, bad: (start, count) => runOf(1000 * (start + 1), count, 1000), good: constant(0) }],
      labels,
      value: 0,
      delaySteps: 1,
    }),
    {
      name: `${spec.name} (backlog) stays quiet on a steady backlog`,
      inputSeries: [{ series: pending, values: values([runOf(5000, quietAt + 1)]) }],
      checks: [{ evalTime: at(quietAt), alertname: spec.name, alerts: [] }],
    },
    {
      // Growing since the drain for longer than for, but not for a whole window: not stuck.
      name: `${spec.name} (backlog) stays quiet for a window after the queue drained`,
      inputSeries: [{ series: pending, values: values([runOf(1000, drainAt, 1000), runOf(0, 1), runOf(1000, forSteps + 4, 1000)]) }],
      checks: [{ evalTime: at(drainAt + forSteps + 2), alertname: spec.name, alerts: [] }],
    },
  ];
}

/** Every check of the VictoriaMetrics engine, with `prometheusSelfCheck`'s enabled, window, for and severity. */
export function victoriaMetricsSelfCheck(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.prometheusSelfCheck;
  return [...vmalertChecks(ctx, policy), ...vmagentRemoteWriteFailing(ctx, policy), ...victoriaMetricsChecks(ctx, policy)];
}
