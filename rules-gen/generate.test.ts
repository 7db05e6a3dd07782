/**
 * The generated stack for the example config and for a config that changes every kind of setting:
 * promtool and amtool accept it, the generated unit tests pass (and cover every alert), every
 * metric name is known, output is deterministic and matches the golden files.
 * After a deliberate change: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run rules-gen/generate.test.ts
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GPU_HEALTH_ALERT_NAMES } from '../dashboards/alerts.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { unknownMetricNames } from '../src/testing/promql/metric-names.js';
import { alertGroups } from './alerts.js';
import { isAllowedMetric } from './testing/allowed-series.js';
import { createContext } from './context.js';
import { ALERTMANAGER_FILE, generateRules, PROMETHEUS_RULE_FILE, RULES_FILE, RULES_TEST_FILE, SCRAPE_FILE } from './generate.js';
import { EXAMPLE_CONFIG, runTool, tempDirWith, writeArtifacts, type ToolResult } from './testing/test-support.js';
import type { AlertRule, ArtifactFiles, GeneratedAlert, RecordingRule, RuleGroup } from './types.js';

const GOLDEN_DIR = new URL('../test/golden/generated/', import.meta.url).pathname;

const LAYOUT_A = `machine-sku:
  gpu8: {computing-device: {type: nvidia.com/gpu, model: H100, count: 8}}
  cpu: {cpu: {vcore: 64}}
machine-list:
  - {hostname: a-master, hostip: 10.1.0.1, machine-type: cpu, pai-master: "true"}
  - {hostname: a-w0, hostip: 10.1.0.10, machine-type: gpu8, pai-worker: "true"}
  - {hostname: a-w1, hostip: 10.1.0.11, machine-type: gpu8, pai-worker: "true"}
`;
const LAYOUT_B = LAYOUT_A.replaceAll('a-', 'b-').replaceAll('10.1.', '10.2.');

/** Every kind of setting away from its default: two clusters, overrides by cluster/VC/priority, other windows and `for`s. */
const CUSTOM_CONFIG = `clusters:
  - {name: alpha, layout: a.yaml, exporterPort: 9500, router: 'http://router.alpha:9460/api/v1/alertmanager'}
  - {name: beta, priority: staging, layout: b.yaml}
monitoringCluster: beta
runbookBaseUrl: https://wiki.example.com/gpu/runbooks
policies:
  jobLowUtilization:
    threshold: 0.3
    window: 20m
    for: 10m
    exempt: {vcs: [ops], users: ['svc-.*']}
    overrides:
      - {priority: oppo, threshold: 0.5, severity: 2, action: {type: kill, grace: 30m}}
      - {cluster: beta, for: 5m}
  jobRunningTooLong:
    threshold: 36h
    for: 2m
    overrides:
      - {vc: 'short|batch', threshold: 90m}
  gpuTemperature: {threshold: 80.5, for: 3m, overrides: [{cluster: beta, threshold: 90, severity: 2}]}
  eccUncorrectable: {window: 5m, for: 10m}
  eccCorrectableStorm: {threshold: 7, window: 15m, for: 0s}
  retiredPagesNearLimit: {threshold: 10}
  xidErrors: {window: 30m, for: 2m, classes: {application: {enabled: true}, other: {severity: 2}}}
  thermalSlowdown: {threshold: 0.25, window: 30m}
  powerSlowdown: {enabled: false}
  clusterGpusUnavailable: {threshold: 0.4, overrides: [{cluster: beta, threshold: 0.1, severity: 1}]}
  exporterStale: {threshold: 90s, for: 1m}
  exporterAbsent: {for: 2m}
  prometheusSelfCheck: {window: 30m, for: 5m}
  diskFull: {threshold: 0.8, sharedFsTypes: [nfs4, lustre]}
  memoryPressure: {threshold: 0.5, for: 30s}
alertmanager:
  groupBy: [cluster, alertname, node]
  severities:
    '0': {groupWait: 5s}
kubernetes: {namespace: gpu-monitoring, ruleLabels: {release: kube-prometheus-stack}}
`;

