/**
 * The series a PromQL expression selects, read with Prometheus's own grammar (lezer-promql), for the
 * checks that generated rules and dashboards only read catalog metrics, their recording rules and
 * allow-listed series.
 *
 * A metric name comes from `name{…}`, the Prometheus 3 quoted form `{"name", …}` or an exact
 * `{__name__="name"}`. A selector whose name is not given exactly — a `__name__` regex or negation,
 * or no name at all — is not resolved: its name is left undefined and `metricNamesIn` returns the
 * selector's own text instead, which no allow-list holds, so the checks refuse it by name.
 *
 * Text the grammar does not accept, an unterminated string or a bad escape is a `PromqlError` naming
 * the expression and the offset, never "no names".
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { unquotePromqlString } from './strings.js';

export interface Selector {
  /** The exact metric name; undefined when the selector gives none (see above). */
  name: string | undefined;
  /** The selector as written, e.g. `{__name__=~"gpuwatch_.*"}`. */
  text: string;
  /** The label names it matches on, `__name__` left out, in order of appearance. */
  labels: string[];
}

export class PromqlError extends Error {
  constructor(
    readonly expr: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`PromQL ${JSON.stringify(expr)} at offset ${offset}: ${reason}`);
    this.name = 'PromqlError';
  }
}

const strictParser = parser.configure({ strict: true });

/** Every series selector in `expr`, in order of appearance. */
export function selectorsIn(expr: string): Selector[] {
  const top = parse(expr);
  for (const s of nodesNamed(top, 'StringLiteral')) stringValue(expr, s); // rejects unterminated strings anywhere
  return nodesNamed(top, 'VectorSelector').map((node) => selectorOf(expr, node));
}

/** The distinct metric names `expr` selects, sorted; a selector without an exact name as its text. */
export function metricNamesIn(expr: string): string[] {
  return [...new Set(selectorsIn(expr).map((s) => s.name ?? s.text))].sort();
}

/** Names (or selector texts) in `expr` that `isAllowed` rejects, each once, sorted. */
export function unknownMetricNames(expr: string, isAllowed: (name: string) => boolean): string[] {
  return metricNamesIn(expr).filter((n) => !isAllowed(n));
}

function parse(expr: string): SyntaxNode {
  try {
    return strictParser.parse(expr).topNode;
  } catch (err) {
    const at = /No parse at (\d+)/.exec(String(err))?.[1];
    if (at === undefined) throw err;
    const offset = Number(at);
    const near = offset < expr.length ? `near ${JSON.stringify(expr.slice(offset, offset + 20))}` : 'where it ends';
    throw new PromqlError(expr, offset, `does not parse ${near}`);
  }
}

function nodesNamed(top: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  top.cursor().iterate((ref) => {
    if (ref.name === name) found.push(ref.node);
  });
  return found;
}

interface Matcher {
  label: string;
  op: string;
  value: string;
}

function selectorOf(expr: string, node: SyntaxNode): Selector {
  const text = expr.slice(node.from, node.to);
  const identifier = node.getChild('Identifier');
  const names = identifier ? [expr.slice(identifier.from, identifier.to)] : [];
  const matchers: Matcher[] = [];
  for (let child = node.getChild('LabelMatchers')?.firstChild; child; child = child.nextSibling) {
    if (child.name === 'QuotedLabelName') names.push(stringValue(expr, child.firstChild!)); // {"my.metric"}
    if (child.name === 'UnquotedLabelMatcher' || child.name === 'QuotedLabelMatcher') matchers.push(matcherOf(expr, child));
  }
  const byName = matchers.filter((m) => m.label === '__name__');
  if (names.length > 1 || (names.length === 1 && byName.length > 0)) {
    throw new PromqlError(expr, node.from, `metric name set twice in ${text}`);
  }
  const exact = byName.length === 1 && byName[0]!.op === '=' ? byName[0]!.value : undefined;
  return { name: names[0] ?? exact, text, labels: matchers.filter((m) => m.label !== '__name__').map((m) => m.label) };
}

function matcherOf(expr: string, node: SyntaxNode): Matcher {
  const labelNode = node.firstChild!;
  const label = labelNode.name === 'LabelName' ? expr.slice(labelNode.from, labelNode.to) : stringValue(expr, labelNode.firstChild!);
  const op = node.getChild('MatchOp')!;
  return { label, op: expr.slice(op.from, op.to), value: stringValue(expr, node.lastChild!) };
}

function stringValue(expr: string, node: SyntaxNode): string {
  const value = unquotePromqlString(expr.slice(node.from, node.to));
  if (typeof value !== 'string') throw new PromqlError(expr, node.from, value.error);
  return value;
}
