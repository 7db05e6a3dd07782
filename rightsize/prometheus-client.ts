/**
 * Instant queries over Prometheus' HTTP API (`POST /api/v1/query`, so long PromQL fits), through
 * Node's fetch with a timeout. Works against any Prometheus-compatible endpoint (Thanos Query,
 * Mimir with its /prometheus prefix in the URL). Every failure is a RightsizeError that says which
 * endpoint and what went wrong: unreachable, too slow, not a Prometheus API, or a refused query.
 */
import type { VectorSample } from './runs.js';

export class RightsizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RightsizeError';
  }
}

export interface PrometheusEndpoint {
  url: string;
  timeoutMs: number;
}

interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

async function post(endpoint: PrometheusEndpoint, form: Record<string, string>): Promise<Response> {
  const url = `${endpoint.url.replace(/\/+$/, '')}/api/v1/query`;
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') throw new RightsizeError(`Prometheus at ${endpoint.url} gave no answer within ${endpoint.timeoutMs / 1000} s`);
    throw new RightsizeError(`cannot reach Prometheus at ${endpoint.url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
  }
}

/** The instant vector `query` evaluates to at `time` (Unix seconds). */
export async function instantVector(endpoint: PrometheusEndpoint, query: string, time: number): Promise<VectorSample[]> {
  const response = await post(endpoint, { query, time: String(time), timeout: `${Math.ceil(endpoint.timeoutMs / 1000)}s` });
  const text = await response.text();
  let body: ApiBody | undefined;
  try {
    body = JSON.parse(text) as ApiBody;
  } catch {
    body = undefined;
  }
  if (body === undefined || typeof body !== 'object' || body === null || typeof body.status !== 'string') {
    const start = text.slice(0, 80).replace(/\s+/g, ' ');
    throw new RightsizeError(`${endpoint.url} is not a Prometheus HTTP API: POST /api/v1/query answered HTTP ${response.status} "${start}"`);
  }
  if (body.status !== 'success') {
    throw new RightsizeError(
      `Prometheus at ${endpoint.url} refused a query (HTTP ${response.status}, ${body.errorType ?? 'error'}): ${body.error ?? ''}\n  ${query}`,
    );
  }
  if (body.data?.resultType !== 'vector')
    throw new RightsizeError(`Prometheus at ${endpoint.url} answered a ${body.data?.resultType} where a vector was expected`);
  return (body.data.result ?? []).map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
}
