/**
 * The test cluster of the end-to-end tests (test/e2e.test.ts with one Prometheus, test/scale-ha.test.ts
 * with the scaled topology): three 4-GPU workers replaying a recorded H100, its gpuwatch.yaml, the
 * fake OpenPAI with its users and jobs, and reading incidents and pages back.
 *
 * The scenarios inject, within the first minute: an uncorrectable ECC error on e2e-w1 GPU 1; GPU 3
 * of e2e-w2 falls off the bus for 40 s; alice~idle-train's GPUs sit at 0 % for 70 s; and a 4 s
 * temperature spike on e2e-w0 GPU 0, far shorter than the temperature policy's `for`, which must
 * not page.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { startFakeOpenPai, type FakeOpenPai } from './fake-openpai/server.js';
import { freePort, freePortRange } from './ports.js';
import type { ReceivedMail } from '../stack/mail-catcher.js';
import { tempDirWith } from '../rules-gen/testing/test-support.js';

const RECORDING = join(ROOT, 'test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/q-busy.xml');
export const ROUTER_TOKEN = 'e2e-router-token';
const RULE_SERVICE_TOKEN = 'e2e-rule-service-token';
export const DRI = 'dri@oncall.example';
export const IDLE_JOB = 'alice~idle-train';

const LAYOUT = `machine-sku:
  h100-4x: {computing-device: {type: nvidia.com/gpu, model: H100, count: 4}}
machine-list:
  - {hostname: e2e-w0, hostip: 10.20.0.10, machine-type: h100-4x, pai-worker: "true"}
  - {hostname: e2e-w1, hostip: 10.20.0.11, machine-type: h100-4x, pai-worker: "true"}
  - {hostname: e2e-w2, hostip: 10.20.0.12, machine-type: h100-4x, pai-worker: "true"}
`;

const scenario = (body: string) => `source: ${JSON.stringify(RECORDING)}\ngpus: 4\n${body}`;
const SCENARIOS = {
  'e2e-w0.yaml': scenario(`jobs:
  - {job: ${IDLE_JOB}, vc: default, priority: test, gpus: [0, 1], startedAgo: 3h}
  - {job: bob~busy-train, vc: default, priority: prod, gpus: [2, 3], startedAgo: 3h}
events:
  - {at: 0s, until: 70s, gpus: [0, 1], set: {utilizationRatio: 0}}
  - {at: 10s, until: 14s, gpus: [0], set: {temperatureCelsius: 97}}
`),
  'e2e-w1.yaml': scenario(`jobs:
  - {job: carol~steady, vc: default, priority: prod, gpus: [0, 1, 2, 3], startedAgo: 1h}
events:
  - {at: 15s, gpus: [1], add: {ecc.uncorrectedVolatile: 1, ecc.uncorrectedAggregate: 1}}
`),
  'e2e-w2.yaml': scenario(`jobs:
  - {job: dave~steady, vc: default, priority: prod, gpus: [0, 1, 2], startedAgo: 1h}
events:
  - {at: 15s, until: 55s, gpus: [3], remove: true}
`),
};

const timing = '{groupWait: 1s, groupInterval: 2s, repeatInterval: 1h}';

export interface E2ePorts {
  router: number;
  ruleService: number;
  smtp: number;
  prometheus: number;
  alertmanager: number;
  exporters: number;
}

/** A free loopback port for each part (three consecutive ones for the exporters). */
export async function freeE2ePorts(): Promise<E2ePorts> {
  return {
    router: await freePort(),
    ruleService: await freePort(),
    smtp: await freePort(),
    prometheus: await freePort(),
    alertmanager: await freePort(),
    exporters: await freePortRange(3),
  };
}

/** Changes for the scaled topology: the routers' shared database and a `scale:` section (YAML). */
export interface E2eVariant {
  routerDb?: string;
  scale?: string;
}

