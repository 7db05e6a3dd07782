/**
 * The scaled topology as `gpuwatch stack --scale` runs it, with the real engines from Debian's
 * packages: three replay exporters → two vmagent shards → VictoriaMetrics → vmalert → two
 * Alertmanagers in one gossip cluster → two routers (processes) on one MariaDB database → e-mail
 * over SMTP on loopback, and → the rule service → the fake OpenPAI rest-server. The faults are
 * test/e2e-cluster.ts's. Once the first page is out, one Alertmanager and one router are killed
 * with SIGKILL; the stack starts them again. Every incident pages exactly once, the idle job is
 * stopped exactly once, the alerts that fire and resolve after the kill still arrive, and both
 * routers see the same incidents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalePortCount } from '../src/config/scale.js';
import { createLogger } from '../src/log.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import { eventually } from '../src/testing/eventually.js';
import type { ReceivedMail } from '../stack/mail-catcher.js';
import { startScaledStack, type RunningScaledStack } from '../stack/scale.js';
import type { Supervised } from '../stack/supervised.js';
import {
  DRI,
  e2eConfig,
  freeE2ePorts,
  IDLE_JOB,
  incidentsAt,
  type Incident,
  pagedIncidents,
  startE2eOpenPai,
  stopRequests,
  writeE2eCluster,
} from './e2e-cluster.js';
import type { FakeOpenPai } from './fake-openpai/server.js';
import { freePort, freePortRange } from './ports.js';

const KILLED = ['alertmanager-0', 'router-0'];

let openpai: FakeOpenPai;
let database: ThrowawayDatabase;
let stack: RunningScaledStack;
let alertmanagerUrls: string[];
const openBeforeKill = new Set<number>();

const processOf = (name: string): Supervised => {
  const p = stack.processes.get(name);
  if (!p) throw new Error(`no process ${name}`);
  return p;
};
const mails = (): ReceivedMail[] => stack.mail?.mails ?? [];
const incidents = (router = 'router-1') => incidentsAt(processOf(router).url);
const gossipPeers = async (url: string) => ((await (await fetch(`${url}/api/v2/status`)).json()) as { cluster: { peers: unknown[] } }).cluster.peers.length;
const bothPeers = (url: string) => eventually(async () => ((await gossipPeers(url)) === 2 ? true : undefined), 60_000, `${url} seeing both Alertmanagers`);

beforeAll(async () => {
  openpai = await startE2eOpenPai();
  database = await createThrowawayMysqlDatabase();
  alertmanagerUrls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  const basePort = await freePortRange(scalePortCount({ shards: 2, routers: 2, alertmanagers: alertmanagerUrls }));
  const scale = `scale:\n  engine: victoriametrics\n  shards: 2\n  routers: 2\n  alertmanagers: [${alertmanagerUrls.join(', ')}]\n  basePort: ${basePort}\n`;
  const ports = await freeE2ePorts();
  const config = await writeE2eCluster(e2eConfig(ports, openpai, { routerDb: database.url, scale }));
  stack = await startScaledStack(config, createLogger('scale-ha', 'warn'));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await openpai?.close();
  await database?.drop();
}, 60_000);

describe('the scaled topology under gpuwatch stack --scale, with an Alertmanager and a router killed mid-way', () => {
  it('starts every process of the topology, and the two Alertmanagers form one gossip cluster', async () => {
    // Every process of topology.json: the store, vmalert, 2 routers, 2 Alertmanagers, 2 shards, the layout constants.
    const names = stack.topology.processes.map((p) => p.name);
    expect(names).toHaveLength(9);
    expect([...stack.processes.keys()].sort()).toEqual([...names].sort());
    expect(stack.exporters).toHaveLength(3);
    expect(stack.ruleService).toBeDefined();
    for (const url of alertmanagerUrls) await bothPeers(url);
  }, 70_000);

  it('starts the killed Alertmanager and router again once the first page is out; the Alertmanager rejoins the cluster', async () => {
    await eventually(async () => (pagedIncidents(mails()).length > 0 ? true : undefined), 90_000, 'the first page');
    for (const name of KILLED) expect(processOf(name).child.kill('SIGKILL')).toBe(true);
    for (const i of await incidents()) openBeforeKill.add(i.id);
    for (const name of KILLED) {
      const p = processOf(name);
      await eventually(async () => (p.restarts === 1 && (await fetch(p.url)).status < 500 ? true : undefined), 60_000, `${name} back`);
    }
    for (const url of alertmanagerUrls) await bothPeers(url);
  }, 220_000);

  it('stops exactly the idle job on OpenPAI, once, and mails the result to its owner and the DRI', async () => {
    await eventually(async () => (stopRequests(openpai).length > 0 ? true : undefined), 90_000, 'the STOP on OpenPAI');
    const result = await eventually(async () => mails().find((m) => m.subject === `Job ${IDLE_JOB}: kill done`), 60_000, 'the action result mail');
    expect(result.to).toEqual(expect.arrayContaining(['alice@research.example', DRI]));
    expect(openpai.job(IDLE_JOB)?.executionType).toBe('STOP');
    expect(openpai.job('bob~busy-train')?.executionType).toBe('START');
  }, 160_000);

  it('opens the ECC and missing-GPU incidents and resolves both when their alerts resolve, after the kill', async () => {
    const resolved = await eventually(
      async () => {
        const done = (await incidents()).filter((i) => i.status === 'resolved' && ['e2e-w1', 'e2e-w2'].includes(i.subject) && /ECC|GPUs/.test(i.title));
        return done.length === 2 ? done : undefined;
      },
      95_000,
      'the ECC and missing-GPU incidents to resolve',
    );
    expect(resolved.map((i) => i.resolvedBy)).toEqual(['alertmanager', 'alertmanager']);
  }, 100_000);

  it('pages every incident exactly once and for nothing else; both routers list the same incidents; one STOP in the whole run', async () => {
    // The same rows; each router links its own board.
    const withoutLink = ({ url: _url, ...incident }: Incident & { url?: string }) => incident;
    const [first, second] = [await incidents('router-0'), await incidents('router-1')];
    expect(first.map(withoutLink)).toEqual(second.map(withoutLink));
    expect(second.length).toBeGreaterThanOrEqual(3);
    const paged = pagedIncidents(mails());
    // Incidents opened after the kill were paged too (the idle job's fires ~15 s after the first page).
    expect(second.filter((i) => !openBeforeKill.has(i.id)).length).toBeGreaterThan(0);
    expect([...paged].sort((a, b) => a - b)).toEqual(second.map((i) => i.id).sort((a, b) => a - b));
    expect(new Set(paged).size).toBe(paged.length);
    expect(second.map((i) => i.title).join('\n')).not.toMatch(/temperature/i);
    expect(stopRequests(openpai)).toEqual([`/api/v2/jobs/${IDLE_JOB}/executionType`]);
  });
});
