/**
 * Floods and big groups: huge label and annotation values, more pages than a person can read, a
 * group of 10,001 alerts, and groups Alertmanager truncated (`max_alerts`). Real SQLite, real SMTP.
 */
import { describe, expect, it } from 'vitest';
import type { RunningRouter } from '../service.js';
import { request } from '../testing/harness.js';
import { useRouterTestbed } from '../testing/testbed.js';
import { gpuAlert, webhook, type TestAlert } from '../testing/webhooks.js';
import { ANNOTATION_VALUE_LIMIT } from './webhook-schema.js';

const TUESDAY_10 = Date.parse('2025-03-11T09:00:00Z'); // ben is on call
const MIN = 60_000;

const bed = useRouterTestbed(TUESDAY_10);
let running: RunningRouter;

const start = async (config: Record<string, unknown> = {}) => {
  running = await bed.start(config);
};
const post = (body: unknown) => request(`${running.url}/api/v1/alertmanager`, { body });
const incidents = async (status = 'all') => (await request(`${running.url}/api/v1/incidents?status=${status}&limit=1000`)).json.incidents as any[];
async function after(ms: number): Promise<void> {
  bed.clock.advance(ms);
  await running.router.runDueTimers();
  while ((await running.router.deliverOutbox()) > 0);
}
const nodes = (count: number, severity = '1') => Array.from({ length: count }, (_, i) => gpuAlert(`node-${i}`, { severity, startsAt: TUESDAY_10 }));

describe('floods', () => {
  it('cuts huge label and annotation values with a visible marker, before storing or mailing them', async () => {
    await start();
    const alert = gpuAlert('node-1', { startsAt: TUESDAY_10 });
    const huge = 'x'.repeat(10 * 1024 * 1024);
    expect(
      (
        await post(
          webhook([{ ...alert, labels: { ...alert.labels, note: huge.slice(0, 1024 * 1024) }, annotations: { ...alert.annotations, description: huge } }]),
        )
      ).status,
    ).toBe(200);
    await after(0);
    const [page] = bed.smtp.mails;
    expect(page?.text).toContain(`[truncated by the router: ${huge.length} characters]`);
    expect(page?.text.length).toBeLessThan(20_000);
    const stored = await running.db.selectFrom('router_alerts').select(['labels', 'annotations']).executeTakeFirstOrThrow();
    expect((JSON.parse(stored.annotations) as Record<string, string>).description).toHaveLength(ANNOTATION_VALUE_LIMIT);
    expect(stored.labels.length).toBeLessThan(2_000);
  });

  it('sends at most pagesPerMinute pages to one receiver, and one summary of the rest', async () => {
    await start({ pagesPerMinute: 5 });
    expect((await post(webhook(nodes(30)))).json).toMatchObject({ opened: expect.any(Array), paged: expect.any(Array) });
    await after(0);
    expect(bed.smtp.mails.filter((m) => m.subject.startsWith('[SEV1]'))).toHaveLength(5);
    await after(MIN);
    const summaries = bed.smtp.mails.filter((m) => m.subject.includes('held back'));
    expect(summaries.map((m) => [m.to, m.subject])).toEqual([[['ben@oncall.example'], '25 more page(s) held back (Tue 2025-03-11 10:00 +01:00)']]);
    expect(summaries[0]?.text).toContain('#30 ');
    expect(bed.smtp.mails).toHaveLength(6);
    // The next minute has a fresh allowance.
    await post(webhook([gpuAlert('node-99', { startsAt: bed.clock.now() })]));
    await after(0);
    expect(bed.smtp.mails.at(-1)?.subject).toBe('[SEV1] XID errors on node-99 GPU 0 (prod-a) #31');
  });

  it('takes a group of 10,001 alerts whole: a SEV0 across 1,251 nodes pages, within the limit', async () => {
    await start({ pagesPerMinute: 10 });
    const alerts: TestAlert[] = [];
    for (let n = 0; n < 1_251; n++)
      for (let g = 0; g < 8 && alerts.length < 10_001; g++) alerts.push(gpuAlert(`node-${n}`, { gpu: String(g), severity: '0', startsAt: TUESDAY_10 }));
    const answer = await post(webhook(alerts));
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ alerts: 10_001, firing: 10_001 });
    expect(await incidents('active')).toHaveLength(1_000);
    await after(MIN);
    const toBen = bed.smtp.mails.filter((m) => m.to.includes('ben@oncall.example'));
    expect(toBen.filter((m) => m.subject.startsWith('[SEV0]'))).toHaveLength(10);
    expect(toBen.filter((m) => m.subject.includes('held back')).map((m) => m.subject)).toEqual(['1241 more page(s) held back (Tue 2025-03-11 10:00 +01:00)']);
  }, 120_000);
});

describe('truncated groups (max_alerts)', () => {
  it('never closes an incident while Alertmanager left alerts of its group out, and pages once', async () => {
    await start();
    const [a, b, c, d] = [0, 1, 2, 3].map((g) => gpuAlert('node-7', { gpu: String(g), startsAt: TUESDAY_10 })) as [TestAlert, TestAlert, TestAlert, TestAlert];
    const resolved = (x: TestAlert): TestAlert => ({ ...x, status: 'resolved', endsAt: bed.clock.now() });
    // Four alerts fire; Alertmanager lists two.
    await post(webhook([a, b], { truncatedAlerts: 2 }));
    bed.clock.advance(5 * MIN);
    // The two listed resolve; the other two still fire, unlisted.
    expect((await post(webhook([resolved(a), resolved(b)], { truncatedAlerts: 2 }))).json).toMatchObject({ resolved: 2, closed: [] });
    expect((await incidents())[0]).toMatchObject({ id: 1, status: 'open' });
    bed.clock.advance(5 * MIN);
    // Now Alertmanager lists the other two: they join the open incident, no new page.
    expect((await post(webhook([c, d], { truncatedAlerts: 0 }))).json).toMatchObject({ firing: 2, opened: [], paged: [] });
    bed.clock.advance(5 * MIN);
    expect((await post(webhook([resolved(c), resolved(d)], { truncatedAlerts: 0 }))).json).toMatchObject({ closed: [1] });
    await after(0);
    expect(bed.smtp.mails.map((m) => m.subject.replace(/ \(.*/, ''))).toEqual(['[SEV1] XID errors on node-7 GPU 0', '[RESOLVED] XID errors on node-7 GPU 0']);
    expect(await incidents()).toHaveLength(1);
  });

  it('closes a truncated incident whose unlisted alerts resolve without being listed while firing', async () => {
    await start();
    const [a, b] = [0, 1].map((g) => gpuAlert('node-8', { gpu: String(g), startsAt: TUESDAY_10 })) as [TestAlert, TestAlert];
    await post(webhook([a], { truncatedAlerts: 1 }));
    bed.clock.advance(5 * MIN);
    expect(
      (
        await post(
          webhook([
            { ...a, status: 'resolved', endsAt: bed.clock.now() },
            { ...b, status: 'resolved', endsAt: bed.clock.now() },
          ]),
        )
      ).json,
    ).toMatchObject({ closed: [1] });
  });
});
