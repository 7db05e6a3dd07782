/**
 * Finds the series a PromQL expression selects, so a test can prove that generated dashboards only
 * name metrics that exist. Not a full PromQL parser: a tokenizer plus the few grammar rules that
 * decide whether an identifier is a metric (not a function, keyword, aggregation, grouping label or
 * duration). Grafana's `$var`, `${var}` and `[[var]]` macros are skipped.
 */

export interface SelectorRef {
  /** The metric name; for a selector without one, the raw `{...}` text (never a catalog name). */
  name: string;
  /** Label names in the selector's matchers. */
  labels: string[];
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'braces'; text: string; matchers: Matcher[]; bareNames: string[] }
  | { kind: 'punct'; text: string }
  | { kind: 'other' };

interface Matcher {
  label: string;
  op: string;
  value: string;
}

/** Binary-operator and modifier words; never metric names. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2']);
/** Words followed by a parenthesised list of label names. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const AGGREGATORS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values',
  'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

const IDENT_START = /[A-Za-z_:]/;
const IDENT_PART = /[A-Za-z0-9_:]/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Every series selector in `expr`, in order of appearance. */
export function selectorsIn(expr: string): SelectorRef[] {
  const tokens = tokenize(expr);
  const found: SelectorRef[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    const next = tokens[k + 1];
    if (tok.kind === 'braces') {
      found.push(nameFromMatchers(tok));
      continue;
    }
    if (tok.kind !== 'ident') continue;
    const word = tok.text.toLowerCase();
    if (GROUPING.has(word)) {
      if (next?.kind === 'punct' && next.text === '(') k = closingParen(tokens, k + 1);
      continue;
    }
    if (KEYWORDS.has(word)) continue;
    if (next?.kind === 'punct' && next.text === '(') continue; // a function or aggregation call
    if (AGGREGATORS.has(word) && next?.kind === 'ident' && GROUPING.has(next.text.toLowerCase())) continue;
    if (next?.kind === 'braces') {
      found.push({ name: tok.text, labels: next.matchers.map((m) => m.label) });
      k++;
    } else {
      found.push({ name: tok.text, labels: [] });
    }
  }
  return found;
}

/** The distinct metric names `expr` selects, sorted. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(selectorsIn(expr).map((s) => s.name))].sort();
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

function nameFromMatchers(tok: Extract<Token, { kind: 'braces' }>): SelectorRef {
  const byName = tok.matchers.find((m) => m.label === '__name__');
  const labels = tok.matchers.filter((m) => m.label !== '__name__').map((m) => m.label);
  if (byName?.op === '=') return { name: byName.value, labels };
  const bare = tok.bareNames[0];
  if (bare !== undefined && !byName) return { name: bare, labels };
  return { name: tok.text, labels };
}

function closingParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    if (t.text === ')' && --depth === 0) return k;
  }
  return tokens.length;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      i = endOfString(expr, i);
      tokens.push({ kind: 'other' });
    } else if (c === '{') {
      const end = endOfBraces(expr, i);
      tokens.push(parseBraces(expr.slice(i, end)));
      i = end;
    } else if (c === '[') {
      i = endOfBrackets(expr, i);
      tokens.push({ kind: 'other' });
    } else if (c === '$') {
      i = endOfGrafanaVariable(expr, i);
      tokens.push({ kind: 'other' });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(expr[i + 1] ?? ''))) {
      i = endOfNumber(expr, i);
      tokens.push({ kind: 'other' });
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < expr.length && IDENT_PART.test(expr[i]!)) i++;
      tokens.push({ kind: 'ident', text: expr.slice(start, i) });
    } else {
      tokens.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

/** Index just past the string literal opening at `start` (backslash escapes, except in raw strings). */
function endOfString(s: string, start: number): number {
  const quote = s[start];
  let i = start + 1;
  while (i < s.length && s[i] !== quote) i += s[i] === '\\' && quote !== '`' ? 2 : 1;
  return i + 1;
}

function endOfBraces(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length && s[i] !== '}') i = s[i] === '"' || s[i] === "'" || s[i] === '`' ? endOfString(s, i) : i + 1;
  return i + 1;
}

/** `[5m]`, `[$__range:1m]`, or a Grafana `[[var]]` macro. */
function endOfBrackets(s: string, start: number): number {
  if (s[start + 1] === '[') {
    const close = s.indexOf(']]', start);
    return close < 0 ? s.length : close + 2;
  }
  const close = s.indexOf(']', start);
  return close < 0 ? s.length : close + 1;
}

function endOfGrafanaVariable(s: string, start: number): number {
  if (s[start + 1] === '{') {
    const close = s.indexOf('}', start);
    return close < 0 ? s.length : close + 1;
  }
  let i = start + 1;
  while (i < s.length && /[A-Za-z0-9_]/.test(s[i]!)) i++;
  return i;
}

/** Numbers (1, 0.5, 1e-3, 0x1f) and durations (5m, 1h30m). */
function endOfNumber(s: string, start: number): number {
  let i = start;
  while (i < s.length) {
    const c = s[i]!;
    if (/[A-Za-z0-9_.]/.test(c)) {
      i++;
    } else if ((c === '+' || c === '-') && /[eE]/.test(s[i - 1]!) && /^[0-9.]+[eE]$/.test(s.slice(start, i))) {
      i++;
    } else {
      break;
    }
  }
  return i;
}

function parseBraces(text: string): Extract<Token, { kind: 'braces' }> {
  const matchers: Matcher[] = [];
  const bareNames: string[] = [];
  let rest = text.slice(1, -1);
  while (rest.trim() !== '') {
    rest = rest.replace(/^[\s,]+/, '');
    if (rest === '') break;
    let label: string;
    if (rest[0] === '"' || rest[0] === "'" || rest[0] === '`') {
      const end = endOfString(rest, 0);
      label = unquote(rest.slice(0, end));
      rest = rest.slice(end);
    } else {
      const m = LABEL_NAME.exec(rest);
      if (!m) break; // not a matcher list we understand; the raw text stays in the token
      label = m[0];
      rest = rest.slice(label.length);
    }
    const op = /^\s*(=~|!~|!=|=)\s*/.exec(rest);
    if (!op) {
      bareNames.push(label); // Prometheus 3: {"metric.name", label="x"}
      continue;
    }
    rest = rest.slice(op[0].length);
    const end = endOfString(rest, 0);
    matchers.push({ label, op: op[1]!, value: unquote(rest.slice(0, end)) });
    rest = rest.slice(end);
  }
  return { kind: 'braces', text, matchers, bareNames };
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal[0] === '`' ? body : body.replace(/\\(.)/g, '$1');
}
