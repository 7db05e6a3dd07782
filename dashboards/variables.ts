/**
 * Template variables shared by the dashboards. The cluster list comes from gpuwatch.yaml (the
 * dashboards are regenerated when it changes); the others are `label_values` queries chained by
 * cluster, so a node, VC, user or job list only holds what that cluster reports.
 *
 * Each variable also knows the matcher that filters by it: single-valued ones match exactly (a job
 * id like `alice~train.v2` must not be read as a regex), multi-valued ones match the regex Grafana
 * builds from the selection.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { GPU_METRICS, NODE_METRICS } from '../src/catalog/metrics.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { DATASOURCE } from './panels.js';

export interface TemplateVariable {
  name: string;
  /** The PromQL matcher that filters a selector by this variable, e.g. `node="$node"`. */
  matcher: string;
  builder: cog.Builder<dashboard.VariableModel>;
}

/** The Prometheus data source the dashboards query; every panel refers to it as `${datasource}`. */
export function datasourceVariable(): cog.Builder<dashboard.VariableModel> {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

/** The clusters of gpuwatch.yaml, the first one selected. `multi` adds "All" (on-call spans clusters). */
export function clusterVariable(clusterNames: readonly string[], multi = false): TemplateVariable {
  const first = clusterNames[0] ?? '';
  const builder = new dashboard.CustomVariableBuilder('cluster')
    .label('Cluster')
    .values(clusterNames.join(','))
    .options(clusterNames.map((name) => ({ text: name, value: name, selected: name === first })))
    .current(multi ? { text: ['All'], value: ['$__all'] } : { text: first, value: first })
    .multi(multi)
    .includeAll(multi)
    .allowCustomValue(false);
  return { name: 'cluster', matcher: multi ? 'cluster=~"$cluster"' : 'cluster="$cluster"', builder };
}

interface LabelVariableSpec {
  name: string;
  label: string;
  /** The selector whose label values fill the list. */
  selector: string;
  multi: boolean;
}

function labelValuesVariable(spec: LabelVariableSpec): TemplateVariable {
  const query = `label_values(${spec.selector}, ${spec.name})`;
  const builder = new dashboard.QueryVariableBuilder(spec.name)
    .label(spec.label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.NaturalAsc)
    .multi(spec.multi)
    .includeAll(spec.multi);
  if (spec.multi) builder.allValue('.*').current({ text: ['All'], value: ['$__all'] });
  const matcher = spec.multi ? `${spec.name}=~"$${spec.name}"` : `${spec.name}="$${spec.name}"`;
  return { name: spec.name, matcher, builder };
}

export function nodeVariable(cluster: TemplateVariable): TemplateVariable {
  return labelValuesVariable({ name: 'node', label: 'Node', selector: `${NODE_METRICS.gpus.name}{${cluster.matcher}}`, multi: false });
}

export function gpuVariable(cluster: TemplateVariable, node: TemplateVariable): TemplateVariable {
  return labelValuesVariable({
    name: 'gpu',
    label: 'GPU',
    selector: `${GPU_METRICS.info.name}{${cluster.matcher}, ${node.matcher}}`,
    multi: false,
  });
}

export function vcVariable(cluster: TemplateVariable): TemplateVariable {
  return labelValuesVariable({ name: 'vc', label: 'VC', selector: `${RECORDING.vcGpus}{${cluster.matcher}}`, multi: true });
}

/** Users of the selected VCs (from the per-job rule, which carries both labels). */
export function userVariable(cluster: TemplateVariable, vc: TemplateVariable): TemplateVariable {
  return labelValuesVariable({
    name: 'user',
    label: 'User',
    selector: `${RECORDING.jobGpus}{${cluster.matcher}, ${vc.matcher}}`,
    multi: true,
  });
}

export function jobVariable(cluster: TemplateVariable, vc: TemplateVariable, user: TemplateVariable): TemplateVariable {
  return labelValuesVariable({
    name: 'job',
    label: 'Job',
    selector: `${RECORDING.jobGpus}{${cluster.matcher}, ${vc.matcher}, ${user.matcher}}`,
    multi: false,
  });
}