/** gpuwatch.yaml of the test cluster: shortened policies and Alertmanager timings, real actions through the rule service. */
export function e2eConfig(p: E2ePorts, openpai: FakeOpenPai, variant: E2eVariant = {}): string {
  const admin = openpai.tokenFor('admin', { application: true });
  return `clusters:
  - {name: e2e, priority: production, layout: layout.yaml, router: "http://127.0.0.1:${p.router}/api/v1/alertmanager"}
policies:
  jobLowUtilization: {threshold: 0.1, window: 20s, for: 10s, action: {type: kill, grace: 15s}}
  eccUncorrectable: {window: 30s, for: 0s, severity: 1}
  nodeGpusMissing: {for: 5s}
  gpuTemperature: {threshold: 85, for: 20s}
  clusterGpusUnavailable: {threshold: 0.5}
alertmanager:
  severities: {'0': ${timing}, '1': ${timing}, '2': ${timing}, '3': ${timing}}
exporter: {interval: 1s, hostMetrics: false}
router:
  listen: 127.0.0.1:${p.router}
  db: ${variant.routerDb ?? 'sqlite://./router.db'}
  apiToken: ${ROUTER_TOKEN}
  webhookToken: e2e-webhook-token
  team: [{name: dri, email: ${DRI}}]
  workingHours: {timeZone: UTC}
  sla: [{severity: [0, 1, 2, 3], clusters: all, acknowledge: 1h, update: 1h, hours: 24x7}]
  smtp: {host: 127.0.0.1, port: ${p.smtp}, timeout: 5s}
  actions:
    dryRun: false
    grace: 1h
    minGrace: 10s
    ruleService: {url: "http://127.0.0.1:${p.ruleService}", token: ${RULE_SERVICE_TOKEN}}
    openpai: {url: "${openpai.url}", token: ${admin}}
  pollInterval: 250ms
  retry: {min: 1s, max: 5s}
ruleService:
  listen: 127.0.0.1:${p.ruleService}
  db: sqlite://./rules.db
  apiToken: ${RULE_SERVICE_TOKEN}
  openpai: {url: "${openpai.url}", token: ${admin}}
stack:
  dir: .
  scenarios: scenarios
  exporterBasePort: ${p.exporters}
  prometheus: 127.0.0.1:${p.prometheus}
  alertmanager: 127.0.0.1:${p.alertmanager}
${variant.scale ?? ''}`;
}

/** The fake OpenPAI with the scenarios' users and the two jobs of e2e-w0. */
export async function startE2eOpenPai(): Promise<FakeOpenPai> {
  const openpai = await startFakeOpenPai({ users: [{ name: 'admin', admin: true }, { name: 'alice', email: 'alice@research.example' }, { name: 'bob' }] });
  openpai.addJob({ user: 'alice', name: 'idle-train', gpus: 2 });
  openpai.addJob({ user: 'bob', name: 'busy-train', gpus: 2 });
  return openpai;
}

/** A directory with the layout, `config` as gpuwatch.yaml and the scenarios; returns gpuwatch.yaml's path. */
export async function writeE2eCluster(config: string): Promise<string> {
  const dir = await tempDirWith({ 'layout.yaml': LAYOUT, 'gpuwatch.yaml': config });
  await mkdir(join(dir, 'scenarios'));
  for (const [name, text] of Object.entries(SCENARIOS)) await writeFile(join(dir, 'scenarios', name), text);
  return join(dir, 'gpuwatch.yaml');
}

export interface Incident {
  id: number;
  title: string;
  severity: number;
  cluster: string;
  scope: string;
  subject: string;
  status: string;
  acknowledgedBy: string | null;
  resolvedBy: string | null;
}

/** Every incident a router lists (its API, with the test's token). */
export async function incidentsAt(routerUrl: string): Promise<Incident[]> {
  const res = await fetch(`${routerUrl}/api/v1/incidents?status=all`, { headers: { authorization: `Bearer ${ROUTER_TOKEN}` } });
  return ((await res.json()) as { incidents: Incident[] }).incidents;
}

/** The DRI's pages of one incident. */
export const pagesOf = (mails: ReceivedMail[], incident: number) =>
  mails.filter((m) => m.to.includes(DRI) && new RegExp(`^\\[SEV\\d\\] .* #${incident}$`).test(m.subject));

/** The incident ids of every page the DRI got, in order. */
export const pagedIncidents = (mails: ReceivedMail[]) =>
  mails.filter((m) => m.to.includes(DRI) && /^\[SEV\d\]/.test(m.subject)).map((m) => Number(/#(\d+)$/.exec(m.subject)?.[1]));

/** The job STOPs OpenPAI received, by path. */
export const stopRequests = (openpai: FakeOpenPai) =>
  openpai.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/executionType')).map((r) => r.path);
