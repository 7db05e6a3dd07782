/** Rule comparisons: `OP N` with OP one of > >= < <= == != and N a whole number; a bare `N` means `> N` (DESIGN §6). */

export type ComparisonOp = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface Comparison {
  op: ComparisonOp;
  value: number;
}

/** GPU counts are whole numbers, so comparisons take whole numbers (at most 9 digits). */
const COMPARISON = /^\s*(>=|<=|==|!=|>|<)?\s*(\d{1,9})\s*$/;

/** The comparison in `text`, or undefined when it is not one. */
export function parseComparison(text: string): Comparison | undefined {
  const match = COMPARISON.exec(text);
  if (!match) return undefined;
  return { op: (match[1] as ComparisonOp | undefined) ?? '>', value: Number(match[2]) };
}

export function compare(actual: number, c: Comparison): boolean {
  switch (c.op) {
    case '>':
      return actual > c.value;
    case '>=':
      return actual >= c.value;
    case '<':
      return actual < c.value;
    case '<=':
      return actual <= c.value;
    case '==':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
  }
}
