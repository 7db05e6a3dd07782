/**
 * A unified diff of two texts (Myers' O(ND) algorithm on lines, after trimming the common head and
 * tail), for `gpuwatch generate --check` to show what drifted.
 */

type Op = { kind: 'same' | 'del' | 'add'; line: string };

/** Beyond this many differing lines the middle is shown as one replaced block. */
const MAX_EDIT_DISTANCE = 2000;

function editScript(a: readonly string[], b: readonly string[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const middle = myers(midA, midB) ?? [...midA.map((line): Op => ({ kind: 'del', line })), ...midB.map((line): Op => ({ kind: 'add', line }))];
  return [...a.slice(0, head).map((line): Op => ({ kind: 'same', line })), ...middle, ...a.slice(a.length - tail).map((line): Op => ({ kind: 'same', line }))];
}

/** Shortest edit script, or undefined when it needs more than MAX_EDIT_DISTANCE edits. */
function myers(a: readonly string[], b: readonly string[]): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const limit = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = limit + 1;
  // v[offset + k] = furthest x on diagonal k (k = x - y); trace[d] is v as it was before step d.
  const v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace, d, offset);
    }
  }
  return undefined;
}

function backtrack(a: readonly string[], b: readonly string[], trace: Int32Array[], depth: number, offset: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = depth; d > 0; d--) {
    const v = trace[d] ?? new Int32Array(0);
    const k = x - y;
    const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: 'same', line: a[--x] ?? '' });
      y--;
    }
    if (down) ops.push({ kind: 'add', line: b[--y] ?? '' });
    else ops.push({ kind: 'del', line: a[--x] ?? '' });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: 'same', line: a[--x] ?? '' });
    y--;
  }
  return ops.reverse();
}

const splitLines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/**
 * `--- fromName` / `+++ toName` and `@@ -l,s +l,s @@` hunks with `context` lines around each change;
 * empty when the texts are equal.
 */
export function unifiedDiff(from: string, to: string, fromName: string, toName: string, context = 3): string {
  if (from === to) return '';
  const ops = editScript(splitLines(from), splitLines(to));
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]?.kind === 'same') i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are closer than 2 × context lines apart.
    for (let j = i; j < ops.length; j++) {
      if (ops[j]?.kind !== 'same') end = j;
      else if (j - end > 2 * context) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    const before = ops.slice(0, start);
    const oldStart = before.filter((o) => o.kind !== 'add').length + 1;
    const newStart = before.filter((o) => o.kind !== 'del').length + 1;
    const hunk = ops.slice(start, stop);
    const oldLen = hunk.filter((o) => o.kind !== 'add').length;
    const newLen = hunk.filter((o) => o.kind !== 'del').length;
    out.push(`@@ -${oldLen === 0 ? oldStart - 1 : oldStart},${oldLen} +${newLen === 0 ? newStart - 1 : newStart},${newLen} @@`);
    for (const o of hunk) out.push(`${o.kind === 'same' ? ' ' : o.kind === 'del' ? '-' : '+'}${o.line}`);
    i = stop;
  }
  return `${out.join('\n')}\n`;
}
