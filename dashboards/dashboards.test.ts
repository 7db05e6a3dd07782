import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CATALOG, findMetric, type MetricDef } from '../src/catalog/metrics.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { generateDashboards } from './index.js';
import { allPanels, dashboardQueries } from './testing/inspect.js';
import { grafanaMetricNamesIn, grafanaSelectorsIn, variableQueryLabel, variableQueryPromql } from './testing/grafana-promql.js';
import { unitOf } from './units.js';

const EXAMPLE = new URL('../examples/gpuwatch.yaml', import.meta.url).pathname;

/** Series a dashboard may select besides the catalog and the recording rules. */
const STANDARD_SERIES = ['up', 'ALERTS'];
/** Labels Prometheus or the scrape config add to every catalog series. */
const TARGET_LABELS = ['cluster', 'instance'];

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
const ALLOWED_NAMES = new Set([
  ...CATALOG.flatMap((m) => (m.type === 'histogram' ? HISTOGRAM_SUFFIXES.map((s) => m.name + s) : [m.name])),
  ...Object.values(RECORDING),
  ...STANDARD_SERIES,
]);

/** The catalog metric a (possibly histogram-suffixed) series name belongs to. */
function catalogMetricOf(series: string): { metric: MetricDef; extraLabels: string[] } | undefined {
  const direct = findMetric(series);
  if (direct && direct.type !== 'histogram') return { metric: direct, extraLabels: [] };
  for (const suffix of HISTOGRAM_SUFFIXES) {
    const base = series.endsWith(suffix) ? findMetric(series.slice(0, -suffix.length)) : undefined;
    if (base?.type === 'histogram') return { metric: base, extraLabels: suffix === '_bucket' ? ['le'] : [] };
  }
  return undefined;
}

/**
 * Key lists typed against the SDK's own interfaces: `satisfies Record<keyof T, true>` makes the
 * compiler reject a missing or an extra key, so the runtime checks below follow the SDK's types.
 */
const DASHBOARD_KEYS = {
  id: true,
  uid: true,
  title: true,
  description: true,
  revision: true,
  gnetId: true,
  tags: true,
  timezone: true,
  editable: true,
  graphTooltip: true,
  time: true,
  timepicker: true,
  fiscalYearStartMonth: true,
  liveNow: true,
  weekStart: true,
  refresh: true,
  schemaVersion: true,
  version: true,
  panels: true,
  templating: true,
  annotations: true,
  links: true,
  snapshot: true,
  preload: true,
} satisfies Record<keyof dashboard.Dashboard, true>;
const PANEL_KEYS = {
  type: true,
  id: true,
  pluginVersion: true,
  targets: true,
  title: true,
  description: true,
  transparent: true,
  datasource: true,
  gridPos: true,
  links: true,
  repeat: true,
  repeatDirection: true,
  maxPerRow: true,
  maxDataPoints: true,
  transformations: true,
  interval: true,
  timeFrom: true,
  timeShift: true,
  hideTimeOverride: true,
  timeCompare: true,
  libraryPanel: true,
  cacheTimeout: true,
  queryCachingTTL: true,
  options: true,
  fieldConfig: true,
} satisfies Record<keyof dashboard.Panel, true>;
const ROW_KEYS = {
  type: true,
  collapsed: true,
  title: true,
  datasource: true,
  gridPos: true,
  id: true,
  panels: true,
  repeat: true,
} satisfies Record<keyof dashboard.RowPanel, true>;
const VARIABLE_KEYS = {
  type: true,
  name: true,
  label: true,
  hide: true,
  skipUrlSync: true,
  description: true,
  query: true,
  datasource: true,
  current: true,
  multi: true,
  allowCustomValue: true,
  options: true,
  refresh: true,
  sort: true,
  includeAll: true,
  allValue: true,
  regex: true,
  staticOptions: true,
  staticOptionsOrder: true,
  auto: true,
  auto_min: true,
  auto_count: true,
  definition: true,
} satisfies Record<keyof dashboard.VariableModel, true>;
const TARGET_KEYS = {
  adhocFilters: true,
  datasource: true,
  editorMode: true,
  exemplar: true,
  expr: true,
  format: true,
  groupByKeys: true,
  hide: true,
  instant: true,
  intervalFactor: true,
  intervalMs: true,
  legendFormat: true,
  maxDataPoints: true,
  queryType: true,
  range: true,
  refId: true,
  resultAssertions: true,
  scopes: true,
  timeRange: true,
  interval: true,
} satisfies Record<Exclude<keyof prometheus.Dataquery, '_implementsDataqueryVariant'>, true>;

