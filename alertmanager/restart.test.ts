/**
 * Durability across `kill -9`: the router runs as a child process (`gpuwatch router`) on a SQLite
 * file and is killed with SIGKILL while acknowledgement timers are pending and its pages wait for a
 * mail server that is down. After the restart every page goes out, and every timer fires, once.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TEAM, request } from './testing/harness.js';
import { SmtpSink } from '../stack/mail-catcher.js';
import { gpuAlert, webhook } from './testing/webhooks.js';

const MAIN = fileURLToPath(new URL('./testing/router-main.ts', import.meta.url));
const INCIDENTS = 3;

let dir: string;
let smtp: SmtpSink;
let configFile: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'router-restart-'));
  smtp = await SmtpSink.start();
  configFile = join(dir, 'gpuwatch.yaml');
  writeFileSync(
    configFile,
    stringify({
      clusters: [{ name: 'prod-a', priority: 'production', layout: 'layout.yaml' }],
      router: {
        listen: '127.0.0.1:0',
        db: 'sqlite://./router.db',
        team: TEAM,
        rotation: { drisPerShift: 1, handoff: { weekday: 'monday', time: '10:00', timeZone: 'UTC' }, start: '2025-01-06' },
        sla: [{ severity: [0, 1, 2, 3], acknowledge: '3s', update: '1h', hours: '24x7' }],
        escalation: { secondLine: ['second@platform.example'], thirdLine: ['manager@platform.example'] },
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'router@platform.example', timeout: '3s' },
        pollInterval: '200ms',
        retry: { min: '200ms', max: '1s' },
      },
    }),
  );
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await smtp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `gpuwatch router --config …` and resolves with its URL once it listens. */
function startChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'router', '--config', configFile], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GPUWATCH_LOG_LEVEL: 'info' },
    });
    child = proc;
    let log = '';
    const timer = setTimeout(() => reject(new Error(`router did not start within 15 s:\n${log}`)), 15_000);
    proc.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const url = /"url":"(http:\/\/[^"]+)"[^\n]*alert router listening/.exec(log)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`router exited with ${code}:\n${log}`));
    });
  });
}

function killChild(): Promise<void> {
  const proc = child;
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

const count = (match: string) => smtp.mails.filter((m) => m.subject.includes(match)).length;

describe('a router killed with SIGKILL', () => {
  it('loses no page and fires every pending timer once after the restart', async () => {
    const url = await startChild();
    // The mail server is down: the pages wait in the outbox.
    await smtp.stop();
    const now = Date.now();
    for (let i = 0; i < INCIDENTS; i++) {
      const body = webhook([gpuAlert(`node-${i}`, { startsAt: now - 1_000 })]);
      expect((await request(`${url}/api/v1/alertmanager`, { body })).status).toBe(200);
    }
    await new Promise((r) => setTimeout(r, 300));
    await killChild();

    const db = new Database(join(dir, 'router.db'), { readonly: true });
    const pending = db.prepare("select name, due_at from router_timers where kind = 'ack' and status = 'pending' order by name").all() as {
      name: string;
      due_at: number;
    }[];
    const unsent = db.prepare("select count(*) as n from router_outbox where kind = 'page' and status = 'pending'").get() as { n: number };
    db.close();
    expect(pending.map((t) => t.name)).toEqual(['ack:1', 'ack:2', 'ack:3']);
    expect(unsent.n).toBe(INCIDENTS);
    // The deadlines pass while the router is down; the mail server comes back.
    await smtp.listen();
    const lastDue = Math.max(...pending.map((t) => t.due_at));
    await new Promise((r) => setTimeout(r, Math.max(0, lastDue - Date.now() + 200)));
    expect(smtp.mails).toEqual([]);

    await startChild();
    const isPage = (m: { subject: string }) => m.subject.startsWith('[SEV1] XID');
    await smtp.waitFor(INCIDENTS, isPage, 10_000);
    // Each incident escalates once: to the second line and the DRI again.
    await smtp.waitFor(INCIDENTS * 2, (m) => m.subject.includes('ESCALATED to second-line'), 10_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(smtp.mails.filter(isPage)).toHaveLength(INCIDENTS);
    expect(count('ESCALATED to second-line')).toBe(INCIDENTS * 2);
    expect(count('ESCALATED to third-line')).toBe(0);
    await killChild();
  }, 45_000);
});
