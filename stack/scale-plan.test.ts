import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { createContext } from '../rules-gen/context.js';
import { SCALE_FILES, scaleTopology } from '../rules-gen/scale/topology.js';
import { SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';
import { planStack } from './plan.js';
import { checkSharedRouterDb, localScrapeFiles, scaledProcesses, scaleSection } from './scale-plan.js';

async function loaded(extra: string) {
  const dir = await tempDirWith({
    'layout.yaml': SMALL_LAYOUT,
    'gpuwatch.yaml': `clusters:\n  - {name: lab, layout: layout.yaml}\nstack: {exporterBasePort: 30000}\n${extra}`,
  });
  return loadConfig(join(dir, 'gpuwatch.yaml'));
}

const SCALE = 'scale: {engine: victoriametrics, shards: 2, routers: 2, alertmanagers: ["http://127.0.0.1:9093", "http://127.0.0.1:9094"], basePort: 31000}\n';
const plan = (config: Awaited<ReturnType<typeof loaded>>) => planStack(config, new Set(['w0.yaml', 'w1.yaml']));
const targetsOf = (yaml: string | undefined) =>
  (parse(yaml ?? '') as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }).scrape_configs
    .find((j) => j.job_name === 'gpuwatch')
    ?.static_configs.map((s) => s.targets[0]);

describe('gpuwatch stack --scale, planned', () => {
  it('refuses a config without a scale: section, naming the field', async () => {
    const config = await loaded('');
    expect(() => scaleSection(config)).toThrow(ConfigError);
    expect(() => scaleSection(config)).toThrow(/scale: gpuwatch stack --scale runs the topology of a scale: section/);
  });

  it('refuses several routers on a SQLite file, and takes them on MySQL or alone', async () => {
    const config = await loaded(SCALE);
    const scale = scaleSection(config);
    expect(() => checkSharedRouterDb(config, 'sqlite://./router.db', scale)).toThrow(/router\.db: scale\.routers is 2: .* mysql:\/\//);
    expect(() => checkSharedRouterDb(config, 'mysql://root@127.0.0.1:3306/x', scale)).not.toThrow();
    expect(() => checkSharedRouterDb(config, 'sqlite://./router.db', { ...scale, routers: 1 })).not.toThrow();
  });

  it("points every shard's exporter targets at the local replays", async () => {
    const vm = await loaded(SCALE);
    const vmFiles = localScrapeFiles(vm, plan(vm), scaleSection(vm));
    expect([...vmFiles.keys()]).toEqual([SCALE_FILES.vmagentScrape]);
    expect(targetsOf(vmFiles.get(SCALE_FILES.vmagentScrape))).toEqual(['127.0.0.1:30000', '127.0.0.1:30001']);
    const prom = await loaded(SCALE.replace('victoriametrics', 'prometheus'));
    const promFiles = localScrapeFiles(prom, plan(prom), scaleSection(prom));
    expect([...promFiles.keys()]).toEqual([SCALE_FILES.shardPrometheus(0), SCALE_FILES.shardPrometheus(1)]);
    for (const text of promFiles.values()) expect(targetsOf(text)).toEqual(['127.0.0.1:30000', '127.0.0.1:30001']);
  });

  it("starts what each process sends to first, runs Debian's binaries, and the routers as this gpuwatch on the config", async () => {
    const config = await loaded(SCALE);
    const processes = scaledProcesses(scaleTopology(createContext(config), scaleSection(config)), '/etc/gpuwatch.yaml', ['/usr/bin/node', 'cli.js']);
    expect(processes.map((p) => p.name)).toEqual([
      'victoria-metrics',
      'layout-metrics',
      'alertmanager-0',
      'alertmanager-1',
      'router-0',
      'router-1',
      'vmalert',
      'vmagent-shard-0',
      'vmagent-shard-1',
    ]);
    const byName = new Map(processes.map((p) => [p.name, p]));
    expect(byName.get('alertmanager-0')).toMatchObject({ binaries: ['prometheus-alertmanager', 'alertmanager'], readyPath: '/-/ready' });
    expect(byName.get('victoria-metrics')).toMatchObject({ binaries: ['victoria-metrics'], debianPackage: 'victoria-metrics', readyPath: '/health' });
    expect(byName.get('router-1')).toMatchObject({
      executable: '/usr/bin/node',
      args: ['cli.js', 'router', '--config', '/etc/gpuwatch.yaml', '--listen', '127.0.0.1:31003'],
      readyPath: '/healthz',
    });
  });
});
