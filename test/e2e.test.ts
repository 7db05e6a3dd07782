/**
 * The whole chain with the real engines, as `gpuwatch stack` runs it: replay exporters for three
 * workers → Prometheus (Debian's, generated scrape config and rules, 1 s intervals) → Alertmanager
 * (generated config) → the router → e-mail over real SMTP on loopback, and → the rule service → the
 * fake OpenPAI rest-server. Policies, Alertmanager timings and the action grace are shortened; the
 * injected faults are test/e2e-cluster.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DRI,
  e2eConfig,
  freeE2ePorts,
  IDLE_JOB,
  incidentsAt,
  pagedIncidents,
  pagesOf as pagesIn,
  startE2eOpenPai,
  stopRequests,
  writeE2eCluster,
} from './e2e-cluster.js';
import type { FakeOpenPai } from './fake-openpai/server.js';
import { createLogger } from '../src/log.js';
import { startStack, type RunningStack } from '../stack/index.js';
import type { ReceivedMail } from '../stack/mail-catcher.js';

let openpai: FakeOpenPai;
let stack: RunningStack;
const startedAt = Date.now();

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const res = await fetch(`${stack.prometheus?.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${promql}`);
  return body.data.result;
}

/** Polls `probe` every 500 ms until it returns a value, for at most `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** The firing series of an alert, or undefined while none fires. */
const firing = async (alertname: string) => {
  const series = await query(`ALERTS{alertname="${alertname}", alertstate="firing"}`);
  return series.length > 0 ? series : undefined;
};
const mails = (): ReceivedMail[] => stack.mail?.mails ?? [];
const pagesOf = (incident: number) => pagesIn(mails(), incident);

const incidents = () => incidentsAt(stack.router.url);

const incidentFor = async (title: RegExp, subject: string) => (await incidents()).find((i) => title.test(i.title) && i.subject === subject);

beforeAll(async () => {
  openpai = await startE2eOpenPai();
  const ports = await freeE2ePorts();
  stack = await startStack(await writeE2eCluster(e2eConfig(ports, openpai)), createLogger('e2e', 'warn'));
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await openpai?.close();
}, 60_000);