interface Generated {
  loaded: LoadedConfig;
  files: ArtifactFiles;
  dir: string;
  alerts: GeneratedAlert[];
}

async function generateFor(configFile: string): Promise<Generated> {
  const loaded = await loadConfig(configFile);
  const files = generateRules(loaded);
  const alerts = alertGroups(createContext(loaded)).flatMap((g) => g.alerts);
  return { loaded, files, dir: await writeArtifacts(files), alerts };
}

const rulesOf = (g: Generated): RuleGroup[] => (parse(g.files.get(RULES_FILE) ?? '') as { groups: RuleGroup[] }).groups;
const alertRulesOf = (g: Generated) => rulesOf(g).flatMap((group) => group.rules.filter((r): r is AlertRule => 'alert' in r));

let example: Generated;
let custom: Generated;
let promtoolTests: [ToolResult, ToolResult];

beforeAll(async () => {
  example = await generateFor(EXAMPLE_CONFIG);
  const dir = await tempDirWith({ 'a.yaml': LAYOUT_A, 'b.yaml': LAYOUT_B, 'gpuwatch.yaml': CUSTOM_CONFIG });
  custom = await generateFor(join(dir, 'gpuwatch.yaml'));
  // The two slowest checks run side by side.
  promtoolTests = (await Promise.all(
    [example, custom].map((g) => runTool('promtool', ['test', 'rules', RULES_TEST_FILE.split('/')[1] ?? ''], join(g.dir, 'prometheus'))),
  )) as [ToolResult, ToolResult];
}, 120_000);

