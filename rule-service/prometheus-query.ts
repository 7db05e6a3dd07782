/** Instant queries against Prometheus' HTTP API, for the checks the actions make before they run. */

/** One series of an instant vector: its labels and value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusTarget {
  /** Prometheus' base URL, e.g. http://prometheus:9090. */
  url: string;
  timeoutMs: number;
}

/** Every series the instant query returns (an empty list when Prometheus has no data). */
export async function instantQuery(target: PrometheusTarget, query: string): Promise<Sample[]> {
  const url = `${target.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(target.timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(
      `${target.url} unreachable: ${(err as Error).name === 'TimeoutError' ? `no answer within ${target.timeoutMs} ms` : (cause ?? (err as Error).message)}`,
    );
  }
  type Body = { status?: string; error?: string; data?: { result?: { metric?: Record<string, string>; value?: [number, string] }[] } };
  const body = (await response.json().catch(() => undefined)) as Body | undefined;
  if (!response.ok || body?.status !== 'success') throw new Error(`${target.url} answered ${response.status}: ${body?.error ?? 'not a query result'}`);
  return (body.data?.result ?? []).filter((r) => r.value !== undefined).map((r) => ({ labels: r.metric ?? {}, value: Number(r.value?.[1]) }));
}

/** The single value of an instant query, or undefined when the result is empty. */
export async function scalarQuery(target: PrometheusTarget, query: string): Promise<number | undefined> {
  const result = await instantQuery(target, query);
  if (result.length > 1) throw new Error(`expected one series, got ${result.length}`);
  return result[0]?.value;
}

/** A PromQL string literal (double-quoted, escaped). */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}