describe('the whole chain, with real Prometheus and Alertmanager', () => {
  it('starts every part and misses none: three exporters, Prometheus, Alertmanager, router, rule service, mail', () => {
    expect(stack.exporters).toHaveLength(3);
    expect(stack.prometheus).toBeDefined();
    expect(stack.alertmanager).toBeDefined();
    expect(stack.ruleService).toBeDefined();
    expect(stack.mail).toBeDefined();
    expect(stack.missing).toEqual([]);
  });

  it('fires GpuEccUncorrectable on e2e-w1 GPU 1, NodeGpusMissing on e2e-w2 and GpuJobLowUtilization for the idle job, each with its cluster, target and severity labels', async () => {
    const ecc = await eventually('GpuEccUncorrectable', () => firing('GpuEccUncorrectable'), 90_000);
    expect(ecc.map((s) => s.metric)).toEqual([expect.objectContaining({ cluster: 'e2e', node: 'e2e-w1', gpu: '1', severity: '1' })]);

    const missing = await eventually('NodeGpusMissing', () => firing('NodeGpusMissing'), 60_000);
    expect(missing.map((s) => s.metric)).toEqual([expect.objectContaining({ cluster: 'e2e', node: 'e2e-w2', severity: '2' })]);

    const idle = await eventually('GpuJobLowUtilization', () => firing('GpuJobLowUtilization'), 60_000);
    expect(idle.map((s) => s.metric)).toEqual([
      expect.objectContaining({ cluster: 'e2e', job: IDLE_JOB, user: 'alice', vc: 'default', action: 'kill', severity: '3' }),
    ]);
  }, 200_000);

  it("opens a severity-1 node incident for the ECC error, pages the DRI by e-mail, and the page's ack link acknowledges it", async () => {
    const ecc = await eventually('the ECC incident', () => incidentFor(/uncorrectable ECC/i, 'e2e-w1'), 30_000);
    expect(ecc).toMatchObject({ cluster: 'e2e', severity: 1, scope: 'node' });
    const [page] = await eventually('the page for the ECC incident', async () => (pagesOf(ecc.id).length > 0 ? pagesOf(ecc.id) : undefined), 30_000);
    const ack = /Acknowledge: (\S+)/.exec(page?.text ?? '')?.[1];
    expect(ack).toMatch(new RegExp(`^${stack.router.url}/ack/`));
    // The link opens a page with an Acknowledge button; the button POSTs.
    const answer = await fetch(ack ?? '', { method: 'POST' });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain(`Incident #${ecc.id} acknowledged`);
    expect((await incidentFor(/uncorrectable ECC/i, 'e2e-w1'))?.status).toBe('acknowledged');
  }, 90_000);

  it("warns the idle job's owner, stops exactly that job on OpenPAI after the policy's grace, and mails the result to the owner and the DRI", async () => {
    const warning = await eventually(
      'the owner warning',
      async () => mails().find((m) => m.to.includes('alice@research.example') && m.subject.startsWith(`Your job ${IDLE_JOB} will be stopped`)),
      60_000,
    );
    expect(warning.text).toContain('GpuJobLowUtilization');
    const stop = await eventually(
      'the STOP on OpenPAI',
      async () => openpai.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/executionType')),
      60_000,
    );
    expect(stop.path).toBe(`/api/v2/jobs/${IDLE_JOB}/executionType`);
    expect(JSON.parse(String(stop.body))).toEqual({ value: 'STOP' });
    // The grace came from the policy (15 s, the alert's action_grace), not the router's default of 1 h.
    expect(openpai.job(IDLE_JOB)?.executionType).toBe('STOP');
    expect(openpai.job('bob~busy-train')?.executionType).toBe('START');
    const result = await eventually('the action result mail', async () => mails().find((m) => m.subject === `Job ${IDLE_JOB}: kill done`), 30_000);
    expect(result.to).toEqual(expect.arrayContaining(['alice@research.example', DRI]));
  }, 150_000);

  it('resolves the missing-GPU and ECC incidents when their alerts resolve, and mails the DRI each resolution', async () => {
    const gpuGone = await eventually('the missing-GPU incident', () => incidentFor(/^Node e2e-w2 shows only 3 GPUs$/, 'e2e-w2'), 30_000);
    const resolved = await eventually(
      'the missing-GPU and ECC incidents to resolve',
      async () => {
        const all = await incidents();
        const done = all.filter((i) => i.status === 'resolved' && (i.id === gpuGone.id || (i.subject === 'e2e-w1' && /ECC/.test(i.title))));
        return done.length === 2 ? done : undefined;
      },
      150_000,
    );
    expect(resolved.map((i) => i.resolvedBy)).toEqual(['alertmanager', 'alertmanager']);
    for (const incident of resolved) {
      await eventually(
        `the resolved mail of #${incident.id}`,
        async () => mails().find((m) => m.to.includes(DRI) && m.subject.startsWith('[RESOLVED]') && m.subject.endsWith(`#${incident.id}`)),
        30_000,
      );
    }
  }, 200_000);

  it('records the 97 °C temperature blip but never fires, pages or opens an incident for it', async () => {
    const peak = await query('max_over_time(gpuwatch_gpu_temperature_celsius{node="e2e-w0", gpu="0"}[10m])');
    expect(Number(peak[0]?.value[1])).toBe(97);
    expect(await query('max_over_time(ALERTS{alertname="GpuTemperatureHigh", alertstate="firing"}[10m])')).toEqual([]);
    expect(mails().filter((m) => /temperature/i.test(m.subject))).toEqual([]);
    expect((await incidents()).filter((i) => /temperature/i.test(i.title))).toEqual([]);
  });

  it('pages once per incident over the whole run and for nothing else, sends one STOP (the idle job), and ends within 8 minutes', async () => {
    const all = await incidents();
    const pagedIds = pagedIncidents(mails());
    expect(new Set(pagedIds).size).toBe(pagedIds.length);
    expect([...pagedIds].sort((a, b) => a - b)).toEqual(all.map((i) => i.id).sort((a, b) => a - b));
    expect(all.map((i) => i.title).join('\n')).not.toMatch(/temperature/i);
    // One STOP in the whole run, for the idle job only.
    expect(stopRequests(openpai)).toEqual([`/api/v2/jobs/${IDLE_JOB}/executionType`]);
    expect(Date.now() - startedAt).toBeLessThan(8 * 60_000);
  });
});
