/** Node alerts: not Ready in Kubernetes, file systems full (local and shared), memory pressure. */
import { NODE_METRICS } from '../../src/catalog/metrics.js';
import { alertRule, type AlertSpec } from '../alert-builder.js';
import { constant, levelCases } from '../cases.js';
import type { GenContext } from '../context.js';
import { anyOf, by, num, on, quote, selector, type Matcher } from '../promql.js';
import { RECORDING } from '../../src/catalog/recording-names.js';
import { seriesText } from '../timeline.js';
import type { GeneratedAlert } from '../types.js';
import { pickLabels, variantsOf } from '../variants.js';
import { nodeLabelsFor } from './gpu-labels.js';

const TIB = 2 ** 40;
const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

/**
 * kube-state-metrics series carry `cluster` only when their scrape adds it; without one they are
 * taken to be from the monitoring cluster (the one Prometheus runs in).
 */
function kubeSeries(ctx: GenContext, expr: string): string {
  return `label_replace(${expr}, "cluster", ${quote(ctx.monitoringCluster)}, "cluster", "")`;
}

/**
 * Nodes Kubernetes reports not Ready, matched by (cluster, node), leaving out cordoned nodes
 * (kube_node_spec_unschedulable: drained for maintenance, their downtime is planned). Also used by
 * the job alerts, which carry no node label for Alertmanager to inhibit them by.
 */
export function nodesNotReady(ctx: GenContext): string {
  const ready = selector('kube_node_status_condition', [
    { label: 'condition', op: '=', value: 'Ready' },
    { label: 'status', op: '=', value: 'true' },
  ]);
  const node = ['cluster', 'node'];
  return (
    `(max ${by(node)} (${kubeSeries(ctx, ready)}) == 0)` + ` unless ${on(node)} (max ${by(node)} (${kubeSeries(ctx, 'kube_node_spec_unschedulable')}) == 1)`
  );
}

/**
 * Kubernetes' own view (kube-state-metrics), matched to layout.yaml workers by cluster and node
 * name: it says the node is down even while its exporter still answers (kubelet dead), and it is
 * what inhibits that node's GPU alerts in Alertmanager. Without kube-state-metrics this alert never
 * fires and ExporterDown still covers an unreachable node.
 */