function unknownKeys(value: object, known: object): string[] {
  return Object.keys(value).filter((k) => !(k in known));
}

const EXPECTED: Record<string, { variables: string[]; panels: string[] }> = {
  'gpuwatch-cluster-overview': {
    variables: ['datasource', 'cluster'],
    panels: ['GPUs expected', 'GPUs seen', 'GPUs missing', 'GPUs allocated', 'GPU utilization by VC', 'Active GPU health alerts'],
  },
  'gpuwatch-node': {
    variables: ['datasource', 'cluster', 'node'],
    panels: ['GPU utilization', 'GPU memory used', 'Temperature', 'Power', 'Clock events (throttling)', 'ECC errors', 'Jobs on this node'],
  },
  'gpuwatch-gpu': {
    variables: ['datasource', 'cluster', 'node', 'gpu'],
    panels: ['Device', 'Held by', 'Utilization', 'Memory', 'Temperature', 'Power', 'Clocks', 'ECC error counters', 'XID errors'],
  },
  'gpuwatch-job': {
    variables: ['datasource', 'cluster', 'vc', 'user', 'job'],
    panels: ['Owner', 'Started', 'Running for', 'GPUs held', 'GPU utilization'],
  },
  'gpuwatch-efficiency': {
    variables: ['datasource', 'cluster', 'vc', 'user'],
    panels: ['GPU-hours allocated', 'GPU-hours used', 'Efficiency', 'By VC', 'By user'],
  },
  'gpuwatch-oncall': {
    variables: ['datasource', 'cluster'],
    panels: ['Open incidents', 'Median time to acknowledge', 'Acknowledged within SLA', 'SLA deadlines missed', 'Escalations'],
  },
};

let files: Map<string, string>;
let dashboards: dashboard.Dashboard[];

beforeAll(async () => {
  files = generateDashboards(await loadConfig(EXAMPLE));
  dashboards = [...files].filter(([path]) => path.startsWith('grafana/')).map(([, text]) => JSON.parse(text) as dashboard.Dashboard);
});

function byUid(uid: string): dashboard.Dashboard {
  const d = dashboards.find((x) => x.uid === uid);
  if (!d) throw new Error(`no dashboard ${uid}`);
  return d;
}

function panel(d: dashboard.Dashboard, title: string): dashboard.Panel {
  const p = allPanels(d).find((x) => x.title === title);
  if (!p) throw new Error(`${d.uid} has no panel "${title}"`);
  return p;
}

function exprs(p: dashboard.Panel): string[] {
  return (p.targets ?? []).map((t) => (t as prometheus.Dataquery).expr);
}

describe('generated files', () => {
  it('writes one grafana/<uid>.json per dashboard and the ConfigMap', () => {
    expect([...files.keys()].sort()).toEqual([
      ...Object.keys(EXPECTED)
        .map((uid) => `grafana/${uid}.json`)
        .sort(),
      'kubernetes/dashboards-configmap.yaml',
    ]);
    for (const d of dashboards) expect(files.has(`grafana/${d.uid}.json`)).toBe(true);
  });

  it('gives every dashboard its variables (data source first) and its panels', () => {
    for (const [uid, want] of Object.entries(EXPECTED)) {
      const d = byUid(uid);
      expect(
        d.templating.list?.map((v) => v.name),
        uid,
      ).toEqual(want.variables);
      const titles = allPanels(d).map((p) => p.title);
      for (const title of want.panels) expect(titles, uid).toContain(title);
      expect(d.tags).toContain('gpuwatch');
    }
  });

  it('is deterministic: two runs give byte-identical files', async () => {
    const again = generateDashboards(await loadConfig(EXAMPLE));
    expect([...again.entries()]).toEqual([...files.entries()]);
  });

  it('emits object keys sorted at every level', () => {
    const text = files.get('grafana/gpuwatch-node.json')!;
    const check = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(check);
      if (v === null || typeof v !== 'object') return;
      const keys = Object.keys(v);
      expect(keys).toEqual([...keys].sort());
      Object.values(v).forEach(check);
    };
    check(JSON.parse(text));
    expect(text.endsWith('}\n')).toBe(true);
  });
});

