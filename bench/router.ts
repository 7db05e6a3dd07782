/**
 * The alert router on SQLite (a file, WAL, as in production), on loopback:
 * - webhook intake. Each webhook carries a whole group (5 GPU alerts of one node), as Alertmanager
 *   sends it: most repeat open groups (the dedupe path), some open a new incident (which queues its
 *   page mail), some resolve a group (which closes the incident and writes its postmortem). The
 *   router runs as its own process and delivers its mails to an SMTP server here meanwhile. Two
 *   loads: sustained — webhooks at the goal's rate, latency counted from when each was due — and
 *   capacity — a fixed number of senders posting back to back.
 *   Goal: ≥ 1,000 alerts/s with p99 ≤ 20 ms per webhook.
 * - timer lateness: 1,000 acknowledgement deadlines due at the same moment, fired by the
 *   background poller (each one an escalation: mails queued, timeline, next deadline).
 *   Goal: the last one done ≤ 1 s after they were due.
 *
 * Run directly: `npx tsx bench/router.ts [seconds]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { routerConfigSchema } from '../src/config/router.js';
import { resolveRouterConfig } from '../alertmanager/options.js';
import { startRouter, type RunningRouter } from '../alertmanager/service.js';
import { SmtpSink } from '../stack/mail-catcher.js';
import { fingerprintOf } from '../alertmanager/testing/webhooks.js';
import { createLogger } from '../src/log.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUTER_MAIN = fileURLToPath(new URL('../alertmanager/testing/router-main.ts', import.meta.url));
const GPUS_PER_GROUP = 5;
const TEAM = [
  { name: 'ana', email: 'ana@oncall.example' },
  { name: 'ben', email: 'ben@oncall.example' },
];

export interface IntakeLoad {
  seconds: number;
  /** Senders (saturated) or the most webhooks in flight (paced). */
  senders: number;
  /** Paced: the webhooks sent per second. */
  ratePerSecond?: number;
  webhooks: number;
  alerts: number;
  alertsPerSecond: number;
  webhooksPerSecond: number;
  incidentsOpened: number;
  incidentsClosed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
}

export interface TimerLateness {
  timers: number;
  /** From the moment they were all due until the last one had fired (committed). */
  lastDoneAfterMs: number;
  /** Per timer, fired_at − due_at (when its batch started). */
  p50StartMs: number;
  maxStartMs: number;
}

