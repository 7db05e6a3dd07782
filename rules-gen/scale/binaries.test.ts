/**
 * The generated scale/ files load, unchanged, in the real programs: both rule files in promtool and
 * in vmalert (its generated command line with -dryRun), the vmagent shards' scrape config in vmagent
 * (-dryRun), and each Prometheus shard's and the central Prometheus's config (with the rule files
 * they name) in promtool. A broken rule file fails the same check. central.yml passes the promtool
 * tests of the VictoriaMetrics engine's self-checks (central.test.yml), and a wrong condition fails them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatedIn, scaleExampleCopy, topologyOf } from '../testing/scale-support.js';
import { runTool, writeArtifacts } from '../testing/test-support.js';
import type { ArtifactFiles } from '../types.js';
import { SCALE_FILES, type ScaleProcess } from './topology.js';

let vm: { dir: string; files: ArtifactFiles };
let prom: { dir: string; files: ArtifactFiles };

beforeAll(async () => {
  const vmFiles = await generatedIn(await scaleExampleCopy());
  const promFiles = await generatedIn(
    await scaleExampleCopy({ scale: { engine: 'prometheus', shards: 2, alertmanagers: ['http://127.0.0.1:9093', 'https://am.example.org/alertmanager'] } }),
  );
  vm = { dir: await writeArtifacts(vmFiles), files: vmFiles };
  prom = { dir: await writeArtifacts(promFiles), files: promFiles };
});

const processNamed = (files: ArtifactFiles, name: string): ScaleProcess => {
  const p = topologyOf(files).processes.find((x) => x.name === name);
  if (!p) throw new Error(`no process ${name}`);
  return p;
};

describe('the generated rule files', () => {
  it('load in promtool check rules', async () => {
    const r = await runTool('promtool', ['check', 'rules', SCALE_FILES.perNodeRules, SCALE_FILES.centralRules], vm.dir);
    expect(r.code, r.output).toBe(0);
  });

  it("central.yml passes the engine self-checks' promtool tests, central.test.yml", async () => {
    const r = await runTool('promtool', ['test', 'rules', 'central.test.yml'], join(vm.dir, 'scale/rules'), 60_000);
    expect(r.output).toContain('SUCCESS');
    expect(r.code, r.output).toBe(0);
  });

  it('fails those tests when a self-check reads the wrong condition', async () => {
    const dir = await writeArtifacts(vm.files);
    const central = vm.files.get(SCALE_FILES.centralRules) ?? '';
    const broken = central.replace('(vmalert_config_last_reload_successful) == 0', '(vmalert_config_last_reload_successful) == 1');
    expect(broken).not.toBe(central);
    await writeFile(join(dir, SCALE_FILES.centralRules), broken);
    const r = await runTool('promtool', ['test', 'rules', 'central.test.yml'], join(dir, 'scale/rules'), 60_000);
    expect(r.output).toContain('VmalertConfigReloadFailed');
    expect(r.code).not.toBe(0);
  });

  it("load in vmalert, with vmalert's generated command line and -dryRun", async () => {
    const vmalert = processNamed(vm.files, 'vmalert');
    const r = await runTool(vmalert.command, [...vmalert.args, '-dryRun'], vm.dir, 30_000);
    expect(r.code, r.output).toBe(0);
  });

  it('fail the same vmalert check when a rule does not parse', async () => {
    const dir = await writeArtifacts(vm.files);
    const broken = (vm.files.get(SCALE_FILES.centralRules) ?? '').replace('avg by (cluster) (', 'avg by (cluster) ((');
    await writeFile(join(dir, SCALE_FILES.centralRules), broken);
    const vmalert = processNamed(vm.files, 'vmalert');
    const r = await runTool(vmalert.command, [...vmalert.args, '-dryRun'], dir, 30_000);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('central.yml');
  });
});

describe('the generated scrape and server configs', () => {
  it("load in vmagent, with each shard's generated command line and -dryRun", async () => {
    for (const name of ['vmagent-shard-0', 'vmagent-shard-1']) {
      const shard = processNamed(vm.files, name);
      const r = await runTool(shard.command, [...shard.args, '-dryRun'], vm.dir, 30_000);
      expect(r.code, `${name}: ${r.output}`).toBe(0);
    }
  });

  it('load in promtool check config: every Prometheus shard and the central Prometheus, with their rule files', async () => {
    const configs = [SCALE_FILES.shardPrometheus(0), SCALE_FILES.shardPrometheus(1), SCALE_FILES.centralPrometheus];
    for (const config of configs) {
      const r = await runTool('promtool', ['check', 'config', config], prom.dir);
      expect(r.code, `${config}: ${r.output}`).toBe(0);
      expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    }
  });
});
