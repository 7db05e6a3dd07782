/**
 * What `gpuwatch generate` writes for a `scale:` section: nothing new without one, the same bytes on
 * every run, the files of each engine, shards that split the nodes by the node label, and the
 * golden files of examples/gpuwatch-scale.yaml.
 * After a deliberate change: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run rules-gen/scale/generate-scale.test.ts
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { generateRules } from '../generate.js';
import { ALERTMANAGER_FILE, RULES_FILE } from '../paths.js';
import { EXAMPLE_CONFIG, runTool, writeArtifacts } from '../testing/test-support.js';
import { generatedIn, SCALE_EXAMPLE, scaleExampleCopy, scalePaths, topologyOf } from '../testing/scale-support.js';
import { unknownMetricNames } from '../../src/testing/promql/metric-names.js';
import { isAllowedMetric } from '../testing/allowed-series.js';
import { SHARD_LABEL } from './files.js';
import { SCALE_FILES } from './topology.js';

const GOLDEN_DIR = new URL('../../test/golden/generated-scale/', import.meta.url).pathname;

interface ShardConfig {
  rule_files: string[];
  scrape_configs: { job_name: string; relabel_configs?: { source_labels: string[]; modulus?: number; regex?: string; action: string }[] }[];
  remote_write: { url: string }[];
}

describe('gpuwatch generate with scale:', () => {
  it('writes no scale/ files without the section', async () => {
    expect(scalePaths(generateRules(await loadConfig(EXAMPLE_CONFIG)))).toEqual([]);
  });

  it('writes the same bytes every time', async () => {
    const dir = await scaleExampleCopy();
    expect(await generatedIn(dir)).toEqual(await generatedIn(dir));
    expect(await generatedIn(dir)).toEqual(generateRules(await loadConfig(SCALE_EXAMPLE)));
  });

  it('victoriametrics: one vmagent scrape config, vmalert reading both rule files and notifying every Alertmanager', async () => {
    const files = await generatedIn(await scaleExampleCopy());
    expect(scalePaths(files)).toEqual([
      SCALE_FILES.readme,
      SCALE_FILES.centralTests,
      SCALE_FILES.centralRules,
      SCALE_FILES.perNodeRules,
      SCALE_FILES.topology,
      SCALE_FILES.vmagentScrape,
    ]);
    const t = topologyOf(files);
    expect(t.processes.map((p) => p.name)).toEqual([
      'victoria-metrics',
      'vmalert',
      'router-0',
      'router-1',
      'alertmanager-0',
      'alertmanager-1',
      'vmagent-shard-0',
      'vmagent-shard-1',
      'layout-metrics',
    ]);
    const vmalert = t.processes.find((p) => p.name === 'vmalert')?.args ?? [];
    expect(vmalert.filter((a) => a.startsWith('-rule=') || a.startsWith('-notifier.url='))).toEqual([
      `-rule=${SCALE_FILES.perNodeRules}`,
      `-rule=${SCALE_FILES.centralRules}`,
      '-notifier.url=http://127.0.0.1:19593',
      '-notifier.url=http://127.0.0.1:19594',
    ]);
    const shards = t.processes.filter((p) => p.role === 'shard').map((p) => p.args.filter((a) => a.startsWith('-promscrape.cluster.')));
    expect(shards).toEqual([0, 1].map((i) => ['-promscrape.cluster.membersCount=2', `-promscrape.cluster.memberNum=${i}`]));
    expect(new Set(t.processes.map((p) => p.listen)).size).toBe(t.processes.length);
  });

  it('victoriametrics: vmagent also scrapes VictoriaMetrics, vmalert and every shard, labelled with the monitoring cluster', async () => {
    const files = await generatedIn(await scaleExampleCopy({ scale: { engine: 'victoriametrics', shards: 3, listenHost: '0.0.0.0', basePort: 30000 } }));
    const scrape = parse(files.get(SCALE_FILES.vmagentScrape) ?? '') as {
      scrape_configs: { job_name: string; honor_labels?: boolean; static_configs: { targets: string[]; labels: Record<string, string> }[] }[];
    };
    const jobs = Object.fromEntries(scrape.scrape_configs.map((j) => [j.job_name, j]));
    expect(Object.fromEntries(['victoriametrics', 'vmalert', 'vmagent'].map((name) => [name, jobs[name]?.static_configs]))).toEqual({
      victoriametrics: [{ targets: ['127.0.0.1:30000'], labels: { cluster: 'pai-small' } }],
      vmalert: [{ targets: ['127.0.0.1:30001'], labels: { cluster: 'pai-small' } }],
      vmagent: [{ targets: ['127.0.0.1:30004', '127.0.0.1:30005', '127.0.0.1:30006'], labels: { cluster: 'pai-small' } }],
    });
    expect(jobs.vmalert?.honor_labels).toBe(true);
  });

  it('victoriametrics: central.yml has the engine self-checks instead of the Prometheus ones; prometheus/rules.yml keeps its own', async () => {
    const files = await generatedIn(await scaleExampleCopy());
    const alertNames = (path: string) =>
      (parse(files.get(path) ?? '') as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    const central = alertNames(SCALE_FILES.centralRules);
    const main = alertNames(RULES_FILE);
    const engine = [
      'VmalertRuleEvaluationFailures',
      'VmalertNotificationsFailing',
      'VmalertConfigReloadFailed',
      'VmagentRemoteWriteFailing',
      'VictoriaMetricsReadOnly',
    ];
    expect(central.filter((a) => !main.includes(a))).toEqual(engine);
    expect(main.filter((a) => !central.includes(a))).toEqual([
      'PrometheusRuleEvaluationFailures',
      'PrometheusNotificationsDropped',
      'PrometheusConfigReloadFailed',
    ]);
    expect(central).toContain('AlertmanagerNotificationsFailing');
    const exprs = (parse(files.get(SCALE_FILES.centralRules) ?? '') as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) =>
      g.rules.map((r) => r.expr),
    );
    expect(exprs.flatMap((e) => unknownMetricNames(e, isAllowedMetric))).toEqual([]);
  });

  it('prometheus: central.yml has the same alerts as prometheus/rules.yml, and no central.test.yml', async () => {
    const files = await generatedIn(await scaleExampleCopy({ scale: { engine: 'prometheus' } }));
    expect(files.has(SCALE_FILES.centralTests)).toBe(false);
    expect(files.get(SCALE_FILES.centralRules)).toContain('alert: PrometheusNotificationsDropped');
    expect(files.get(SCALE_FILES.centralRules)).not.toContain('alert: Vmalert');
  });

  it('prometheus: each shard keeps its hashmod share of the nodes by the node label and remote-writes to the central Prometheus', async () => {
    const files = await generatedIn(await scaleExampleCopy({ scale: { shards: 3, basePort: 30000 } }));
    const t = topologyOf(files);
    expect(t.processes.filter((p) => p.role === 'shard').map((p) => p.args[0])).toEqual(
      [0, 1, 2].map((i) => `--config.file=${SCALE_FILES.shardPrometheus(i)}`),
    );
    for (let i = 0; i < 3; i++) {
      const shard = parse(files.get(SCALE_FILES.shardPrometheus(i)) ?? '') as ShardConfig;
      expect(shard.rule_files).toEqual(['../rules/per-node.yml']);
      expect(shard.remote_write).toEqual([{ url: 'http://127.0.0.1:30000/api/v1/write' }]);
      expect(shard.scrape_configs.map((j) => j.job_name)).toEqual(['gpuwatch']);
      expect(shard.scrape_configs[0]?.relabel_configs).toEqual([
        { source_labels: [SHARD_LABEL], modulus: 3, target_label: '__tmp_shard', action: 'hashmod' },
        { source_labels: ['__tmp_shard'], regex: String(i), action: 'keep' },
      ]);
    }
    expect(SHARD_LABEL).toBe('node');
    const central = parse(files.get(SCALE_FILES.centralPrometheus) ?? '') as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(central.rule_files).toEqual(['../rules/central.yml']);
    const targets = Object.fromEntries(central.scrape_configs.map((j) => [j.job_name, j.static_configs[0]?.targets]));
    expect(targets).toEqual({
      'gpuwatch-router': ['127.0.0.1:30002'],
      'gpuwatch-rule-service': ['127.0.0.1:9471'],
      prometheus: ['127.0.0.1:30000', '127.0.0.1:30004', '127.0.0.1:30005', '127.0.0.1:30006'],
      alertmanager: ['127.0.0.1:9093'],
    });
  });

  it("sends every cluster's alerts to each router of the topology, on the cluster's router path, and amtool accepts it", async () => {
    const files = await generatedIn(await scaleExampleCopy({ scale: { engine: 'victoriametrics', routers: 3, basePort: 30000 } }));
    const am = parse(files.get(ALERTMANAGER_FILE) ?? '') as { receivers: { name: string; webhook_configs: { url: string }[] }[] };
    const routers = topologyOf(files).processes.filter((p) => p.role === 'router');
    expect(routers.map((p) => p.listen)).toEqual(['127.0.0.1:30002', '127.0.0.1:30003', '127.0.0.1:30004']);
    for (const receiver of am.receivers) {
      expect(receiver.webhook_configs.map((w) => w.url)).toEqual(routers.map((p) => `http://${p.listen}/api/v1/alertmanager`));
    }
    const { code, output } = await runTool('amtool', ['check-config', ALERTMANAGER_FILE], await writeArtifacts(files));
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('matches the golden files under test/golden/generated-scale', async () => {
    const files = generateRules(await loadConfig(SCALE_EXAMPLE));
    for (const path of scalePaths(files)) {
      const golden = join(GOLDEN_DIR, path);
      if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') {
        await mkdir(dirname(golden), { recursive: true });
        await writeFile(golden, files.get(path) ?? '');
      }
      expect(files.get(path), path).toBe(await readFile(golden, 'utf8'));
    }
  });
});
