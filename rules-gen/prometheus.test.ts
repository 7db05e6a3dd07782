/**
 * End to end with a real Prometheus (Debian's 2.42): the replay exporter serves pai-worker-2 (4 GPUs,
 * two OpenPAI jobs), Prometheus scrapes it with the generated scrape config and evaluates the
 * generated rules; the recorded per-job series come out right and no rule fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { ROOT } from '../test/cli.js';
import { generateRules, RULES_FILE, SCRAPE_FILE } from './generate.js';
import { RECORDING } from '../src/catalog/recording-names.js';
import { tempDirWith } from './testing/test-support.js';
import { freePort } from '../test/ports.js';
import { stopChild } from '../stack/external.js';
import { eventually } from '../src/testing/eventually.js';

const children: ChildProcess[] = [];

function start(cmd: string, args: string[], cwd: string): ChildProcess {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  children.push(child);
  return child;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

let prometheus = '';
let groupNames: string[] = [];

async function query(promql: string): Promise<Sample[]> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${promql}`);
  return body.data.result;
}

beforeAll(async () => {
  const [exporterPort, prometheusPort] = [await freePort(), await freePort()];
  const layout = `machine-sku:\n  h100-4x: {computing-device: {type: nvidia.com/gpu, model: H100, count: 4}}\nmachine-list:\n  - {hostname: pai-worker-2, hostip: 127.0.0.1, machine-type: h100-4x, pai-worker: "true"}\n`;
  const dir = await tempDirWith({ 'layout.yaml': layout, 'gpuwatch.yaml': `clusters:\n  - {name: e2e, layout: layout.yaml, exporterPort: ${exporterPort}}\n` });
  const files = generateRules(await loadConfig(join(dir, 'gpuwatch.yaml')));
  await writeFile(join(dir, 'rules.yml'), files.get(RULES_FILE) ?? '');
  groupNames = (parse(files.get(RULES_FILE) ?? '') as { groups: { name: string }[] }).groups.map((g) => g.name);
  const scrape = parse(files.get(SCRAPE_FILE) ?? '') as { scrape_configs: Record<string, unknown>[] };
  const jobs = scrape.scrape_configs.map((j) => ({ ...j, scrape_interval: '1s', scrape_timeout: '1s' }));
  const config = { global: { evaluation_interval: '1s' }, rule_files: ['rules.yml'], scrape_configs: jobs };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
  await mkdir(join(dir, 'data'));

  start(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/gpuwatch.ts',
      'exporter',
      '--replay',
      'examples/scenarios/pai-worker-2.yaml',
      '--listen',
      `127.0.0.1:${exporterPort}`,
      '--node',
      'pai-worker-2',
    ],
    ROOT,
  );
  start(
    'prometheus',
    ['--config.file=prometheus.yml', '--storage.tsdb.path=data', `--web.listen-address=127.0.0.1:${prometheusPort}`, '--log.level=warn'],
    dir,
  );
  prometheus = `http://127.0.0.1:${prometheusPort}`;
  // Groups run independently: wait until the per-job and the per-GPU groups have both recorded.
  const recorded = async () => (await query(RECORDING.jobGpus)).length >= 2 && (await query(RECORDING.gpuUtilizationByJob)).length >= 4;
  await eventually(async () => ((await recorded()) ? true : undefined), 40_000, 'recorded job and GPU series');
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((child) => stopChild(child, 5_000)));
});

describe('generated rules in a real Prometheus', () => {
  it('records GPUs per job with the job labels and the cluster from the scrape config', async () => {
    const jobs: Record<string, string>[] = (await query(RECORDING.jobGpus)).map((s) => ({ ...s.metric, gpus: s.value[1] }));
    expect(jobs.sort((a, b) => (a.job ?? '').localeCompare(b.job ?? ''))).toEqual([
      { __name__: RECORDING.jobGpus, cluster: 'e2e', job: 'alice~bert-large', user: 'alice', vc: 'nlp', priority: 'prod', gpus: '2' },
      { __name__: RECORDING.jobGpus, cluster: 'e2e', job: 'bob~resnet50', user: 'bob', vc: 'default', priority: 'oppo', gpus: '1' },
    ]);
  });

  it('joins utilization with jobs, keeping the GPU no job holds with job unset', async () => {
    const perGpu = await query(RECORDING.gpuUtilizationByJob);
    expect(perGpu.map((s) => [s.metric.gpu, s.metric.job ?? '']).sort()).toEqual([
      ['0', 'alice~bert-large'],
      ['1', 'alice~bert-large'],
      ['2', 'bob~resnet50'],
      ['3', ''],
    ]);
  });

  it('leaves the scrape job name only on up, never as a gpuwatch series job label', async () => {
    expect((await query('up{job="gpuwatch"}')).map((s) => [s.metric.cluster, s.metric.node, s.value[1]])).toEqual([['e2e', 'pai-worker-2', '1']]);
    expect(await query('gpuwatch_gpu_utilization_ratio{job!=""}')).toEqual([]);
  });

  it('evaluates every group without failures', async () => {
    const text = await (await fetch(`${prometheus}/metrics`)).text();
    const groups = [...text.matchAll(/^prometheus_rule_group_last_duration_seconds\{rule_group="[^;]*;([^"]+)"\} (\S+)/gm)].map((m) => m[1]);
    expect(groups.sort()).toEqual([...groupNames].sort());
    const failures = [...text.matchAll(/^prometheus_rule_evaluation_failures_total\{rule_group="[^"]*"\} (\S+)/gm)].map((m) => Number(m[1]));
    expect(failures.length).toBe(groupNames.length);
    expect(failures.every((n) => n === 0)).toBe(true);
  });
});
