/** Shared set-up for the rule service's tests: a running service on loopback and small HTTP helpers. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/log.js';
import type { RuleServiceOptions } from '../src/rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../src/rule-service/service.js';

export const SEED_RULES_FILE = fileURLToPath(new URL('../examples/rules.yaml', import.meta.url));
export const SEED_RULES_YAML = readFileSync(SEED_RULES_FILE, 'utf8');
export const API_TOKEN = 'test-api-token';

export function startTestService(overrides: Partial<RuleServiceOptions> = {}): Promise<RunningRuleService> {
  return startRuleService(
    {
      listen: '127.0.0.1:0',
      db: 'sqlite::memory:',
      storeTimeoutMs: 150,
      holdingsWhenUnreachable: 'request-only',
      exemptJobs: [],
      exemptUsers: [],
      apiToken: API_TOKEN,
      storeRetryMs: 200,
      ...overrides,
    },
    createLogger('rule-service-test', 'silent'),
  );
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown; token?: string } = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (typeof init.body === 'string') body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Loads the seed table (examples/rules.yaml) through the API. */
export async function loadSeed(service: RunningRuleService): Promise<void> {
  const answer = await http(`${service.url}/api/v1/rules`, { method: 'PUT', token: API_TOKEN, headers: { 'content-type': 'text/yaml' }, body: SEED_RULES_YAML });
  if (answer.status !== 200) throw new Error(`loading the seed rules failed: ${answer.status} ${answer.text}`);
}

/** One sample value from a Prometheus exposition, or undefined when the series is absent. */
export function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
