/**
 * What the renewal tests share: a router with job actions in front of the real rule service, the
 * alerts they post, the owner's links out of the received mails, and short reads of the state.
 */
import type { RunningRuleService } from '../../rule-service/service.js';
import type { RunningRouter } from '../service.js';
import type { ActionsTestbed } from './actions-fixture.js';
import { WEBHOOK_TOKEN } from './actions-fixture.js';
import { API_TOKEN, request } from './harness.js';
import { webhook, type TestAlert } from './webhooks.js';

export const MIN = 60_000;

export interface RenewalBed {
  running: RunningRouter;
  post(alerts: TestAlert[]): Promise<unknown>;
  /** Moves the clock, fires due timers and delivers what they queued. */
  after(ms: number): Promise<void>;
  drain(): Promise<void>;
  audit(subject: string): Promise<{ event: string; actor: string; detail: any }[]>;
  action(id?: number): Promise<any>;
  timeline(incident?: number): Promise<string[]>;
  stopsOf(job: string): unknown[];
  close(): Promise<void>;
}

export async function renewalBed(
  bed: ActionsTestbed,
  ruleService: RunningRuleService,
  actions: Record<string, unknown>,
  config: Record<string, unknown> = {},
): Promise<RenewalBed> {
  const running = await bed.startRouter(bed.clock, {
    ruleService: { url: ruleService.url },
    actions: { grace: '10m', minGrace: '5m', ...actions },
    config,
  });
  const drain = async () => {
    for (let i = 0; i < 5 && (await running.router.deliverOutbox()) > 0; i++);
  };
  return {
    running,
    post: (alerts) => request(`${running.url}/api/v1/alertmanager`, { body: webhook(alerts), token: WEBHOOK_TOKEN }),
    after: async (ms) => {
      bed.clock.advance(ms);
      await running.router.runDueTimers();
      await drain();
    },
    drain,
    audit: async (subject) =>
      ((await request(`${running.url}/api/v1/audit?subject=${encodeURIComponent(subject)}&limit=1000`, { token: API_TOKEN })).json.entries as any[]).reverse(),
    action: async (id = 1) => (await request(`${running.url}/api/v1/actions/${id}`, { token: API_TOKEN })).json.action,
    timeline: async (incident = 1) =>
      ((await request(`${running.url}/api/v1/incidents/${incident}`)).json.timeline as { message: string }[]).map((e) => e.message),
    stopsOf: (job) => bed.openpai.requests.filter((r) => r.method === 'PUT' && r.path === `/api/v2/jobs/${job}/executionType`),
    close: () => running.close(),
  };
}

export function jobAlert(
  job: string,
  startsAt: number,
  how: { action?: string; status?: 'firing' | 'resolved'; endsAt?: number; labels?: Record<string, string> } = {},
): TestAlert {
  const user = job.split('~')[0] as string;
  const status = how.status ?? 'firing';
  return {
    labels: { alertname: 'JobLowGpuUtilization', severity: '3', cluster: 'prod-a', job, user, vc: 'default', action: how.action ?? 'kill', ...how.labels },
    annotations: { summary: `${job} uses its GPUs below 5 %`, description: 'Low utilization for 2 hours.' },
    startsAt,
    status,
    ...(status === 'resolved' ? { endsAt: how.endsAt ?? startsAt } : {}),
  };
}

/** The renew and release links of an owner mail's text. */
export function ownerLinks(text: string | undefined): { renew?: string; release?: string } {
  return {
    renew: /Keep my job for another \S+ \(\d+ renewals left\): (\S+)/.exec(text ?? '')?.[1],
    release: /Stop it now, I'm done: (\S+)/.exec(text ?? '')?.[1],
  };
}

/** A form POST as the confirm page's button sends it. */
export const press = (link: string, headers: Record<string, string> = {}) =>
  fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: '' });
