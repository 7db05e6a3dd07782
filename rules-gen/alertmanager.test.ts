/**
 * The generated alertmanager.yml in Debian's Alertmanager (0.25) and amtool: the Watchdog's own
 * route, the webhook's max_alerts, and which alerts the inhibition rules silence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { stopChild } from '../stack/external.js';
import { freePort } from '../test/ports.js';
import { ALERTMANAGER_FILE, generateRules } from './generate.js';
import { EXAMPLE_CONFIG, runTool, tempDirWith, writeArtifacts } from './testing/test-support.js';

let dir = '';
let amUrl = '';
let alertmanager: ChildProcess | undefined;
let configText = '';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  const files = generateRules(await loadConfig(EXAMPLE_CONFIG));
  configText = files.get(ALERTMANAGER_FILE) ?? '';
  dir = await writeArtifacts(files);
  const port = await freePort();
  amUrl = `http://127.0.0.1:${port}`;
  alertmanager = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, ALERTMANAGER_FILE)}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=error',
    ],
    { stdio: 'ignore' },
  );
  await until('Alertmanager to be ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));
}, 30_000);

afterAll(async () => {
  if (alertmanager) await stopChild(alertmanager);
});

interface AmAlert {
  labels: Record<string, string>;
  status: { inhibitedBy: string[] };
}

async function post(alerts: Record<string, string>[]): Promise<void> {
  const now = Date.now();
  const body = alerts.map((labels) => ({
    labels,
    annotations: {},
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
  }));
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function inhibited(count: number): Promise<Record<string, boolean>> {
  const alerts = await until('the alerts to arrive', async () => {
    const list = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as AmAlert[];
    return list.length >= count ? list : undefined;
  });
  return Object.fromEntries(alerts.map((a) => [a.labels.alertname, a.status.inhibitedBy.length > 0]));
}

describe('generated alertmanager.yml', () => {
  it('caps each webhook at alertmanager.maxAlerts (default 1000), and amtool accepts it', async () => {
    const am = parse(configText) as { receivers: { webhook_configs: { max_alerts: number }[] }[] };
    expect(am.receivers.flatMap((r) => r.webhook_configs.map((w) => w.max_alerts))).toEqual([1000]);
    const custom = await tempDirWith({
      'gpuwatch.yaml': `clusters:\n  - {name: c1, layout: layout.yaml}\nalertmanager: {maxAlerts: 50}\n`,
      'layout.yaml': `machine-sku:\n  g: {computing-device: {type: nvidia.com/gpu, count: 8}}\nmachine-list:\n  - {hostname: w0, hostip: 10.0.0.1, machine-type: g, pai-worker: "true"}\n`,
    });
    const text = generateRules(await loadConfig(join(custom, 'gpuwatch.yaml'))).get(ALERTMANAGER_FILE) ?? '';
    expect(text).toContain('max_alerts: 50');
    const { code, output } = await runTool('amtool', ['check-config', ALERTMANAGER_FILE], dir);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it("routes the Watchdog to the cluster's router on its own route, every minute", async () => {
    const { code, output } = await runTool(
      'amtool',
      [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_FILE}`,
        '--verify.receivers=gpuwatch-router-pai-small',
        'alertname=Watchdog',
        'watchdog=true',
        'cluster=pai-small',
      ],
      dir,
    );
    expect(code, output).toBe(0);
    const am = parse(configText) as { route: { routes: { routes: Record<string, unknown>[] }[] } };
    const first = am.route.routes[0]?.routes[0];
    expect(first).toEqual({
      matchers: ['alertname="Watchdog"', 'watchdog="true"'],
      group_by: ['cluster', 'alertname'],
      group_wait: '0s',
      group_interval: '1m',
      repeat_interval: '1m',
    });
  });

  it('lets a severity-0 cluster alert silence GPU alerts, but never the Watchdog, NodeDown, file system or pipeline alerts', async () => {
    const c = { cluster: 'pai-small' };
    await post([
      { alertname: 'ClusterGpusUnavailable', severity: '0', ...c },
      { alertname: 'Watchdog', watchdog: 'true', ...c },
      { alertname: 'GpuEccUncorrectable', severity: '2', node: 'pai-worker-1', gpu: '0', ...c },
      { alertname: 'NodeDown', severity: '2', node: 'pai-worker-0', ...c },
      { alertname: 'NodeDiskFull', severity: '2', node: 'pai-worker-2', mountpoint: '/', ...c },
      { alertname: 'SharedFilesystemFull', severity: '2', mountpoint: '/mnt/data', ...c },
      { alertname: 'ExporterDown', severity: '3', node: 'pai-worker-2', ...c },
      { alertname: 'PrometheusRuleEvaluationFailures', severity: '2', ...c },
      { alertname: 'AlertmanagerNotificationsFailing', severity: '2', ...c },
    ]);
    expect(await inhibited(9)).toEqual({
      ClusterGpusUnavailable: false,
      Watchdog: false,
      GpuEccUncorrectable: true,
      NodeDown: false,
      NodeDiskFull: false,
      SharedFilesystemFull: false,
      ExporterDown: false,
      PrometheusRuleEvaluationFailures: false,
      AlertmanagerNotificationsFailing: false,
    });
  });
});
