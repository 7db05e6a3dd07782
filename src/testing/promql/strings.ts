/**
 * The value of a PromQL string literal as Prometheus reads it (Go escapes; backtick strings raw).
 * The grammar lets a `"` or `'` string run to the end of a line without its closing quote, so the
 * closing quote is checked here.
 */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};
/** `\x`, `\u`, `\U`: how many hex digits follow; `\NNN`: three octal digits. */
const CODE_ESCAPES: Readonly<Record<string, { digits: number; radix: number; max: number }>> = {
  x: { digits: 2, radix: 16, max: 0xff },
  u: { digits: 4, radix: 16, max: 0x10ffff },
  U: { digits: 8, radix: 16, max: 0x10ffff },
  octal: { digits: 3, radix: 8, max: 0xff },
};

type Escape = { text: string; end: number } | { error: string };

/** The string's value, or what is wrong with the literal. */
export function unquotePromqlString(literal: string): string | { error: string } {
  const quote = literal.charAt(0);
  if (quote === '`') return literal.slice(1, -1);
  const unterminated = { error: `unterminated string ${literal}` };
  let value = '';
  let i = 1;
  while (i < literal.length) {
    const c = literal.charAt(i);
    if (c === quote) return i === literal.length - 1 ? value : { error: `text after the closing quote of ${literal}` };
    if (c !== '\\') {
      value += c;
      i++;
    } else if (i + 1 >= literal.length) {
      return unterminated;
    } else {
      const escape = escapeAt(literal, i + 1, quote);
      if ('error' in escape) return escape;
      value += escape.text;
      i = escape.end;
    }
  }
  return unterminated;
}

/** What the escape whose letter is at `at` (just after the backslash) stands for. */
function escapeAt(s: string, at: number, quote: string): Escape {
  const c = s.charAt(at);
  if (c === quote) return { text: quote, end: at + 1 };
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, end: at + 1 };
  const isOctal = /[0-7]/.test(c);
  const code = CODE_ESCAPES[isOctal ? 'octal' : c];
  if (!code) return { error: `invalid escape \\${c} in string ${s}` };
  const from = isOctal ? at : at + 1;
  const invalid = { error: `invalid escape \\${s.slice(at, from + code.digits)} in string ${s}` };
  const digits = s.slice(from, from + code.digits);
  const valid = code.radix === 8 ? /^[0-7]+$/ : /^[0-9a-fA-F]+$/;
  const point = Number.parseInt(digits, code.radix);
  if (digits.length !== code.digits || !valid.test(digits) || point > code.max || (point >= 0xd800 && point < 0xe000)) return invalid;
  return { text: String.fromCodePoint(point), end: from + code.digits };
}
