import { describe, expect, it } from 'vitest';
import { longFunctions } from './sizes.js';

const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('sizes: long functions', () => {
  it('names a function, a method and an arrow whose body runs over the limit, and their first line', () => {
    const text = [
      `function long() {\n${body(5)}\n}`,
      `function short() {\n${body(1)}\n}`,
      `class K {\n  method() {\n${body(5)}\n  }\n}`,
      `const arrow = () => {\n${body(5)}\n};`,
    ].join('\n');
    const found = longFunctions('x.ts', text, 6);
    expect(found.map((f) => [f.name, f.line, f.lines])).toEqual([
      ['long', 1, 7],
      ['method', 12, 7],
      ['arrow', 20, 7],
    ]);
  });

  it('finds nothing at exactly the limit', () => {
    expect(longFunctions('x.ts', `function edge() {\n${body(4)}\n}`, 6)).toEqual([]);
  });
});