export function nodeDown(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.nodeDown;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const spec: AlertSpec = {
      name: 'NodeDown',
      expr: `${selector(RECORDING.layoutNodeGpus, v.matchers)}\nand ${on(['cluster', 'node'])}\n(${nodesNotReady(ctx)})`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Node ${s.label('node')} is not Ready`,
        description: (s) =>
          `Kubernetes has reported node ${s.label('node')} (cluster ${s.label('cluster')}) not Ready for ${v.for}${v.scope}, and it is not cordoned: ` +
          `its jobs are lost or stuck. Its GPU alerts are silenced while this fires.`,
      },
    };
    const cluster = pickLabels(v.matchers, { cluster: ctx.loaded.clusters.map((c) => c.name) })?.cluster;
    const target = cluster === undefined ? undefined : ctx.targetIn(cluster);
    const isWorker = target !== undefined && ctx.workers.some((w) => w.cluster === cluster && w.node === target.node);
    const kube =
      target &&
      seriesText('kube_node_status_condition', {
        cluster: target.cluster,
        node: target.node,
        condition: 'Ready',
        status: 'true',
        job: 'kube-state-metrics',
        instance: '10.96.0.20:8080',
      });
    const tests =
      cluster && target && kube && isWorker
        ? levelCases(ctx, spec, v.scope, {
            series: [{ series: kube, bad: constant(0), good: constant(1) }],
            labels: { cluster, node: target.node },
            value: target.expectedGpus,
          })
        : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}

/** An alternation of file system types; a trailing `*` matches any rest (`fuse.*` → `fuse\\..*`). */
function fsTypePattern(types: readonly string[]): string {
  return types.map((t) => (t.endsWith('*') ? `${anyOf([t.slice(0, -1)])}.*` : anyOf([t]))).join('|');
}

const FS_BY = ['cluster', 'node', 'mountpoint', 'fstype', 'device'];
const SHARED_BY = ['cluster', 'mountpoint', 'fstype', 'device'];

/** One alert per node for local file systems; one per cluster for a shared one (every node mounts it). */
export function diskFull(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.diskFull;
  if (!policy.enabled) return [];
  const shared = fsTypePattern(policy.sharedFsTypes);
  return variantsOf(policy).flatMap((v) =>
    (['local', 'shared'] as const).map((kind) => {
      const m: Matcher[] = [{ label: 'fstype', op: kind === 'local' ? '!~' : '=~', value: shared }, ...v.matchers];
      const labels = kind === 'local' ? FS_BY : SHARED_BY;
      const usedShare = `1 - (\n  max ${by(labels)} (${selector(NODE_METRICS.filesystemAvailable.name, m)})\n  / max ${by(labels)} (${selector(NODE_METRICS.filesystemSize.name, m)})\n)`;
      const spec: AlertSpec = {
        name: kind === 'local' ? 'NodeDiskFull' : 'SharedFilesystemFull',
        expr: `${usedShare} > ${num(v.threshold)}`,
        for: v.for,
        severity: v.severity,
        ruleLabels: v.labels,
        text:
          kind === 'local'
            ? {
                summary: (s) => `${s.label('mountpoint')} on ${s.label('node')} is ${s.percent} full`,
                description: (s) =>
                  `File system ${s.label('mountpoint')} (${s.label('device')}, ${s.label('fstype')}) on node ${s.label('node')} in cluster ${s.label('cluster')} ` +
                  `is ${s.percent} full, above ${percent(v.threshold)}${v.scope}. Jobs on the node fail when they cannot write.`,
              }
            : {
                summary: (s) => `Shared file system ${s.label('mountpoint')} of cluster ${s.label('cluster')} is ${s.percent} full`,
                description: (s) =>
                  `The shared file system ${s.label('device')} (${s.label('fstype')}, mounted at ${s.label('mountpoint')}) of cluster ${s.label('cluster')} ` +
                  `is ${s.percent} full, above ${percent(v.threshold)}${v.scope}. Every job that writes checkpoints or logs there fails.`,
              },
      };
      return {
        rule: alertRule(ctx, spec),
        tests: diskTests(ctx, spec, v.matchers, v.threshold, v.scope, kind, policy.sharedFsTypes.find((t) => !t.endsWith('*')) ?? 'nfs4'),
      };
    }),
  );
}

function diskTests(ctx: GenContext, spec: AlertSpec, matchers: Matcher[], threshold: number, scope: string, kind: 'local' | 'shared', sharedType: string) {
  const n = nodeLabelsFor(ctx, matchers);
  if (!n) return [];
  const fs =
    kind === 'local'
      ? { mountpoint: '/', fstype: 'ext4', device: '/dev/nvme0n1p2' }
      : { mountpoint: '/mnt/data', fstype: sharedType, device: 'nfs-server:/export/data' };
  const fullAvailable = Math.floor((TIB * (1 - threshold)) / 2);
  const okAvailable = Math.floor(TIB * Math.min(1, 2 * (1 - threshold)));
  const nodes = kind === 'local' ? [n.target] : [n.target, { node: `${n.target.node}-peer`, instance: '192.0.2.2:9445' }];
  const series = nodes.flatMap((t) => {
    const l = { cluster: n.labels.cluster, node: t.node, instance: t.instance, ...fs };
    return [
      { series: seriesText(NODE_METRICS.filesystemSize.name, l), bad: constant(TIB), good: constant(TIB) },
      { series: seriesText(NODE_METRICS.filesystemAvailable.name, l), bad: constant(fullAvailable), good: constant(okAvailable) },
    ];
  });
  const labels = kind === 'local' ? { ...n.labels, ...fs } : { cluster: n.labels.cluster, ...fs };
  return levelCases(ctx, spec, scope, { series, labels, value: 1 - fullAvailable / TIB });
}

export function memoryPressure(ctx: GenContext): GeneratedAlert[] {
  const policy = ctx.policies.memoryPressure;
  if (!policy.enabled) return [];
  return variantsOf(policy).map((v) => {
    const node = ['cluster', 'node'];
    const spec: AlertSpec = {
      name: 'NodeMemoryPressure',
      expr:
        `1 - (\n  max ${by(node)} (${selector(NODE_METRICS.memoryAvailable.name, v.matchers)})\n` +
        `  / max ${by(node)} (${selector(NODE_METRICS.memoryTotal.name, v.matchers)})\n) > ${num(v.threshold)}`,
      for: v.for,
      severity: v.severity,
      ruleLabels: v.labels,
      text: {
        summary: (s) => `Node ${s.label('node')} has used ${s.percent} of its memory`,
        description: (s) =>
          `Node ${s.label('node')} in cluster ${s.label('cluster')} has ${s.percent} of its memory in use, above ${percent(v.threshold)}${v.scope}. ` +
          `The kernel's OOM killer will soon end job processes.`,
      },
    };
    const n = nodeLabelsFor(ctx, v.matchers);
    const total = 2 * TIB;
    const tight = Math.floor((total * (1 - v.threshold)) / 2);
    const roomy = Math.floor(total * Math.min(1, 2 * (1 - v.threshold)));
    const tests = n
      ? levelCases(ctx, spec, v.scope, {
          series: [
            { series: seriesText(NODE_METRICS.memoryTotal.name, n.withInstance), bad: constant(total), good: constant(total) },
            { series: seriesText(NODE_METRICS.memoryAvailable.name, n.withInstance), bad: constant(tight), good: constant(roomy) },
          ],
          labels: n.labels,
          value: 1 - tight / total,
        })
      : [];
    return { rule: alertRule(ctx, spec), tests };
  });
}
