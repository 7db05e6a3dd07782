/**
 * The label sets a PromQL expression keeps, read with Prometheus's grammar (lezer-promql): every
 * aggregation with its `by`/`without` labels, every vector match with its `on`/`ignoring` labels,
 * and every function called. What the checks on per-node rules need to prove that a rule never
 * combines series of two nodes.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

export interface Grouping {
  kind: 'aggregation' | 'match';
  /** `by`, `without`, `on`, `ignoring`, or undefined when the expression names none (`sum(x)`, `a * b`). */
  modifier: 'by' | 'without' | 'on' | 'ignoring' | undefined;
  labels: string[];
  /** The aggregation or binary expression as written. */
  text: string;
}

const strictParser = parser.configure({ strict: true });

function nodes(top: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  top.cursor().iterate((ref) => {
    if (ref.name === name) found.push(ref.node);
  });
  return found;
}

function labelsOf(expr: string, grouping: SyntaxNode | null): string[] {
  return grouping ? grouping.getChildren('LabelName').map((l) => expr.slice(l.from, l.to)) : [];
}

function modifierOf(node: SyntaxNode | null): Grouping['modifier'] {
  const name = node?.firstChild?.name;
  return name === 'By' || name === 'Without' || name === 'On' || name === 'Ignoring' ? (name.toLowerCase() as Grouping['modifier']) : undefined;
}

/** Aggregations and vector matches in `expr`, outermost first. Throws when `expr` does not parse. */
export function groupingsIn(expr: string): Grouping[] {
  const top = strictParser.parse(expr).topNode;
  const found: Grouping[] = [];
  top.cursor().iterate((ref) => {
    const node = ref.node;
    const text = expr.slice(node.from, node.to);
    if (node.name === 'AggregateExpr') {
      const modifier = node.getChild('AggregateModifier');
      found.push({ kind: 'aggregation', modifier: modifierOf(modifier), labels: labelsOf(expr, modifier?.getChild('GroupingLabels') ?? null), text });
    }
    if (node.name === 'BinaryExpr') {
      const clause = node.getChild('MatchingModifierClause');
      found.push({ kind: 'match', modifier: modifierOf(clause), labels: labelsOf(expr, clause?.getChild('GroupingLabels') ?? null), text });
    }
  });
  return found;
}

/** The names of the functions `expr` calls (`rate`, `vector`, `label_replace`, …), each once, sorted. */
export function functionsIn(expr: string): string[] {
  const top = strictParser.parse(expr).topNode;
  const names = nodes(top, 'FunctionIdentifier').map((n) => expr.slice(n.from, n.to));
  return [...new Set(names)].sort();
}
