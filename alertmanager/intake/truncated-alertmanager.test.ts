/**
 * A group that Debian's real Alertmanager (0.25) truncates with `max_alerts: 2`: four alerts of one
 * node, two listed per webhook. The router keeps one incident for the whole story — the alerts it
 * is shown late join it, nothing pages twice — and closes it once Alertmanager holds none of them.
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
import { SmtpSink } from '../../stack/mail-catcher.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

let dir: string;
let alertmanager: ChildProcess;
let amUrl: string;
let running: RunningRouter;
let smtp: SmtpSink;

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
  dir = mkdtempSync(join(tmpdir(), 'router-am-truncated-'));
  smtp = await SmtpSink.start();
  const amPort = await freePort();
  amUrl = `http://127.0.0.1:${amPort}`;
  running = await startTestRouter(await testOptions({ reconcile: { alertmanagerUrl: amUrl } }, smtp.port), systemClock);
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    stringify({
      route: { receiver: 'router', group_by: ['cluster', 'alertname', 'node'], group_wait: '100ms', group_interval: '300ms', repeat_interval: '1h' },
      receivers: [{ name: 'router', webhook_configs: [{ url: `${running.url}/api/v1/alertmanager`, send_resolved: true, max_alerts: 2 }] }],
    }),
  );
  alertmanager = spawn(ALERTMANAGER, [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn'], { stdio: 'ignore' });
  await until('Alertmanager to be ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));
}, 20_000);

afterAll(async () => {
  alertmanager?.kill('SIGKILL');
  await running?.close();
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const labels = (gpu: number) => ({ alertname: 'GpuXidErrors', severity: '1', cluster: 'prod-a', node: 'node-t', gpu: String(gpu), uuid: `GPU-node-t-${gpu}` });

async function send(gpus: number[], endsAt: number): Promise<void> {
  const body = gpus.map((gpu) => ({ labels: labels(gpu), annotations: { summary: 'XID errors on node-t' }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(endsAt).toISOString() }));
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}
const incidents = async () => (await request(`${running.url}/api/v1/incidents?status=all`)).json.incidents as any[];
const knownAlerts = async () => running.db.selectFrom('router_alerts').select(['labels', 'status']).execute();

describe('a group Alertmanager truncates (max_alerts: 2)', () => {
  it('keeps one incident and one page while alerts arrive late, and closes it when Alertmanager holds none', async () => {
    await send([0, 1, 2, 3], Date.now() + 3_600_000);
    await until('the first webhook', async () => ((await knownAlerts()).length >= 2 ? true : undefined));
    expect(await incidents()).toMatchObject([{ id: 1, status: 'open' }]);
    // Resolve the alerts the router was shown; the two it was not shown keep firing.
    const shown = (await knownAlerts()).map((a) => Number((JSON.parse(a.labels) as Record<string, string>).gpu));
    expect(shown).toHaveLength(2);
    await send(shown, Date.now() - 1_000);
    await until('the resolutions', async () => ((await knownAlerts()).filter((a) => a.status === 'resolved').length >= 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_500)); // several more group intervals
    expect((await incidents()).map((i) => [i.id, i.status])).toEqual([[1, 'open']]);
    // Now the rest resolve too.
    await send([0, 1, 2, 3].filter((g) => !shown.includes(g)), Date.now() - 1_000);
    await new Promise((r) => setTimeout(r, 1_500));
    await running.router.reconcileOnce();
    expect((await incidents()).map((i) => [i.id, i.status])).toEqual([[1, 'resolved']]);
    await running.router.deliverOutbox();
    expect(smtp.mails.map((m) => m.subject.replace(/ \(.*/, ''))).toEqual(['[SEV1] XID errors on node-t', '[RESOLVED] XID errors on node-t']);
  }, 30_000);
});
