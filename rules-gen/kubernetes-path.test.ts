/**
 * The Kubernetes path: series shaped as the generated ServiceMonitor makes the Prometheus Operator
 * scrape them (its relabelings applied to the targets' labels) keep every alert quiet on a healthy
 * cluster and page ExporterDown for a dead exporter; the ServiceMonitor agrees with the DaemonSet.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { generateRules } from './generate.js';
import { serviceMonitorFile } from './servicemonitor.js';
import { SMALL_LAYOUT, tempDirWith } from './testing/test-support.js';
import { runTimelines, series } from './testing/timeline-support.js';

const CONFIG = `clusters:\n  - {name: c1, layout: layout.yaml}\n`;
const DAEMONSET = new URL('../exporter/deploy/daemonset.yaml', import.meta.url).pathname;

interface Relabel {
  action: string;
  sourceLabels?: string[];
  targetLabel: string;
  regex?: string;
  replacement?: string;
}
interface Doc {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, any>;
}

async function manifests(): Promise<Doc[]> {
  const dir = await tempDirWith({ 'gpuwatch.yaml': CONFIG, 'layout.yaml': SMALL_LAYOUT });
  const text = generateRules(await loadConfig(join(dir, 'gpuwatch.yaml'))).get(serviceMonitorFile('c1'));
  expect(text, 'a generated ServiceMonitor for cluster c1').toBeDefined();
  return parseAllDocuments(text ?? '').map((d) => d.toJS() as Doc);
}

/** Prometheus' `replace` relabeling (the only action the generated ServiceMonitor uses). */
function relabel(labels: Record<string, string>, rules: Relabel[]): Record<string, string> {
  const out = { ...labels };
  for (const r of rules) {
    expect(r.action).toBe('replace');
    const value = (r.sourceLabels ?? []).map((l) => out[l] ?? '').join(';');
    const match = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).exec(value);
    if (!match) continue;
    const replaced = (r.replacement ?? '$1').replace(/\$(\d)/g, (_, i: string) => match[Number(i)] ?? '');
    if (replaced === '') delete out[r.targetLabel];
    else out[r.targetLabel] = replaced;
  }
  return out;
}

/** The labels the operator gives a target of the exporter's Service, before the endpoint's relabelings. */
const operatorTarget = (node: string, ip: string) => ({
  job: 'gpuwatch-exporter',
  namespace: 'monitoring',
  service: 'gpuwatch-exporter',
  endpoint: 'metrics',
  pod: `gpuwatch-exporter-${node}`,
  container: 'exporter',
  instance: `${ip}:9445`,
  __meta_kubernetes_pod_node_name: node,
});

const withoutMeta = (l: Record<string, string>) => Object.fromEntries(Object.entries(l).filter(([k]) => !k.startsWith('__')));

describe('the Kubernetes path', () => {
  it('labels series like the static scrape config: no false page on a healthy cluster, ExporterDown for a dead exporter', async () => {
    const docs = await manifests();
    const monitor = docs.find((d) => d.kind === 'ServiceMonitor' && d.metadata.name === 'gpuwatch-exporter');
    const endpoint = monitor?.spec.endpoints[0] as { honorLabels: boolean; relabelings: Relabel[]; metricRelabelings: Relabel[] };
    expect(endpoint.honorLabels).toBe(true);
    const scrape = (node: string, ip: string) => {
      const target = withoutMeta(relabel(operatorTarget(node, ip), endpoint.relabelings));
      const metric = (name: string, own: Record<string, string>) => series(name, relabel({ ...target, ...own }, endpoint.metricRelabelings));
      return {
        up: series('up', target),
        gpus: metric('gpuwatch_node_gpus', { node }),
        info: metric('gpuwatch_exporter_build_info', { node, version: '1.0.0', backend: 'nvml' }),
      };
    };
    const w0 = scrape('w0', '10.244.1.5');
    const w1 = scrape('w1', '10.244.2.7');
    const healthy = [w0, w1].flatMap((s) => [
      { series: s.up, values: '1x40' },
      { series: s.gpus, values: '8x40' },
      { series: s.info, values: '1x40' },
    ]);
    const quiet = ['ClusterGpusUnavailable', 'ExporterAbsent', 'ExporterDown', 'NodeGpusMissing'].map((alertname) => ({
      at: '30m',
      alertname,
      by: ['cluster', 'node'],
      firing: [],
    }));
    const { code, output } = await runTimelines({ 'gpuwatch.yaml': CONFIG, 'layout.yaml': SMALL_LAYOUT }, [
      { name: 'healthy cluster through the ServiceMonitor', series: healthy, checks: quiet },
      {
        name: 'the exporter on w0 stops answering',
        series: [{ series: w0.up, values: '0x40' }, ...[w1.up, w1.info].map((s) => ({ series: s, values: '1x40' })), { series: w1.gpus, values: '8x40' }],
        checks: [{ at: '30m', alertname: 'ExporterDown', by: ['cluster', 'node'], firing: [{ cluster: 'c1', node: 'w0' }] }],
      },
    ]);
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });

  it("selects the DaemonSet's pods on their metrics port, in the configured namespace", async () => {
    const docs = await manifests();
    const daemonset = parseAllDocuments(await readFile(DAEMONSET, 'utf8'))[0]?.toJS() as Doc;
    const service = docs.find((d) => d.kind === 'Service');
    const podLabels = daemonset.spec.template.metadata.labels as Record<string, string>;
    for (const [k, v] of Object.entries(service?.spec.selector as Record<string, string>)) expect(podLabels[k]).toBe(v);
    const portNames = (daemonset.spec.template.spec.containers as { ports: { name: string }[] }[]).flatMap((c) => c.ports.map((p) => p.name));
    expect(portNames).toContain(service?.spec.ports[0].targetPort);
    expect(docs.map((d) => d.metadata.namespace)).toEqual(docs.map(() => daemonset.metadata.namespace));
  });
});
