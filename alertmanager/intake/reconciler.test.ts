/**
 * Against Debian's real Alertmanager (0.25): its webhooks open and close incidents, and the
 * reconciler closes an incident whose alert resolved while silenced (Alertmanager never sends that
 * resolution) but leaves a silenced alert that still fires alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../service.js';
import { request } from '../testing/harness.js';
import { startRouterBehindAlertmanager, until, type RouterBehindAlertmanager } from '../testing/real-alertmanager.js';

let behind: RouterBehindAlertmanager;
let amUrl: string;
let running: RunningRouter;

beforeAll(async () => {
  behind = await startRouterBehindAlertmanager({ tmpPrefix: 'router-am-', groupInterval: '200ms' });
  ({ running, amUrl } = behind);
}, 20_000);

afterAll(async () => {
  await behind?.close();
});

const labels = (node: string) => ({ alertname: 'GpuFellOffTheBus', severity: '0', cluster: 'prod-a', node, gpu: '3', uuid: `GPU-${node}-3` });

async function sendToAlertmanager(node: string, endsAt: number): Promise<void> {
  const body = [
    {
      labels: labels(node),
      annotations: { summary: `GPU 3 of ${node} fell off the bus` },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(endsAt).toISOString(),
      generatorURL: 'http://prometheus.example/graph',
    },
  ];
  const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

async function silence(node: string): Promise<void> {
  const body = {
    matchers: [{ name: 'node', value: node, isRegex: false, isEqual: true }],
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    createdBy: 'test',
    comment: 'maintenance',
  };
  const res = await fetch(`${amUrl}/api/v2/silences`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

/** How often Alertmanager has looked up silences: once per alert each time a group's notification passes its silence check. */
const silenceQueries = async () => Number(/^alertmanager_silences_queries_total (\d+)$/m.exec(await (await fetch(`${amUrl}/metrics`)).text())?.[1]);

const incidentFor = async (node: string) =>
  ((await request(`${running.url}/api/v1/incidents?status=all`)).json.incidents as any[]).find((i) => i.subject === node);

describe('with a real Alertmanager', () => {
  it('opens an incident from its webhook and closes it on its resolved webhook', async () => {
    await sendToAlertmanager('node-a', Date.now() + 3_600_000);
    const opened = await until('the incident to open', () => incidentFor('node-a'));
    expect(opened).toMatchObject({ status: 'open', severity: 0, cluster: 'prod-a', title: 'GPU 3 of node-a fell off the bus' });
    await sendToAlertmanager('node-a', Date.now());
    const closed = await until('the incident to resolve', async () =>
      (await incidentFor('node-a'))?.status === 'resolved' ? incidentFor('node-a') : undefined,
    );
    expect(closed.resolvedBy).toBe('alertmanager');
  });

  it('closes an incident whose alert resolved while silenced, and keeps a silenced alert that still fires', async () => {
    await sendToAlertmanager('node-s', Date.now() + 3_600_000);
    await sendToAlertmanager('node-t', Date.now() + 3_600_000);
    await until('both incidents to open', async () => ((await incidentFor('node-s')) && (await incidentFor('node-t')) ? true : undefined));
    await silence('node-s');
    await silence('node-t');
    const queriesBefore = await silenceQueries();
    await sendToAlertmanager('node-s', Date.now());
    // Alertmanager stays quiet about a silenced resolution. Its groups pass the silence check each
    // group interval, one alert each: by the time it has looked up silences more than twice per
    // group it holds, node-s's group has had its turn since the resolution, and sent nothing.
    await until('node-s to pass the silence check', async () => ((await silenceQueries()) > queriesBefore + 2 * 3 ? true : undefined));
    expect((await incidentFor('node-s')).status).toBe('open');

    const result = await running.router.reconcileOnce();
    expect(result?.incidentsClosed).toEqual([(await incidentFor('node-s')).id]);
    expect(await incidentFor('node-s')).toMatchObject({ status: 'resolved', resolvedBy: 'reconciler' });
    expect((await incidentFor('node-t')).status).toBe('open');
    expect((await running.router.reconcileOnce())?.alertsClosed).toBe(0);
  });
});
