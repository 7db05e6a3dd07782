/** Sets of UTF-16 code units as sorted ranges: just enough to ask "can these two begin alike?". */

export type CharSet = readonly (readonly [number, number])[];

const MAX = 0xffff;

export const EMPTY_SET: CharSet = [];
export const ANY_CHAR: CharSet = [[0, MAX]];

export function charRange(lo: number, hi: number): CharSet {
  return lo <= hi ? [[lo, hi]] : EMPTY_SET;
}

export function singleChar(code: number): CharSet {
  return [[code, code]];
}

export function union(...sets: CharSet[]): CharSet {
  const ranges = sets.flat().map((r) => [r[0], r[1]] as [number, number]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

export function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of union(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX) out.push([next, MAX]);
  return out;
}

export function intersects(a: CharSet, b: CharSet): boolean {
  return a.some(([alo, ahi]) => b.some(([blo, bhi]) => alo <= bhi && blo <= ahi));
}

export const DIGIT: CharSet = charRange(0x30, 0x39);
export const WORD: CharSet = union(DIGIT, charRange(0x41, 0x5a), singleChar(0x5f), charRange(0x61, 0x7a));
export const SPACE: CharSet = union(
  charRange(0x09, 0x0d),
  singleChar(0x20),
  singleChar(0xa0),
  singleChar(0x1680),
  charRange(0x2000, 0x200a),
  charRange(0x2028, 0x2029),
  singleChar(0x202f),
  singleChar(0x205f),
  singleChar(0x3000),
  singleChar(0xfeff),
);
/** `.` without the s flag: anything but line terminators. */
export const DOT: CharSet = complement(union(singleChar(0x0a), singleChar(0x0d), charRange(0x2028, 0x2029)));
