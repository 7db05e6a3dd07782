/**
 * Grafana dashboards generated from gpuwatch.yaml and the metric catalog: a pure function from the
 * loaded config to file contents, written by `gpuwatch generate`.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { LoadedConfig } from '../src/config/load.js';
import { clusterOverviewDashboard } from './cluster-overview.js';
import { dashboardsConfigMap } from './configmap.js';
import { efficiencyDashboard } from './efficiency.js';
import { gpuDashboard } from './gpu.js';
import { jobDashboard } from './job.js';
import { nodeDashboard } from './node.js';
import { oncallDashboard } from './oncall.js';
import { stableJson, stableJsonCompact } from './stable-json.js';

/** Every dashboard, in the order they are listed. */
export function buildDashboards(loaded: LoadedConfig): dashboard.Dashboard[] {
  return [
    clusterOverviewDashboard(loaded),
    nodeDashboard(loaded),
    gpuDashboard(loaded),
    jobDashboard(loaded),
    efficiencyDashboard(loaded),
    oncallDashboard(loaded),
  ];
}

/**
 * Relative path → file text: `grafana/<uid>.json` for each dashboard and
 * `kubernetes/dashboards-configmap.yaml` with all of them. Same input, same bytes.
 */
export function generateDashboards(loaded: LoadedConfig): Map<string, string> {
  const files = new Map<string, string>();
  const configMapData = new Map<string, string>();
  for (const d of buildDashboards(loaded)) {
    files.set(`grafana/${d.uid}.json`, stableJson(d));
    // Compact in the ConfigMap: `kubectl apply` copies the object into a 256 KiB annotation.
    configMapData.set(`${d.uid}.json`, `${stableJsonCompact(d)}\n`);
  }
  files.set('kubernetes/dashboards-configmap.yaml', dashboardsConfigMap(configMapData, loaded.config.kubernetes.namespace));
  return files;
}
