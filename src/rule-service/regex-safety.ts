/**
 * A conservative static check for regular expressions that can backtrack catastrophically
 * (exponential time on a failing input). A pattern is refused when a part repeated more than once
 * (`*`, `+`, `{n,m}` with m > 1) contains
 *   - another repeat of variable count: `(a+)+`, `(.*)*`, `(a?a)+`, `(\w+\s?)+`;
 *   - an alternation whose branches can start with the same character, or can match nothing:
 *     `(a|a)*`, `(a|ab)*`, `(\w|\d)+`, `(a|)+`;
 *   - something that can match the empty string: `(a?)*`.
 * Some safe patterns are refused too (`(ab|ac)*`); they can always be rewritten (`(a[bc])*`).
 * Polynomial blow-ups such as `\w*\w*\w*x` pass this check and are left to the timed probe.
 */
import { ANY_CHAR, EMPTY_SET, intersects, union, type CharSet } from './char-set.js';
import { parseRegex, type RegexNode } from './regex-ast.js';

/** Why `source` can backtrack catastrophically, or undefined when the check finds nothing. */
export function backtrackingHazard(source: string): string | undefined {
  let ast: RegexNode;
  try {
    ast = parseRegex(source);
  } catch (err) {
    return `the pattern is too unusual to check for backtracking (${(err as Error).message})`;
  }
  return hazardIn(ast);
}

function hazardIn(node: RegexNode): string | undefined {
  switch (node.kind) {
    case 'seq':
      return firstDefined(node.items.map(hazardIn));
    case 'alt':
      return firstDefined(node.branches.map(hazardIn));
    case 'group':
      return hazardIn(node.body);
    case 'repeat':
      if (node.max > 1) {
        if (containsVariableRepeat(node.body)) return 'a repeated part contains another repeat (nested quantifiers such as (a+)+)';
        if (containsAmbiguousAlternation(node.body)) return 'a repeated part has alternatives that can match the same text (such as (a|a)* or (a|ab)*)';
        if (nullable(node.body)) return 'a repeated part can match the empty string (such as (a?)*)';
      }
      return hazardIn(node.body);
    default:
      return undefined;
  }
}

function firstDefined(values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined);
}

function children(node: RegexNode): RegexNode[] {
  switch (node.kind) {
    case 'seq':
      return node.items;
    case 'alt':
      return node.branches;
    case 'group':
    case 'repeat':
      return [node.body];
    default:
      return [];
  }
}

function containsVariableRepeat(node: RegexNode): boolean {
  if (node.kind === 'repeat' && node.min !== node.max) return true;
  return children(node).some(containsVariableRepeat);
}

function containsAmbiguousAlternation(node: RegexNode): boolean {
  if (node.kind === 'alt' && branchesOverlap(node.branches)) return true;
  return children(node).some(containsAmbiguousAlternation);
}

function branchesOverlap(branches: RegexNode[]): boolean {
  if (branches.some(nullable)) return true;
  const starts = branches.map(firstChars);
  return starts.some((a, i) => starts.slice(i + 1).some((b) => intersects(a, b)));
}

/** Whether the node can match the empty string. */
function nullable(node: RegexNode): boolean {
  switch (node.kind) {
    case 'chars':
      return false;
    case 'seq':
      return node.items.every(nullable);
    case 'alt':
      return node.branches.some(nullable);
    case 'group':
      return nullable(node.body);
    case 'repeat':
      return node.min === 0 || nullable(node.body);
    case 'assert':
    case 'backref':
      return true;
  }
}

/** The characters a non-empty match of the node can start with. */
function firstChars(node: RegexNode): CharSet {
  switch (node.kind) {
    case 'chars':
      return node.set;
    case 'seq': {
      const sets: CharSet[] = [];
      for (const item of node.items) {
        sets.push(firstChars(item));
        if (!nullable(item)) break;
      }
      return union(...sets);
    }
    case 'alt':
      return union(...node.branches.map(firstChars));
    case 'group':
    case 'repeat':
      return firstChars(node.body);
    case 'assert':
      return EMPTY_SET;
    case 'backref':
      return ANY_CHAR;
  }
}