export interface RouterBenchResult {
  sustained: IntakeLoad;
  capacity: IntakeLoad;
  timers: TimerLateness;
  goals: { alertsPerSecond: number; p99Ms: number; timerLatenessMs: number };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function startBenchRouter(dir: string, config: Record<string, unknown>, smtpPort: number): Promise<RunningRouter> {
  const parsed = routerConfigSchema.parse({
    listen: '127.0.0.1:0',
    db: `sqlite://${join(dir, 'router.db')}`,
    apiToken: 'bench',
    team: TEAM,
    smtp: { host: '127.0.0.1', port: smtpPort, from: 'router@bench.example' },
    ...config,
  });
  const options = await resolveRouterConfig(parsed, [{ name: 'prod-a', priority: 'production' }]);
  return startRouter(options, createLogger('router-bench', 'silent'));
}

function groupAlerts(node: number, status: 'firing' | 'resolved', startsAt: string): unknown[] {
  return Array.from({ length: GPUS_PER_GROUP }, (_, gpu) => {
    const labels = { alertname: 'GpuXidErrors', severity: '2', cluster: 'prod-a', node: `node-${node}`, gpu: String(gpu), uuid: `GPU-${node}-${gpu}` };
    return {
      status,
      labels,
      annotations: { summary: `XID errors on node-${node}`, description: 'The driver reported XID errors.', runbook_url: 'https://runbooks.example/xid' },
      startsAt,
      endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph',
      fingerprint: fingerprintOf(labels),
    };
  });
}

function post(url: string, agent: Agent, body: string): Promise<{ status: number; ms: number; json: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, json: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The traffic: 80 % repeats of open groups, 15 % new groups, 5 % resolutions (a deterministic sequence). */
class Traffic {
  private readonly open: { node: number; startsAt: string }[] = [];
  private nextNode = 0;
  private seed = 42;

  next(): unknown[] {
    const dice = this.roll();
    if (dice < 0.15 || this.open.length < 10) {
      const group = { node: this.nextNode++, startsAt: new Date().toISOString() };
      this.open.push(group);
      return groupAlerts(group.node, 'firing', group.startsAt);
    }
    if (dice < 0.2) {
      const [group] = this.open.splice(Math.floor(this.roll() * this.open.length), 1) as [{ node: number; startsAt: string }];
      return groupAlerts(group.node, 'resolved', group.startsAt);
    }
    const group = this.open[Math.floor(this.roll() * this.open.length)] as { node: number; startsAt: string };
    return groupAlerts(group.node, 'firing', group.startsAt);
  }

  private roll(): number {
    this.seed = (this.seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return this.seed / 2_147_483_648;
  }
}

interface Tally {
  latencies: number[];
  alerts: number;
  errors: number;
  opened: number;
  closed: number;
}

async function send(url: string, agent: Agent, alerts: unknown[], tally: Tally, sinceMs: number): Promise<void> {
  const answer = await post(url, agent, JSON.stringify({ version: '4', status: 'firing', receiver: 'router', groupLabels: {}, commonLabels: {}, alerts }));
  tally.latencies.push(performance.now() - sinceMs);
  if (answer.status !== 200) {
    tally.errors++;
    return;
  }
  tally.alerts += alerts.length;
  const result = JSON.parse(answer.json) as { opened: number[]; closed: number[] };
  tally.opened += result.opened.length;
  tally.closed += result.closed.length;
}

function summary(tally: Tally, seconds: number, senders: number, ratePerSecond?: number): IntakeLoad {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return {
    seconds,
    senders,
    ratePerSecond,
    webhooks: sorted.length,
    alerts: tally.alerts,
    alertsPerSecond: tally.alerts / seconds,
    webhooksPerSecond: sorted.length / seconds,
    incidentsOpened: tally.opened,
    incidentsClosed: tally.closed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    errors: tally.errors,
  };
}

/**
 * The router as its own process (`gpuwatch router`), as in production: the senders here do not
 * share its event loop. Its mails go to an SMTP server in this process, so pages are delivered
 * while the load runs.
 */
async function withIntakeRouter<T>(work: (url: string, agent: Agent, traffic: Traffic) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-router-bench-'));
  const smtp = await SmtpSink.start();
  const config = join(dir, 'gpuwatch.yaml');
  await writeFile(
    config,
    stringify({
      clusters: [{ name: 'prod-a', priority: 'production', layout: 'layout.yaml' }],
      router: {
        listen: '127.0.0.1:0',
        db: 'sqlite://./router.db',
        apiToken: 'bench',
        team: TEAM,
        smtp: { host: '127.0.0.1', port: smtp.port, from: 'router@bench.example' },
      },
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', ROUTER_MAIN, 'router', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, GPUWATCH_LOG_LEVEL: 'info' },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const base = await listeningUrl(child);
    const url = `${base}/api/v1/alertmanager`;
    const traffic = new Traffic();
    // Warm-up: open groups to repeat, and the JIT.
    const warm: Tally = { latencies: [], alerts: 0, errors: 0, opened: 0, closed: 0 };
    for (let i = 0; i < 300; i++) await send(url, agent, traffic.next(), warm, performance.now());
    return await work(url, agent, traffic);
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await smtp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the router did not start:\n${log}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const url = /"url":"(http:\/\/[^"]+)"[^\n]*alert router listening/.exec(log)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.once('exit', (code) => reject(new Error(`the router exited with ${code}:\n${log}`)));
  });
}

/**
 * Sustained load: webhooks sent at a fixed rate whatever the answers (at most `maxInFlight`
 * outstanding); latency counts from the moment each was due to be sent, so queueing is not hidden.
 */
export async function benchIntakePaced(seconds = 20, webhooksPerSecond = 200, maxInFlight = 64): Promise<IntakeLoad> {
  return withIntakeRouter(async (url, agent, traffic) => {
    const tally: Tally = { latencies: [], alerts: 0, errors: 0, opened: 0, closed: 0 };
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    const total = Math.round(seconds * webhooksPerSecond);
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / webhooksPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const request = send(url, agent, traffic.next(), tally, due).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
    return summary(tally, (performance.now() - started) / 1000, maxInFlight, webhooksPerSecond);
  });
}

/** Capacity: `senders` post back to back for `seconds`; latency then is mostly waiting in line. */
export async function benchIntakeSaturated(seconds = 10, senders = 16): Promise<IntakeLoad> {
  return withIntakeRouter(async (url, agent, traffic) => {
    const tally: Tally = { latencies: [], alerts: 0, errors: 0, opened: 0, closed: 0 };
    const until = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: senders }, async () => {
        while (performance.now() < until) await send(url, agent, traffic.next(), tally, performance.now());
      }),
    );
    return summary(tally, (performance.now() - started) / 1000, senders);
  });
}

