/**
 * The router behind Debian's real Alertmanager on loopback: the router reconciles against it, and
 * its one route sends every group to the router's webhook.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../test/ports.js';
import { systemClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { startTestRouter, testOptions } from './harness.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** Polls `probe` every 50 ms until it gives a value (a throw counts as none), or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface AlertmanagerSetup {
  /** Prefix of the temporary folder holding Alertmanager's config and storage. */
  tmpPrefix: string;
  groupInterval: string;
  /** The webhook's `max_alerts`; none when absent. */
  maxAlerts?: number;
  /** Where the router sends mail; no SMTP when absent. */
  smtpPort?: number;
}

export interface RouterBehindAlertmanager {
  running: RunningRouter;
  /** Alertmanager's base URL. */
  amUrl: string;
  close(): Promise<void>;
}

export async function startRouterBehindAlertmanager(setup: AlertmanagerSetup): Promise<RouterBehindAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), setup.tmpPrefix));
  const amPort = await freePort();
  const amUrl = `http://127.0.0.1:${amPort}`;
  const running = await startTestRouter(await testOptions({ reconcile: { alertmanagerUrl: amUrl } }, setup.smtpPort), systemClock);
  const webhook = { url: `${running.url}/api/v1/alertmanager`, send_resolved: true, ...(setup.maxAlerts === undefined ? {} : { max_alerts: setup.maxAlerts }) };
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    stringify({
      route: {
        receiver: 'router',
        group_by: ['cluster', 'alertname', 'node'],
        group_wait: '100ms',
        group_interval: setup.groupInterval,
        repeat_interval: '1h',
      },
      receivers: [{ name: 'router', webhook_configs: [webhook] }],
    }),
  );
  const alertmanager = spawn(
    ALERTMANAGER,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const close = async () => {
    alertmanager.kill('SIGKILL');
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('Alertmanager to be ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined));
  } catch (err) {
    await close();
    throw err;
  }
  return { running, amUrl, close };
}
