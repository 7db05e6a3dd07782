import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { EXAMPLE_CONFIG, SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';
import { planStack, prometheusConfig } from './plan.js';

async function loaded(stack: string) {
  const dir = await tempDirWith({ 'layout.yaml': SMALL_LAYOUT, 'gpuwatch.yaml': `clusters:\n  - {name: lab, layout: layout.yaml}\n${stack}` });
  return { dir, config: await loadConfig(join(dir, 'gpuwatch.yaml')) };
}

describe('planStack', () => {
  it('gives each worker its own scenario and a consecutive local port', async () => {
    const { dir, config } = await loaded('stack: {exporterBasePort: 30000}\n');
    const plan = planStack(config, new Set(['w0.yaml', 'w1.yaml']));
    expect(plan.exporters).toEqual([
      { cluster: 'lab', node: 'w0', listen: '127.0.0.1:30000', scenario: join(dir, 'scenarios', 'w0.yaml') },
      { cluster: 'lab', node: 'w1', listen: '127.0.0.1:30001', scenario: join(dir, 'scenarios', 'w1.yaml') },
    ]);
    expect(plan.generatedDir).toBe(join(dir, '.gpuwatch-stack', 'generated'));
  });

  it('writes a scenario replaying stack.replay for a worker without one, multiplied to its SKU', async () => {
    const { dir, config } = await loaded('stack: {replay: rec/q-idle.xml}\n');
    const [, w1] = planStack(config, new Set(['w0.yaml'])).exporters;
    expect(w1?.scenario).toBe(join(dir, '.gpuwatch-stack', 'scenarios', 'w1.yaml'));
    expect(parse(w1?.scenarioText ?? '')).toEqual({ source: join(dir, 'rec', 'q-idle.xml'), gpus: 8 });
  });

  it('loads rules.yaml next to the config unless stack.rules names another file', async () => {
    const example = await loadConfig(EXAMPLE_CONFIG);
    expect(planStack(example, new Set(['pai-worker-0.yaml', 'pai-worker-1.yaml', 'pai-worker-2.yaml'])).rules).toEqual({
      file: join(dirname(EXAMPLE_CONFIG), 'rules.yaml'),
      explicit: false,
    });
    const { dir, config } = await loaded('stack: {rules: admission/rules.csv}\n');
    expect(planStack(config, new Set(['w0.yaml', 'w1.yaml'])).rules).toEqual({ file: join(dir, 'admission', 'rules.csv'), explicit: true });
  });

  it('names the worker and both ways out when a scenario is missing', async () => {
    const { dir, config } = await loaded('');
    expect(() => planStack(config, new Set(['w0.yaml']))).toThrow(ConfigError);
    expect(() => planStack(config, new Set(['w0.yaml']))).toThrow(
      `worker w1 has no replay scenario: create ${join(dir, 'scenarios', 'w1.yaml')}, or set stack.replay`,
    );
  });
});

describe('prometheusConfig', () => {
  it('keeps the generated scrape job and its labels, pointed at the local exporters', async () => {
    const { config } = await loaded('stack: {exporterBasePort: 30000, prometheus: "127.0.0.1:9999"}\nexporter: {interval: 2s}\n');
    const plan = planStack(config, new Set(['w0.yaml', 'w1.yaml']));
    const prom = parse(prometheusConfig(config, plan, true));
    expect(prom.global).toEqual({ scrape_interval: '2s', evaluation_interval: '2s' });
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['127.0.0.1:9093']);
    const [gpuwatch, , self] = prom.scrape_configs;
    expect(gpuwatch.honor_labels).toBe(true);
    expect(gpuwatch.static_configs).toEqual([
      { targets: ['127.0.0.1:30000'], labels: { cluster: 'lab', node: 'w0' } },
      { targets: ['127.0.0.1:30001'], labels: { cluster: 'lab', node: 'w1' } },
    ]);
    expect(self).toEqual({ job_name: 'prometheus', honor_labels: true, static_configs: [{ targets: ['127.0.0.1:9999'], labels: { cluster: 'lab' } }] });
    expect(prometheusConfig(config, plan, false)).not.toContain('alertmanagers');
  });

  it('scrapes the router and the rule service at their configured addresses', async () => {
    const { config } = await loaded('ruleService: {listen: "0.0.0.0:9471", apiToken: t}\n');
    const plan = planStack(config, new Set(['w0.yaml', 'w1.yaml']));
    const jobs = parse(prometheusConfig(config, plan, true)).scrape_configs.map((j: { job_name: string; static_configs: { targets: string[] }[] }) => [
      j.job_name,
      j.static_configs[0]?.targets,
    ]);
    expect(jobs.slice(1)).toEqual([
      ['gpuwatch-router', ['127.0.0.1:9460']],
      ['gpuwatch-rule-service', ['127.0.0.1:9471']],
      ['prometheus', ['127.0.0.1:9090']],
      ['alertmanager', ['127.0.0.1:9093']],
    ]);
  });
});