describe.each([
  ['the example config', () => example, () => promtoolTests[0]],
  ['a config that changes every setting', () => custom, () => promtoolTests[1]],
])('generate for %s', (_name, get, testRun) => {
  it('passes promtool check rules', async () => {
    const g = get();
    const { code, output } = await runTool('promtool', ['check', 'rules', RULES_FILE], g.dir);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(code).toBe(0);
  });

  it('passes its own promtool unit tests', () => {
    const { code, output } = testRun();
    expect(output).toContain('SUCCESS');
    expect(code, output).toBe(0);
  });

  it('gives a Prometheus config with the scrape job and rules that promtool accepts', async () => {
    const g = get();
    const scrape = parse(g.files.get(SCRAPE_FILE) ?? '') as { scrape_configs: unknown[] };
    const config = { global: { evaluation_interval: '30s' }, rule_files: ['rules.yml'], scrape_configs: scrape.scrape_configs };
    await writeFile(join(g.dir, 'prometheus', 'prometheus.yml'), JSON.stringify(config));
    const { code, output } = await runTool('promtool', ['check', 'config', 'prometheus.yml'], join(g.dir, 'prometheus'));
    expect(code, output).toBe(0);
  });

  it('passes amtool check-config', async () => {
    const { code, output } = await runTool('amtool', ['check-config', ALERTMANAGER_FILE], get().dir);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('names only catalog metrics, its own recording rules and allow-listed standard series', () => {
    const exprs = rulesOf(get()).flatMap((group) => group.rules.map((r) => r.expr));
    expect(exprs.length).toBeGreaterThan(30);
    const unknown = exprs.flatMap((e) => unknownMetricNames(e, isAllowedMetric));
    expect(unknown).toEqual([]);
  });

  it('gives every alert severity, summary, description and runbook_url', () => {
    const g = get();
    for (const rule of alertRulesOf(g)) {
      // The Watchdog is routed by its own label, never by severity.
      if (rule.labels.watchdog !== 'true') expect(['0', '1', '2', '3']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
      expect(rule.annotations.runbook_url).toBe(`${g.loaded.config.runbookBaseUrl}#${rule.alert.toLowerCase()}`);
    }
  });

  it('proves every alerting rule with a firing case and a quiet case, and a blip case when it has a for', () => {
    for (const { rule, tests } of get().alerts) {
      const checks = tests.flatMap((t) => t.checks.filter((c) => c.alertname === rule.alert));
      const fired = checks.flatMap((c) => c.alerts).filter((a) => Object.entries(rule.labels).every(([k, v]) => a.labels[k] === v));
      expect(fired.length, `${rule.alert} ${JSON.stringify(rule.labels)} never fires in its tests`).toBeGreaterThan(0);
      if (rule.labels.watchdog === 'true') continue; // always fires: it has no quiet case
      const quietTests = tests.filter((t) => t.checks.every((c) => c.alerts.length === 0));
      expect(quietTests.length, `${rule.alert} has no quiet case`).toBeGreaterThanOrEqual(rule.for === '0s' ? 1 : 2);
    }
  });

  it('fires alerts with cluster, and job alerts with job, user, vc and action', () => {
    const expected = get().alerts.flatMap(({ rule, tests }) => tests.flatMap((t) => t.checks.flatMap((c) => c.alerts.map((a) => ({ rule, a })))));
    for (const { rule, a } of expected) {
      expect(a.labels.cluster, rule.alert).toBeTruthy();
      if (rule.alert.startsWith('GpuJob')) expect(Object.keys(a.labels)).toEqual(expect.arrayContaining(['job', 'user', 'vc', 'action']));
    }
  });

  it('puts the same rule groups in the PrometheusRule', () => {
    const g = get();
    const crd = parse(g.files.get(PROMETHEUS_RULE_FILE) ?? '') as { kind: string; metadata: { namespace: string }; spec: { groups: RuleGroup[] } };
    expect(crd.kind).toBe('PrometheusRule');
    expect(crd.metadata.namespace).toBe(g.loaded.config.kubernetes.namespace);
    expect(crd.spec.groups).toEqual(rulesOf(g));
  });

  it('scrapes every layout worker, labelled with its cluster and node', () => {
    const g = get();
    const scrape = parse(g.files.get(SCRAPE_FILE) ?? '') as {
      scrape_configs: { honor_labels: boolean; static_configs: { targets: string[]; labels: Record<string, string> }[] }[];
    };
    const job = scrape.scrape_configs[0];
    expect(job?.honor_labels).toBe(true);
    const workers = g.loaded.clusters.flatMap((c) =>
      c.layoutData.nodes.filter((n) => n.isWorker).map((n) => ({ targets: [`${n.hostip}:${c.exporterPort}`], labels: { cluster: c.name, node: n.hostname } })),
    );
    expect(job?.static_configs).toEqual(workers);
  });
});

describe('generate', () => {
  it('generates one always-firing Watchdog per cluster, with the labels the router expects', () => {
    const watchdogs = alertRulesOf(custom).filter((r) => r.alert === 'Watchdog');
    expect(watchdogs.map((r) => [r.expr, r.labels])).toEqual([
      ['vector(1)', { cluster: 'alpha', watchdog: 'true' }],
      ['vector(1)', { cluster: 'beta', watchdog: 'true' }],
    ]);
  });

  it('routes each cluster to its own router, with resolutions', () => {
    const am = parse(custom.files.get(ALERTMANAGER_FILE) ?? '') as {
      route: { receiver: string; routes: { matchers: string[]; receiver: string }[] };
      receivers: { name: string; webhook_configs: { url: string; send_resolved: boolean }[] }[];
    };
    expect(am.route.receiver).toBe('gpuwatch-router-beta');
    expect(am.route.routes.map((r) => [r.matchers, r.receiver])).toEqual([
      [['cluster="alpha"'], 'gpuwatch-router-alpha'],
      [['cluster="beta"'], 'gpuwatch-router-beta'],
    ]);
    expect(am.receivers[0]?.webhook_configs).toEqual([{ url: 'http://router.alpha:9460/api/v1/alertmanager', send_resolved: true, max_alerts: 1000 }]);
  });

  it('scrapes the routers of the clusters, Prometheus and Alertmanager, labelled with the monitoring cluster', () => {
    const scrape = parse(custom.files.get(SCRAPE_FILE) ?? '') as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[];
    };
    expect(scrape.scrape_configs.slice(1).map((j) => [j.job_name, j.static_configs])).toEqual([
      ['gpuwatch-router', [{ targets: ['router.alpha:9460', '127.0.0.1:9460'], labels: { cluster: 'beta' } }]],
      ['prometheus', [{ targets: ['127.0.0.1:9090'], labels: { cluster: 'beta' } }]],
      ['alertmanager', [{ targets: ['127.0.0.1:9093'], labels: { cluster: 'beta' } }]],
    ]);
  });

  it("sends the router's webhook token, inline or as a file, in a config amtool accepts", async () => {
    const withRouter = (router: Record<string, string>) => {
      const loaded = { ...example.loaded, config: { ...example.loaded.config, router: { ...example.loaded.config.router!, ...router } } };
      return parse(generateRules(loaded).get(ALERTMANAGER_FILE) ?? '') as { receivers: { webhook_configs: { http_config?: unknown }[] }[] };
    };
    expect(withRouter({ webhookToken: 'am-secret' }).receivers[0]?.webhook_configs[0]?.http_config).toEqual({
      authorization: { type: 'Bearer', credentials: 'am-secret' },
    });
    const fromFile = withRouter({ webhookTokenFile: '/etc/gpuwatch/am-token' });
    expect(fromFile.receivers[0]?.webhook_configs[0]?.http_config).toEqual({ authorization: { type: 'Bearer', credentials_file: '/etc/gpuwatch/am-token' } });
    const dir = await writeArtifacts(
      generateRules({
        ...example.loaded,
        config: { ...example.loaded.config, router: { ...example.loaded.config.router!, webhookTokenFile: '/etc/gpuwatch/am-token' } },
      }),
    );
    const { code, output } = await runTool('amtool', ['check-config', ALERTMANAGER_FILE], dir);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('is deterministic and independent of where the config lives', async () => {
    const again = generateRules(await loadConfig(EXAMPLE_CONFIG));
    expect(again).toEqual(example.files);
    const copy = await tempDirWith({
      'gpuwatch.yaml': await readFile(EXAMPLE_CONFIG, 'utf8'),
      'layout.yaml': await readFile(join(dirname(EXAMPLE_CONFIG), 'layout.yaml'), 'utf8'),
      'scenarios/pai-worker-2.yaml': '',
    });
    expect(generateRules(await loadConfig(join(copy, 'gpuwatch.yaml')))).toEqual(example.files);
  });

  it('builds the tests from the policy values: a changed threshold changes the test input', () => {
    const temperature = (g: Generated) => g.files.get(RULES_TEST_FILE)?.match(/gpuwatch_gpu_temperature_celsius\{[^\n]*\n\s*values: (\S+)/)?.[1];
    expect(temperature(example)).toBe('90+0x13');
    expect(temperature(custom)).toBe('85+0x6');
  });

  it("selects exactly the GPU health alerts and NodeGpusMissing with the overview dashboard's alert-name regex", () => {
    const healthGroups = /^gpuwatch-gpu-/;
    const names = new Set(rulesOf(example).flatMap((g) => g.rules.filter((r): r is AlertRule => 'alert' in r).map((r) => `${g.name} ${r.alert}`)));
    const matcher = new RegExp(`^(?:${GPU_HEALTH_ALERT_NAMES})$`); // Prometheus anchors label regexes
    const selected = [...names].filter((n) => matcher.test(n.split(' ')[1] ?? '')).sort();
    const health = [...names].filter((n) => healthGroups.test(n) || n.endsWith(' NodeGpusMissing')).sort();
    expect(health.length).toBeGreaterThan(8);
    expect(selected).toEqual(health);
  });

  it('matches the golden files under test/golden/generated', async () => {
    for (const [path, text] of example.files) {
      const golden = join(GOLDEN_DIR, path);
      if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') {
        await mkdir(dirname(golden), { recursive: true });
        await writeFile(golden, text);
      }
      expect(text, path).toBe(await readFile(golden, 'utf8'));
    }
  });
});

export type { RecordingRule };