/** 1,000 open incidents whose acknowledgement deadlines all fall on the same moment. */
export async function benchTimers(count = 1_000): Promise<TimerLateness> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-router-bench-'));
  const smtp = await SmtpSink.start();
  const running = await startBenchRouter(
    dir,
    { sla: [{ severity: [0, 1, 2, 3], acknowledge: '1h', update: '1h', hours: '24x7' }], pollInterval: '1s' },
    smtp.port,
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const url = `${running.url}/api/v1/alertmanager`;
    for (let i = 0; i < count; i += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, count - i) }, (_, j) =>
          post(
            url,
            agent,
            JSON.stringify({ version: '4', status: 'firing', receiver: 'router', alerts: groupAlerts(i + j, 'firing', new Date().toISOString()).slice(0, 1) }),
          ),
        ),
      );
    }
    // Every deadline moved to the same moment, 1.5 s ahead, as if they had been set together.
    const due = Date.now() + 1_500;
    await running.db.updateTable('router_timers').set({ due_at: due }).where('kind', '=', 'ack').execute();
    running.router.onWork.timerAt(due);
    const doneCount = async () =>
      Number(
        (
          await running.db
            .selectFrom('router_incidents')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('escalation_tier', '=', 1)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    let lastDoneAfterMs = Number.NaN;
    for (let i = 0; i < 1_000; i++) {
      if ((await doneCount()) >= count) {
        lastDoneAfterMs = Date.now() - due;
        break;
      }
      await sleep(5);
    }
    const rows = await running.db.selectFrom('router_events').select('at').where('kind', '=', 'escalated').execute();
    const starts = rows.map((r) => Number(r.at) - due).sort((a, b) => a - b);
    return { timers: starts.length, lastDoneAfterMs, p50StartMs: percentile(starts, 50), maxStartMs: starts.at(-1) ?? Number.NaN };
  } finally {
    agent.destroy();
    await running.close();
    await smtp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sustained load at the goal (1,000 alerts/s) for `seconds`, capacity for half as long, then the timers. */
export async function benchRouter(seconds = 20): Promise<RouterBenchResult> {
  const sustained = await benchIntakePaced(seconds, 1_000 / GPUS_PER_GROUP);
  const capacity = await benchIntakeSaturated(Math.max(1, seconds / 2), 16);
  const timers = await benchTimers();
  return { sustained, capacity, timers, goals: { alertsPerSecond: 1_000, p99Ms: 20, timerLatenessMs: 1_000 } };
}

export function printRouter(result: RouterBenchResult): void {
  const { sustained, capacity, timers, goals } = result;
  const f = (n: number, d = 1) => n.toFixed(d);
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const line = (r: IntakeLoad) =>
    `${r.webhooks} webhooks (${f(r.webhooksPerSecond, 0)}/s), ${r.alerts} alerts (${f(r.alertsPerSecond, 0)}/s); ${r.incidentsOpened} incidents opened, ${r.incidentsClosed} closed; ` +
    `p50 ${f(r.p50Ms, 2)} ms, p99 ${f(r.p99Ms, 2)} ms, max ${f(r.maxMs, 2)} ms; ${r.errors} errors`;
  console.log(`## router webhook intake, SQLite file (WAL), ${GPUS_PER_GROUP} alerts per webhook: 80 % repeats, 15 % new incidents, 5 % resolutions`);
  console.log(`sustained, ${sustained.ratePerSecond} webhooks/s for ${f(sustained.seconds)} s (≤ ${sustained.senders} in flight): ${line(sustained)}`);
  console.log(`capacity, ${capacity.senders} senders back to back for ${f(capacity.seconds)} s: ${line(capacity)}`);
  console.log(
    `goal ≥ ${goals.alertsPerSecond} alerts/s with p99 ≤ ${goals.p99Ms} ms: ${met(sustained.alertsPerSecond >= goals.alertsPerSecond && sustained.p99Ms <= goals.p99Ms && sustained.errors === 0)}`,
  );
  console.log(`## router timers: ${timers.timers} acknowledgement deadlines due at once (each an escalation: 2 mails queued, timeline, next deadline)`);
  console.log(
    `all done ${f(timers.lastDoneAfterMs, 0)} ms after they were due; firing started p50 ${f(timers.p50StartMs, 0)} ms, max ${f(timers.maxStartMs, 0)} ms late`,
  );
  console.log(`goal ≤ ${goals.timerLatenessMs} ms: ${met(timers.lastDoneAfterMs <= goals.timerLatenessMs && timers.timers === 1_000)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.argv[2] ?? 20);
  benchRouter(seconds).then(printRouter, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
