/**
 * A small parser for JavaScript regular expressions (no flags), producing only what the
 * backtracking check needs: sequences, alternations, repeats and the characters a piece can start
 * with. Patterns are compiled with `new RegExp` before they get here, so the syntax is known valid.
 */
import { charRange, complement, DIGIT, DOT, SPACE, singleChar, union, WORD, type CharSet } from './char-set.js';

export type RegexNode =
  | { kind: 'chars'; set: CharSet }
  | { kind: 'seq'; items: RegexNode[] }
  | { kind: 'alt'; branches: RegexNode[] }
  | { kind: 'group'; body: RegexNode }
  /** Lookarounds and anchors: they consume nothing. */
  | { kind: 'assert' }
  | { kind: 'backref' }
  | { kind: 'repeat'; body: RegexNode; min: number; max: number };

export class RegexSyntaxError extends Error {}

export function parseRegex(source: string): RegexNode {
  const parser = new Parser(source);
  const node = parser.alternation();
  if (!parser.done()) throw new RegexSyntaxError(`unexpected "${source[parser.pos]}" at ${parser.pos}`);
  return node;
}

class Parser {
  pos = 0;
  constructor(private readonly src: string) {}

  done(): boolean {
    return this.pos >= this.src.length;
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  alternation(): RegexNode {
    const branches = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? (branches[0] as RegexNode) : { kind: 'alt', branches };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (!this.done() && this.peek() !== '|' && this.peek() !== ')') {
      items.push(this.quantified(this.atom()));
    }
    return { kind: 'seq', items };
  }

  private quantified(atom: RegexNode): RegexNode {
    let node = atom;
    for (;;) {
      const bounds = this.quantifier();
      if (!bounds) return node;
      if (this.peek() === '?') this.pos++; // lazy: same search space
      node = { kind: 'repeat', body: node, min: bounds[0], max: bounds[1] };
    }
  }

  private quantifier(): [number, number] | undefined {
    const c = this.peek();
    if (c === '*') return this.advance(1, [0, Infinity]);
    if (c === '+') return this.advance(1, [1, Infinity]);
    if (c === '?') return this.advance(1, [0, 1]);
    if (c === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!match) return undefined; // a literal brace
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
      return this.advance(match[0].length, [min, max]);
    }
    return undefined;
  }

  private advance<T>(by: number, value: T): T {
    this.pos += by;
    return value;
  }

  private atom(): RegexNode {
    const c = this.peek();
    if (c === '(') return this.group();
    if (c === '[') return { kind: 'chars', set: this.charClass() };
    if (c === '.') return this.advance(1, { kind: 'chars', set: DOT });
    if (c === '^' || c === '$') return this.advance(1, { kind: 'assert' });
    if (c === '\\') return this.escape();
    const code = this.src.charCodeAt(this.pos);
    this.pos++;
    return { kind: 'chars', set: singleChar(code) };
  }

  private group(): RegexNode {
    this.pos++; // (
    let look = false;
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      if (rest.startsWith('?:')) this.pos += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) (this.pos += 2), (look = true);
      else if (rest.startsWith('?<=') || rest.startsWith('?<!')) (this.pos += 3), (look = true);
      else if (rest.startsWith('?<')) this.pos = this.src.indexOf('>', this.pos) + 1;
      else throw new RegexSyntaxError(`unknown group at ${this.pos}`);
    }
    const body = this.alternation();
    if (this.peek() !== ')') throw new RegexSyntaxError('unclosed group');
    this.pos++;
    return look ? { kind: 'assert' } : { kind: 'group', body };
  }

  private escape(): RegexNode {
    this.pos++; // backslash
    const c = this.peek() ?? '';
    const cls = classEscape(c);
    if (cls) return this.advance(1, { kind: 'chars', set: cls });
    if (c === 'b' || c === 'B') return this.advance(1, { kind: 'assert' });
    if (/[1-9]/.test(c)) {
      while (/\d/.test(this.peek() ?? '')) this.pos++;
      return { kind: 'backref' };
    }
    if (c === 'k' && this.peek(1) === '<') {
      this.pos = this.src.indexOf('>', this.pos) + 1;
      return { kind: 'backref' };
    }
    return { kind: 'chars', set: singleChar(this.escapedCode()) };
  }

  /** The code unit of a character escape (\n, \x41, \u0041, \cJ, \0, or an identity escape). */
  private escapedCode(): number {
    const c = this.peek() ?? '';
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12, '0': 0 };
    const known = simple[c];
    if (known !== undefined && !(c === '0' && /\d/.test(this.peek(1) ?? ''))) return this.advance(1, known);
    const hex = c === 'x' ? /^x([0-9a-fA-F]{2})/.exec(this.src.slice(this.pos)) : c === 'u' ? /^u([0-9a-fA-F]{4})/.exec(this.src.slice(this.pos)) : null;
    if (hex) return this.advance(hex[0].length, parseInt(hex[1] as string, 16));
    if (c === 'c' && /[A-Za-z]/.test(this.peek(1) ?? '')) return this.advance(2, this.src.charCodeAt(this.pos + 1) % 32);
    return this.advance(1, this.src.charCodeAt(this.pos));
  }

  private charClass(): CharSet {
    this.pos++; // [
    const negated = this.peek() === '^';
    if (negated) this.pos++;
    const parts: CharSet[] = [];
    while (!this.done() && this.peek() !== ']') {
      const lo = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined && typeof lo === 'number') {
        this.pos++;
        const hi = this.classAtom();
        parts.push(typeof hi === 'number' ? charRange(lo, hi) : union(singleChar(lo), singleChar(45), hi));
      } else {
        parts.push(typeof lo === 'number' ? singleChar(lo) : lo);
      }
    }
    this.pos++; // ]
    const set = union(...parts);
    return negated ? complement(set) : set;
  }

  /** One class member: a code unit, or a whole set for \d, \w, \s and their negations. */
  private classAtom(): number | CharSet {
    if (this.peek() !== '\\') return this.advance(1, this.src.charCodeAt(this.pos));
    this.pos++;
    const c = this.peek() ?? '';
    const cls = classEscape(c);
    if (cls) return this.advance(1, cls);
    if (c === 'b') return this.advance(1, 8); // backspace inside a class
    return this.escapedCode();
  }
}

function classEscape(c: string): CharSet | undefined {
  switch (c) {
    case 'd':
      return DIGIT;
    case 'D':
      return complement(DIGIT);
    case 'w':
      return WORD;
    case 'W':
      return complement(WORD);
    case 's':
      return SPACE;
    case 'S':
      return complement(SPACE);
    default:
      return undefined;
  }
}