describe('shape, against the SDK types', () => {
  it('uses only fields the SDK defines, with the required ones present', () => {
    for (const d of dashboards) {
      expect(unknownKeys(d, DASHBOARD_KEYS), d.uid).toEqual([]);
      expect(typeof d.schemaVersion).toBe('number');
      expect(d.annotations).toBeTypeOf('object');
      for (const v of d.templating.list ?? []) expect(unknownKeys(v, VARIABLE_KEYS), `${d.uid} ${v.name}`).toEqual([]);
      for (const p of d.panels ?? []) {
        expect(unknownKeys(p, p.type === 'row' ? ROW_KEYS : PANEL_KEYS), `${d.uid} ${p.title}`).toEqual([]);
      }
      for (const p of allPanels(d)) {
        expect(unknownKeys(p, PANEL_KEYS), `${d.uid} ${p.title}`).toEqual([]);
        for (const t of p.targets ?? []) expect(unknownKeys(t, TARGET_KEYS), `${d.uid} ${p.title}`).toEqual([]);
      }
    }
  });

  it('has stable, unique, Grafana-valid uids and unique panel ids', () => {
    const uids = dashboards.map((d) => d.uid!);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^[a-z0-9-]{1,40}$/);
    for (const d of dashboards) {
      const ids = (d.panels ?? []).flatMap((p) => [p.id, ...(p.type === 'row' ? (p as dashboard.RowPanel).panels.map((x) => x.id) : [])]);
      expect(ids).toEqual(ids.map((_, i) => i + 1));
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const d of dashboards) {
      const boxes = (d.panels ?? []).map((p) => ({ title: p.title, ...p.gridPos! }));
      for (const b of boxes) expect(b.x + b.w, `${d.uid} ${b.title}`).toBeLessThanOrEqual(24);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${d.uid}: "${a.title}" overlaps "${b.title}"`).toBe(false);
        }
      }
    }
  });

  it('queries the ${datasource} variable from every panel and target, with unique refIds', () => {
    for (const d of dashboards) {
      for (const p of allPanels(d)) {
        if (p.type === 'text') continue;
        expect(p.datasource, `${d.uid} ${p.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.description, `${d.uid} ${p.title}`).toBeTruthy();
        const targets = (p.targets ?? []) as prometheus.Dataquery[];
        expect(targets.length, `${d.uid} ${p.title}`).toBeGreaterThan(0);
        for (const t of targets) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        const refIds = targets.map((t) => t.refId);
        expect(new Set(refIds).size).toBe(refIds.length);
      }
    }
  });
});

