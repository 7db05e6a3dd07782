/**
 * A group that Debian's real Alertmanager (0.25) truncates with `max_alerts: 2`: four alerts of one
 * node, two listed per webhook. The router keeps one incident for the whole story — the alerts it
 * is shown late join it, nothing pages twice — and closes it once Alertmanager holds none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../service.js';
import { request } from '../testing/harness.js';
import { startRouterBehindAlertmanager, until, type RouterBehindAlertmanager } from '../testing/real-alertmanager.js';
import { SmtpSink } from '../../stack/mail-catcher.js';

let behind: RouterBehindAlertmanager;
let amUrl: string;
let running: RunningRouter;
let smtp: SmtpSink;

beforeAll(async () => {
  smtp = await SmtpSink.start();
  behind = await startRouterBehindAlertmanager({ tmpPrefix: 'router-am-truncated-', groupInterval: '300ms', maxAlerts: 2, smtpPort: smtp.port });
  ({ running, amUrl } = behind);
}, 20_000);

afterAll(async () => {
  await behind?.close();
  await smtp?.stop();
});

const labels = (gpu: number) => ({ alertname: 'GpuXidErrors', severity: '1', cluster: 'prod-a', node: 'node-t', gpu: String(gpu), uuid: `GPU-node-t-${gpu}` });

async function send(gpus: number[], endsAt: number): Promise<void> {
  const body = gpus.map((gpu) => ({
    labels: labels(gpu),
    annotations: { summary: 'XID errors on node-t' },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
  }));
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
    // The webhook that lists them resolved is handled in one transaction: once the router knows
    // them resolved, it has also kept the incident open (Alertmanager left two alerts out), and
    // Alertmanager sends nothing more while the group does not change.
    await until('the resolutions', async () => ((await knownAlerts()).filter((a) => a.status === 'resolved').length >= 2 ? true : undefined));
    expect((await incidents()).map((i) => [i.id, i.status])).toEqual([[1, 'open']]);
    // Now the rest resolve too.
    await send(
      [0, 1, 2, 3].filter((g) => !shown.includes(g)),
      Date.now() - 1_000,
    );
    // Alertmanager's webhook for the changed group reports every alert resolved and closes it;
    // the reconciler then finds nothing to change.
    const closed = await until('the incident to resolve', async () => (await incidents()).find((i) => i.status === 'resolved'));
    expect(closed).toMatchObject({ id: 1, resolvedBy: 'alertmanager' });
    await running.router.reconcileOnce();
    expect((await incidents()).map((i) => [i.id, i.status])).toEqual([[1, 'resolved']]);
    await running.router.deliverOutbox();
    expect(smtp.mails.map((m) => m.subject.replace(/ \(.*/, ''))).toEqual(['[SEV1] XID errors on node-t', '[RESOLVED] XID errors on node-t']);
  }, 30_000);
});
