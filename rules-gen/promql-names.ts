/**
 * The metric names a PromQL expression reads, for the check that generated rules only use catalog
 * metrics, their own recording rules and allow-listed standard series.
 *
 * A tokenizer plus the grammar rules that decide what an identifier is:
 * - followed by `(`: a function or aggregation, not a metric;
 * - a keyword (and/or/unless, bool, offset, by/without/on/ignoring/group_left/group_right, an
 *   aggregation before its grouping clause, the numbers Inf and NaN): not a metric;
 * - inside `{...}`: a label name; `__name__="x"` names metric x, a regex on __name__ is reported as is;
 * - inside the `(...)` after by/without/on/ignoring/group_left/group_right: label names;
 * - inside `[...]`: ranges and subquery steps;
 * - durations and numbers (5m, 1e3, 0x1f) are numbers.
 * Strings and comments are skipped. Anything else is a metric name.
 */

type Token =
  | { type: 'ident'; text: string }
  | { type: 'string'; text: string }
  | { type: 'number' }
  | { type: 'punct'; text: string };

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATOR_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);

const isIdentStart = (c: string) => /[A-Za-z_:]/.test(c);
const isIdentPart = (c: string) => /[A-Za-z0-9_:]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Splits PromQL into tokens; throws on an unterminated string. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr.charAt(i) !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const end = stringEnd(expr, i);
      tokens.push({ type: 'string', text: unquote(expr.slice(i, end), c) });
      i = end;
    } else if (isDigit(c) || (c === '.' && isDigit(expr.charAt(i + 1)))) {
      i = numberEnd(expr, i);
      tokens.push({ type: 'number' });
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < expr.length && isIdentPart(expr.charAt(i))) i++;
      tokens.push({ type: 'ident', text: expr.slice(start, i) });
    } else {
      tokens.push({ type: 'punct', text: c });
      i++;
    }
  }
  return tokens;
}

function stringEnd(s: string, start: number): number {
  const quote = s.charAt(start);
  let i = start + 1;
  while (i < s.length) {
    const c = s.charAt(i);
    if (c === quote) return i + 1;
    i += c === '\\' && quote !== '`' ? 2 : 1;
  }
  throw new Error(`unterminated string at offset ${start}: ${s.slice(start, start + 30)}`);
}

function unquote(literal: string, quote: string): string {
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(/\\(.)/g, (_m, ch: string) => ({ n: '\n', t: '\t' })[ch] ?? ch);
}

/** Numbers, hex, exponents and durations such as 1h30m: digits, letters, dots, and a sign right after an exponent. */
function numberEnd(s: string, start: number): number {
  let i = start;
  while (i < s.length) {
    const c = s.charAt(i);
    const afterExponent = (c === '+' || c === '-') && /^[0-9.]+[eE]$/.test(s.slice(start, i));
    if (/[A-Za-z0-9_.]/.test(c) || afterExponent) i++;
    else break;
  }
  return i;
}

function matchingClose(tokens: Token[], open: number, openText: string, closeText: string): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k];
    if (t?.type !== 'punct') continue;
    if (t.text === openText) depth++;
    else if (t.text === closeText && --depth === 0) return k;
  }
  throw new Error(`unbalanced "${openText}"`);
}

const isPunct = (t: Token | undefined, text: string) => t?.type === 'punct' && t.text === text;

/** Metric names named inside one `{...}` matcher list (only through `__name__`; a regex is returned as written). */
function namesInBraces(tokens: Token[], open: number, close: number): string[] {
  const names: string[] = [];
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k];
    if (t?.type !== 'ident' || t.text !== '__name__') continue;
    let op = '';
    let j = k + 1;
    for (let p = tokens[j]; j < close && p?.type === 'punct'; p = tokens[++j]) op += p.text;
    const value = tokens[j];
    if (value?.type !== 'string') continue;
    names.push(op === '=' ? value.text : `{__name__${op}${JSON.stringify(value.text)}}`);
    k = j;
  }
  return names;
}

/** Every metric name `expr` selects, in order of appearance (with repeats). */
export function metricNames(expr: string): string[] {
  const tokens = tokenize(expr);
  const names: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (!t) continue;
    if (isPunct(t, '{')) {
      const close = matchingClose(tokens, k, '{', '}');
      names.push(...namesInBraces(tokens, k, close));
      k = close;
      continue;
    }
    if (isPunct(t, '[')) {
      k = matchingClose(tokens, k, '[', ']');
      continue;
    }
    if (t.type !== 'ident') continue;
    const word = t.text.toLowerCase();
    const next = tokens[k + 1];
    if (GROUPING.has(word)) {
      if (isPunct(next, '(')) k = matchingClose(tokens, k + 1, '(', ')');
      continue;
    }
    if (OPERATOR_WORDS.has(word)) continue;
    if (isPunct(next, '(')) continue;
    if (AGGREGATIONS.has(word) && next?.type === 'ident' && GROUPING.has(next.text.toLowerCase())) continue;
    names.push(t.text);
  }
  return names;
}

/** Names in `expr` that `isAllowed` rejects, each once, sorted. */
export function unknownMetricNames(expr: string, isAllowed: (name: string) => boolean): string[] {
  return [...new Set(metricNames(expr).filter((n) => !isAllowed(n)))].sort();
}
