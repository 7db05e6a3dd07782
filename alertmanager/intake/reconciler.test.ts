/**
 * Against Debian's real Alertmanager (0.25): its webhooks open and close incidents, and the
 * reconciler closes an incident whose alert resolved while silenced (Alertmanager never sends that
 * resolution) but leaves a silenced alert that still fires alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { systemClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { request, startTestRouter, testOptions } from '../testing/harness.js';
import { freePort } from '../../test/ports.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

let dir: string;
let alertmanager: ChildProcess;
let amUrl: string;
let running: RunningRouter;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'router-am-'));
  const amPort = await freePort();
  amUrl = `http://127.0.0.1:${amPort}`;
  running = await startTestRouter(await testOptions({ reconcile: { alertmanagerUrl: amUrl } }), systemClock);
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    stringify({
      route: { receiver: 'router', group_by: ['cluster', 'alertname', 'node'], group_wait: '100ms', group_interval: '200ms', repeat_interval: '1h' },
      receivers: [{ name: 'router', webhook_configs: [{ url: `${running.url}/api/v1/alertmanager`, send_resolved: true }] }],
    }),
  );
  alertmanager = spawn(ALERTMANAGER, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
  await until('Alertmanager to be ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));
}, 20_000);

afterAll(async () => {
  alertmanager?.kill('SIGKILL');
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
});

const labels = (node: string) => ({ alertname: 'GpuFellOffTheBus', severity: '0', cluster: 'prod-a', node, gpu: '3', uuid: `GPU-${node}-3` });

async function sendToAlertmanager(node: string, endsAt: number): Promise<void> {
  const body = [{ labels: labels(node), annotations: { summary: `GPU 3 of ${node} fell off the bus` }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(endsAt).toISOString(), generatorURL: 'http://prometheus.example/graph' }];
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function silence(node: string): Promise<void> {
  const body = { matchers: [{ name: 'node', value: node, isRegex: false, isEqual: true }], startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: 'test', comment: 'maintenance' };
  const res = await fetch(`${amUrl}/api/v2/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

const incidentFor = async (node: string) => ((await request(`${running.url}/api/v1/incidents?status=all`)).json.incidents as any[]).find((i) => i.subject === node);

describe('with a real Alertmanager', () => {
  it('opens an incident from its webhook and closes it on its resolved webhook', async () => {
    await sendToAlertmanager('node-a', Date.now() + 3_600_000);
    const opened = await until('the incident to open', () => incidentFor('node-a'));
    expect(opened).toMatchObject({ status: 'open', severity: 0, cluster: 'prod-a', title: 'GPU 3 of node-a fell off the bus' });
    await sendToAlertmanager('node-a', Date.now());
    const closed = await until('the incident to resolve', async () => ((await incidentFor('node-a'))?.status === 'resolved' ? incidentFor('node-a') : undefined));
    expect(closed.resolvedBy).toBe('alertmanager');
  });

  it('closes an incident whose alert resolved while silenced, and keeps a silenced alert that still fires', async () => {
    await sendToAlertmanager('node-s', Date.now() + 3_600_000);
    await sendToAlertmanager('node-t', Date.now() + 3_600_000);
    await until('both incidents to open', async () => ((await incidentFor('node-s')) && (await incidentFor('node-t')) ? true : undefined));
    await silence('node-s');
    await silence('node-t');
    await sendToAlertmanager('node-s', Date.now());
    // Alertmanager stays quiet about a silenced resolution.
    await new Promise((r) => setTimeout(r, 800));
    expect((await incidentFor('node-s')).status).toBe('open');

    const result = await running.router.reconcileOnce();
    expect(result?.incidentsClosed).toEqual([(await incidentFor('node-s')).id]);
    expect(await incidentFor('node-s')).toMatchObject({ status: 'resolved', resolvedBy: 'reconciler' });
    expect((await incidentFor('node-t')).status).toBe('open');
    expect((await running.router.reconcileOnce())?.alertsClosed).toBe(0);
  });
});
