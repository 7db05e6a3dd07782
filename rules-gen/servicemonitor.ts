/**
 * kubernetes/<cluster>/servicemonitor.yaml: the Kubernetes path's scrape config, one file per
 * cluster (each cluster's Prometheus Operator gets its own). The exporter's headless Service (it
 * selects the pods of exporter/deploy/daemonset.yaml) and ServiceMonitors for the exporter, the
 * alert router and the rule service.
 *
 * The relabelings give the series the same labels as the static scrape config (scrape.ts): `cluster`
 * from the config, `job` = scrape.jobName on `up` (the operator's default would be the Service's
 * name), `node` from the pod's node; the metric relabeling leaves `job` to OpenPAI jobs.
 * Field names follow the monitoring.coreos.com/v1 ServiceMonitor CRD (RelabelConfig: sourceLabels,
 * targetLabel, regex, replacement, action).
 */
import type { ClusterConfig } from '../src/config/schema.js';
import type { GenContext } from './context.js';
import { ms } from './promql.js';
import { SERVICE_JOBS } from './scrape.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

export const EXPORTER_APP = 'gpuwatch-exporter';
export const EXPORTER_PORT_NAME = 'metrics';
const SERVICE_PORT_NAME = 'http';

export const serviceMonitorFile = (cluster: string) => `kubernetes/${cluster}/servicemonitor.yaml`;

function targetRelabelings(cluster: string, job: string) {
  return [
    { action: 'replace', targetLabel: 'cluster', replacement: cluster },
    { action: 'replace', targetLabel: 'job', replacement: job },
  ];
}

function metadata(ctx: GenContext, name: string) {
  const k8s = ctx.loaded.config.kubernetes;
  return { name, namespace: k8s.namespace, labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'gpuwatch', ...k8s.ruleLabels } };
}

function exporterService(ctx: GenContext, c: ClusterConfig) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...metadata(ctx, EXPORTER_APP), labels: { 'app.kubernetes.io/name': EXPORTER_APP } },
    spec: {
      clusterIP: 'None',
      selector: { 'app.kubernetes.io/name': EXPORTER_APP },
      ports: [{ name: EXPORTER_PORT_NAME, port: c.exporterPort, targetPort: EXPORTER_PORT_NAME }],
    },
  };
}

function exporterMonitor(ctx: GenContext, c: ClusterConfig) {
  const interval = ctx.loaded.config.exporter.interval;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadata(ctx, EXPORTER_APP),
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': EXPORTER_APP } },
      endpoints: [
        {
          port: EXPORTER_PORT_NAME,
          interval,
          scrapeTimeout: ms(interval) < 10_000 ? interval : '10s',
          honorLabels: true, // keep the exporter's own `node` and the OpenPAI `job` of attribution series
          relabelings: [
            ...targetRelabelings(c.name, ctx.scrapeJobName),
            { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' },
          ],
          metricRelabelings: [{ action: 'replace', sourceLabels: ['job'], regex: ctx.scrapeJobName, targetLabel: 'job', replacement: '' }],
        },
      ],
    },
  };
}

/** The router's or rule service's ServiceMonitor: a Service labelled app.kubernetes.io/name=<job> with a port named `http`. */
function serviceMonitor(ctx: GenContext, c: ClusterConfig, job: string) {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadata(ctx, job),
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': job } },
      endpoints: [{ port: SERVICE_PORT_NAME, honorLabels: true, relabelings: targetRelabelings(c.name, job) }],
    },
  };
}

export function serviceMonitorFiles(ctx: GenContext): [string, string][] {
  return ctx.loaded.config.clusters.map((c) => {
    const docs = [
      exporterService(ctx, c),
      exporterMonitor(ctx, c),
      serviceMonitor(ctx, c, SERVICE_JOBS.router),
      serviceMonitor(ctx, c, SERVICE_JOBS.ruleService),
    ];
    const text = docs.map((d, i) => yamlText(d, i === 0 ? `${GENERATED_HEADER}\nkubectl apply -f in cluster ${c.name}.` : undefined)).join('---\n');
    return [serviceMonitorFile(c.name), text];
  });
}
