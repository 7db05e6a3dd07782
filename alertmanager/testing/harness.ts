/** An in-process router on loopback for tests: a team, a real SMTP sink, a manual clock. */
import { createLogger } from '../../src/log.js';
import { ManualClock, type Clock } from '../clock.js';
import { routerConfigSchema, type ClusterPriority, type TeamMember } from '../../src/config/router.js';
import { resolveRouterConfig, type RouterOptions } from '../options.js';
import { startRouter, type RunningRouter } from '../service.js';

export const API_TOKEN = 'router-test-token';

export const TEAM: TeamMember[] = [
  { name: 'ana', email: 'ana@oncall.example' },
  { name: 'ben', email: 'ben@oncall.example' },
  { name: 'cho', email: 'cho@oncall.example' },
];

export const CLUSTERS: { name: string; priority: ClusterPriority }[] = [
  { name: 'prod-a', priority: 'production' },
  { name: 'dev-a', priority: 'dev' },
];

/** Weekly rotation handing off Mondays 10:00 Berlin; the first shift (ana) starts 2025-03-03. */
export const ROTATION = { handoff: { weekday: 'monday', time: '10:00', timeZone: 'Europe/Berlin' }, start: '2025-03-03' };
export const WORKING_HOURS = { timeZone: 'Europe/Berlin', start: '09:00', end: '18:00' };

export async function testOptions(config: Record<string, unknown> = {}, smtpPort?: number): Promise<RouterOptions> {
  const parsed = routerConfigSchema.parse({
    listen: '127.0.0.1:0',
    db: 'sqlite::memory:',
    apiToken: API_TOKEN,
    team: TEAM,
    rotation: ROTATION,
    workingHours: WORKING_HOURS,
    escalation: { secondLine: ['second@platform.example'], thirdLine: ['manager@platform.example'] },
    retry: { min: '1s', max: '10s' },
    ...(smtpPort === undefined ? {} : { smtp: { host: '127.0.0.1', port: smtpPort, from: 'gpuwatch <router@platform.example>', timeout: '3s' } }),
    ...config,
  });
  return resolveRouterConfig(parsed, CLUSTERS);
}

export async function startTestRouter(
  options: RouterOptions,
  clock: Clock = new ManualClock(Date.parse('2025-03-10T09:00:00Z')),
  background = false,
): Promise<RunningRouter> {
  return startRouter(options, createLogger('router-test', process.env.GPUWATCH_TEST_LOG ?? 'silent'), { clock, background });
}

export interface Answer {
  status: number;
  json: any;
  text: string;
}

export async function request(
  url: string,
  init: { method?: string; body?: unknown; token?: string; raw?: string; contentType?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined = init.raw;
  if (init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Rows in each of the router's incident tables (to show that nothing was stored). */
export async function rowCounts(running: RunningRouter): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['router_incidents', 'router_alerts', 'router_events', 'router_outbox', 'router_actions'] as const) {
    const row = await running.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    out[table] = Number(row?.n ?? 0);
  }
  return out;
}
