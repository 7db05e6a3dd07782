/**
 * PromQL as Grafana holds it: variable queries that wrap PromQL, and `$var`, `${var}`, `${var:format}`
 * and `[[var]]` references (`$__rate_interval`, `$__range`, `$cluster`, …) that Grafana replaces
 * before Prometheus sees the query. Outside string literals each reference becomes a number of the
 * same length, which the grammar takes where a duration or a number goes; inside strings (label
 * values such as `node=~"$node"`) it stays as written. Then the shared PromQL reader does the rest.
 */
import { metricNamesIn, PromqlError, selectorsIn, type Selector } from '../../src/testing/promql/metric-names.js';

/** A string literal (left alone) or a Grafana variable reference (replaced). */
const STRING_OR_VARIABLE = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`|\$\{\w+(?:[:.][\w.]+)?\}|\$\w+|\[\[\w+(?::\w+)?\]\]/g;

/** `expr` with every variable reference outside strings replaced by ` 1` padded to its length. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(STRING_OR_VARIABLE, (m) => (/^["'`]/.test(m) ? m : ' 1'.padEnd(m.length, ' ')));
}

/**
 * Every series selector of a Grafana query; parse errors name the query as Grafana holds it. The
 * empty query `variableQueryPromql` gives for a variable that lists no series has none.
 */
export function grafanaSelectorsIn(expr: string): Selector[] {
  return reading(expr, () => selectorsIn(withoutGrafanaVariables(expr)), []);
}

/** The distinct metric names a Grafana query selects, sorted (see `metricNamesIn`). */
export function grafanaMetricNamesIn(expr: string): string[] {
  return reading(expr, () => metricNamesIn(withoutGrafanaVariables(expr)), []);
}

function reading<T>(expr: string, read: () => T, empty: T): T {
  if (expr === '') return empty;
  try {
    return read();
  } catch (err) {
    if (err instanceof PromqlError) throw new PromqlError(expr, err.offset, err.reason);
    throw err;
  }
}

/**
 * The PromQL inside a Grafana Prometheus variable query: `label_values(SELECTOR, label)` and
 * `query_result(EXPR)` wrap PromQL; `label_values(label)`, `label_names()` and `metrics(regex)` name
 * no series.
 */
export function variableQueryPromql(query: string): string {
  const q = query.trim();
  const labelValues = /^label_values\(([\s\S]*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/.exec(q);
  if (labelValues) return labelValues[1]!;
  if (/^(label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)|label_names\(.*\)|metrics\(.*\))$/.test(q)) return '';
  const queryResult = /^query_result\(([\s\S]*)\)$/.exec(q);
  if (queryResult) return queryResult[1]!;
  return q;
}

/** The label a `label_values(SELECTOR, label)` query lists, if it is one. */
export function variableQueryLabel(query: string): string | undefined {
  return /^label_values\([\s\S]*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query.trim())?.[1];
}