describe('PromQL', () => {
  it('names only catalog metrics, recording rules and standard series', () => {
    const unknown: string[] = [];
    let count = 0;
    for (const d of dashboards) {
      for (const q of dashboardQueries(d)) {
        count++;
        for (const name of grafanaMetricNamesIn(q.expr)) if (!ALLOWED_NAMES.has(name)) unknown.push(`${q.where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    expect(count).toBeGreaterThan(100);
  });

  it('filters catalog metrics only by labels they carry', () => {
    const wrong: string[] = [];
    for (const d of dashboards) {
      for (const q of dashboardQueries(d)) {
        for (const s of grafanaSelectorsIn(q.expr)) {
          const found = s.name === undefined ? undefined : catalogMetricOf(s.name);
          if (!found) continue;
          const known = new Set([...found.metric.labels, ...found.extraLabels, ...TARGET_LABELS]);
          for (const l of s.labels) if (!known.has(l)) wrong.push(`${q.where}: ${s.name}{${l}}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lists variable values from labels the queried series carry', () => {
    for (const d of dashboards) {
      for (const v of d.templating.list ?? []) {
        if (v.type !== 'query') continue;
        const query = v.query as string;
        const label = variableQueryLabel(query);
        expect(label, `${d.uid} ${v.name}`).toBe(v.name);
        const [selector] = grafanaSelectorsIn(variableQueryPromql(query));
        const name = selector?.name ?? '';
        const metric = findMetric(name);
        if (metric) expect(metric.labels, `${d.uid} ${v.name}`).toContain(label);
        else expect(Object.values(RECORDING), `${d.uid} ${v.name}`).toContain(name);
      }
    }
  });

  it('chains the node, VC, user and job lists by the selected cluster', () => {
    for (const d of dashboards) {
      for (const v of d.templating.list ?? []) {
        if (v.type === 'query') expect(v.query, `${d.uid} ${v.name}`).toMatch(/cluster=~?"\$cluster"/);
      }
    }
    const job = byUid('gpuwatch-job').templating.list!.find((v) => v.name === 'job')!;
    expect(job.query).toContain('vc=~"$vc"');
    expect(job.query).toContain('user=~"$user"');
  });

  it('refers only to variables the dashboard defines (or Grafana built-ins)', () => {
    for (const d of dashboards) {
      const defined = new Set((d.templating.list ?? []).map((v) => v.name));
      for (const q of dashboardQueries(d)) {
        // `$1` is label_replace's capture group: Grafana leaves a name it does not know as it is.
        for (const m of q.expr.matchAll(/\$\{?(\w+)/g)) {
          if (!m[1]!.startsWith('__') && !/^\d+$/.test(m[1]!)) expect(defined.has(m[1]!), `${q.where}: $${m[1]}`).toBe(true);
        }
      }
    }
  });

  it('shows the active GPU health alerts from ALERTS, by alert name, on the overview', () => {
    const [expr] = exprs(panel(byUid('gpuwatch-cluster-overview'), 'Active GPU health alerts'));
    expect(expr).toMatch(/^ALERTS\{alertstate="firing", watchdog!="true", cluster="\$cluster", alertname=~"[^"]+"\}$/);
  });

  it("takes the job's start time from gpuwatch_job_start_time_seconds, in milliseconds for Grafana", () => {
    const started = panel(byUid('gpuwatch-job'), 'Started');
    expect(exprs(started)).toEqual(['min(gpuwatch_job_start_time_seconds{cluster="$cluster", job="$job"}) * 1000']);
    expect(started.fieldConfig?.defaults.unit).toBe('dateTimeAsIso');
  });

  it('reads the on-call dashboard from the router metrics only', () => {
    const router = CATALOG.filter((m) => m.name.startsWith('gpuwatch_router_')).map((m) => m.name);
    const used = new Set(dashboardQueries(byUid('gpuwatch-oncall')).flatMap((q) => grafanaMetricNamesIn(q.expr)));
    for (const name of used)
      expect(
        router.some((r) => name.startsWith(r)),
        name,
      ).toBe(true);
    expect(used.size).toBeGreaterThanOrEqual(router.length);
  });
});

describe('units', () => {
  it('give every panel that shows one catalog metric as-is that metric’s unit', () => {
    let checked = 0;
    for (const d of dashboards) {
      for (const p of allPanels(d)) {
        const names = exprs(p).map((e) => /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})?$/i.exec(e)?.[1]);
        if (names.length === 0 || names.some((n) => n === undefined)) continue;
        const metrics = names.map((n) => findMetric(n!));
        if (metrics.some((m) => m === undefined)) continue;
        const units = new Set(metrics.map((m) => unitOf(m!)));
        if (units.size !== 1) continue;
        expect(p.fieldConfig?.defaults.unit, `${d.uid} ${p.title}`).toBe([...units][0]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('maps catalog units to Grafana units', () => {
    const unitOfName = (name: string) => unitOf(findMetric(name)!);
    expect(unitOfName('gpuwatch_gpu_utilization_ratio')).toBe('percentunit');
    expect(unitOfName('gpuwatch_gpu_memory_used_bytes')).toBe('bytes');
    expect(unitOfName('gpuwatch_gpu_temperature_celsius')).toBe('celsius');
    expect(unitOfName('gpuwatch_gpu_power_usage_watts')).toBe('watt');
    expect(unitOfName('gpuwatch_gpu_sm_clock_hertz')).toBe('hertz');
    for (const m of CATALOG) expect(() => unitOf(m), m.name).not.toThrow();
  });
});

describe('config', () => {
  it('offers the clusters of gpuwatch.yaml, the first selected, and summarises their layout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-dashboards-'));
    await writeFile(
      join(dir, 'layout-a.yaml'),
      'machine-sku:\n  g8: {computing-device: {type: nvidia.com/gpu, model: A100, count: 8}}\nmachine-list:\n' +
        '  - {hostname: a0, hostip: 10.0.0.1, machine-type: g8, pai-worker: "true"}\n' +
        '  - {hostname: a1, hostip: 10.0.0.2, machine-type: g8, pai-worker: "true"}\n',
    );
    await writeFile(
      join(dir, 'layout-b.yaml'),
      'machine-sku:\n  g2: {computing-device: {type: nvidia.com/gpu, count: 2}}\nmachine-list:\n' + '  - {hostname: b0, hostip: 10.1.0.1, machine-type: g2}\n',
    );
    const file = join(dir, 'gpuwatch.yaml');
    await writeFile(file, 'clusters:\n  - {name: zeta, priority: dev, layout: layout-b.yaml}\n  - {name: alpha, layout: layout-a.yaml}\n');
    const loaded: LoadedConfig = await loadConfig(file);
    const out = generateDashboards(loaded);
    const overview = JSON.parse(out.get('grafana/gpuwatch-cluster-overview.json')!) as dashboard.Dashboard;
    const cluster = overview.templating.list!.find((v) => v.name === 'cluster')!;
    expect(cluster.query).toBe('zeta,alpha');
    expect(cluster.current).toEqual({ text: 'zeta', value: 'zeta' });
    const oncall = JSON.parse(out.get('grafana/gpuwatch-oncall.json')!) as dashboard.Dashboard;
    expect(oncall.templating.list!.find((v) => v.name === 'cluster')).toMatchObject({ multi: true, includeAll: true });
    const layout = panel(overview, 'Clusters in gpuwatch.yaml').options as { content: string };
    expect(layout.content).toContain('| zeta | dev | g2 | — | 1 | 2 | 2 |');
    expect(layout.content).toContain('| alpha | production | g8 | A100 | 2 | 8 | 16 |');
    // Nothing machine-specific (such as the temp directory) leaks into the output.
    for (const text of out.values()) expect(text).not.toContain(dir);
  });
});

describe('ConfigMap', () => {
  it('holds every dashboard under the grafana_dashboard label', () => {
    const cm = parseYaml(files.get('kubernetes/dashboards-configmap.yaml')!) as {
      kind: string;
      metadata: { name: string; labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect((cm.metadata as { namespace?: string }).namespace).toBe('monitoring'); // kubernetes.namespace (its default in the example)
    expect(Object.keys(cm.data).sort()).toEqual(dashboards.map((d) => `${d.uid}.json`).sort());
    for (const d of dashboards) expect(JSON.parse(cm.data[`${d.uid}.json`]!)).toEqual(d);
    // kubectl apply keeps a copy of the object in an annotation limited to 256 KiB.
    expect(Buffer.byteLength(files.get('kubernetes/dashboards-configmap.yaml')!)).toBeLessThan(256 * 1024);
  });
});

describe('Grafana schema details', () => {
  it('writes no table footer in panel options (removed from the v13 schema)', () => {
    const tables = dashboards.flatMap(allPanels).filter((p) => p.type === 'table');
    expect(tables.length).toBeGreaterThan(3);
    for (const t of tables) expect(Object.keys((t.options ?? {}) as object), t.title).not.toContain('footer');
  });

  it('renders suffix units with a single space, as Grafana adds one before the suffix', () => {
    const units = [...files.values()].flatMap((text) => [...text.matchAll(/"(suffix:[^"]*)"/g)].map((m) => m[1]!));
    expect(units.length).toBeGreaterThan(0);
    // Grafana's toFixedUnit: text + ' ' + (the unit after "suffix:").
    for (const unit of units) expect(`12.5 ${unit.slice('suffix:'.length)}`, unit).toMatch(/^12\.5 \S/);
  });
});
