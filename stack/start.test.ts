/**
 * `gpuwatch stack` started for real (replay exporters, Debian's Prometheus and Alertmanager, the
 * router, the rule service): the admission rules it loads, and the links its banner prints.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { ROOT } from '../test/cli.js';
import { freePort, freePortRange } from '../test/ports.js';
import { SMALL_LAYOUT, tempDirWith } from '../rules-gen/testing/test-support.js';
import { banner } from './cli.js';
import { startStack, type RunningStack } from './index.js';

const RECORDING = join(ROOT, 'test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/q-busy.xml');
const silent = () => createLogger('stack-test', 'silent');

async function stackDir(extraStack = ''): Promise<string> {
  const [router, ruleService, prometheus, alertmanager, exporters] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePortRange(2),
  ];
  const dir = await tempDirWith({
    'layout.yaml': SMALL_LAYOUT,
    'gpuwatch.yaml': `clusters:
  - {name: lab, layout: layout.yaml}
exporter: {interval: 1s, hostMetrics: false}
router: {listen: "127.0.0.1:${router}", db: "sqlite://./router.db", team: [{name: ana, email: ana@example.org}]}
ruleService: {listen: "127.0.0.1:${ruleService}", db: "sqlite://./rules.db"}
stack:
  dir: .
  replay: ${JSON.stringify(RECORDING)}
  exporterBasePort: ${exporters}
  prometheus: "127.0.0.1:${prometheus}"
  alertmanager: "127.0.0.1:${alertmanager}"
${extraStack}`,
  });
  return dir;
}

async function admission(stack: RunningStack, body: unknown): Promise<{ result: string; priority: string }> {
  const res = await fetch(`${stack.ruleService?.url}/api/v1/admission`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { result: string; priority: string };
}

describe('gpuwatch stack, started', () => {
  let dir: string;
  let stack: RunningStack | undefined;

  beforeAll(async () => {
    dir = await stackDir();
    await copyFile(join(ROOT, 'examples/rules.yaml'), join(dir, 'rules.yaml'));
    stack = await startStack(join(dir, 'gpuwatch.yaml'), silent());
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it('loads rules.yaml next to the config into the rule service, so admission follows the rules', async () => {
    const running = stack as RunningStack;
    expect(await running.ruleService?.store.list()).toHaveLength(12);
    // The seed's rules: ordinary users may only run oppo jobs, user_proh nothing at all.
    expect(await admission(running, { user: 'bob', vc: 'default', priority: 'prod', gpus: 1, held: {} })).toMatchObject({ result: 'oppo', priority: 'oppo' });
    expect(await admission(running, { user: 'user_proh', vc: 'default', priority: 'oppo', gpus: 1, held: {} })).toMatchObject({ result: 'fail' });
    expect(banner(running)).toMatch(new RegExp(`^  rule service +${running.ruleService?.url} — 12 rules from ${join(dir, 'rules.yaml')}$`, 'm'));
  });

  it("links Prometheus' classic alerts page and Alertmanager's API, both of which answer", async () => {
    const running = stack as RunningStack;
    const text = banner(running);
    const prometheusLink = new RegExp(`^  prometheus +(http://\\S+/classic/alerts)$`, 'm').exec(text)?.[1];
    expect(prometheusLink).toBe(`${running.prometheus?.url}/classic/alerts`);
    const page = await fetch(prometheusLink ?? '');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Alerts');

    const alertmanagerLine = /^ {2}alertmanager +(\S+) (.*)$/m.exec(text);
    expect(alertmanagerLine?.[1]).toBe(`${running.alertmanager?.url}/api/v2/alerts`);
    expect(alertmanagerLine?.[2]).toContain("Debian's Alertmanager has no web UI");
    const api = await fetch(alertmanagerLine?.[1] ?? '');
    expect(api.status).toBe(200);
    expect(Array.isArray(await api.json())).toBe(true);
  });

  it('loads the same rules again on the next start without touching the table', async () => {
    const before = await stack?.ruleService?.store.list();
    await stack?.stop();
    stack = undefined;
    stack = await startStack(join(dir, 'gpuwatch.yaml'), silent());
    expect(await stack.ruleService?.store.list()).toEqual(before);
    expect(banner(stack)).toContain(`12 rules from ${join(dir, 'rules.yaml')} (unchanged)`);
  }, 90_000);
});

describe('gpuwatch stack with stack.rules naming a file that is not there', () => {
  it('refuses to start, naming the key and its line', async () => {
    const dir = await stackDir('  rules: admission/rules.yaml\n');
    const file = join(dir, 'gpuwatch.yaml');
    await expect(startStack(file, silent())).rejects.toThrow(`${file}:12:10: stack.rules: ${join(dir, 'admission', 'rules.yaml')}: file not found`);
  }, 90_000);
});
