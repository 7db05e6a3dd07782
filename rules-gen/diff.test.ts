import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.js';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i}`);

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x', 'y')).toBe('');
  });

  it('shows each change with three lines of context in separate hunks', () => {
    const before = lines(30);
    const after = [...before];
    after[5] = 'line five';
    after.splice(20, 1);
    const diff = unifiedDiff(`${before.join('\n')}\n`, `${after.join('\n')}\n`, 'old', 'new');
    expect(diff).toBe(
      [
        '--- old',
        '+++ new',
        '@@ -3,7 +3,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '@@ -18,7 +18,6 @@',
        ' line 17',
        ' line 18',
        ' line 19',
        '-line 20',
        ' line 21',
        ' line 22',
        ' line 23',
        '',
      ].join('\n'),
    );
  });

  it('merges changes closer than twice the context into one hunk', () => {
    const before = lines(20);
    const after = before.map((l, i) => (i === 5 || i === 10 ? `${l}!` : l));
    const diff = unifiedDiff(before.join('\n'), after.join('\n'), 'a', 'b');
    expect(diff.match(/^@@/gm)).toHaveLength(1);
    expect(diff).toContain('@@ -3,12 +3,12 @@');
  });

  it('diffs a new file against nothing', () => {
    expect(unifiedDiff('', 'x\ny\n', '/dev/null', 'f')).toBe('--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+x\n+y\n');
  });

  it('stays exact when lines repeat', () => {
    const diff = unifiedDiff('a\nb\na\nb\n', 'a\nb\nb\na\n', 'x', 'y');
    const plus = diff.split('\n').filter((l) => /^[+-][^+-]/.test(l));
    expect(plus).toHaveLength(2);
  });
});
