/**
 * One ConfigMap holding every dashboard, labelled `grafana_dashboard: "1"` so Grafana's dashboard
 * sidecar (kiwigrid k8s-sidecar, as deployed by the Grafana and kube-prometheus-stack Helm charts)
 * loads them; the folder annotation puts them in a "gpuwatch" folder.
 */
import { stringify } from 'yaml';

export const CONFIGMAP_NAME = 'gpuwatch-dashboards';

/** `files` maps a data key (e.g. `gpuwatch-node.json`) to the dashboard JSON; keys are emitted sorted. */
export function dashboardsConfigMap(files: ReadonlyMap<string, string>, namespace: string): string {
  const data: Record<string, string> = {};
  for (const key of [...files.keys()].sort()) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`"${key}" is not a valid ConfigMap key`);
    data[key] = files.get(key)!;
  }
  const manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: CONFIGMAP_NAME,
      namespace,
      labels: {
        grafana_dashboard: '1',
        'app.kubernetes.io/name': 'gpuwatch',
        'app.kubernetes.io/component': 'dashboards',
      },
      annotations: { grafana_folder: 'gpuwatch' },
    },
    data,
  };
  return stringify(manifest, { lineWidth: 0, blockQuote: 'literal' });
}
