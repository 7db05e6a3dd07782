/** No import cycles: between files at run time, and between the folders of what ships. */
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';
import { folderCycles, importCycles, importGraph, isShipped, typescriptFiles } from './import-graph.js';

describe('import cycles', () => {
  it('no file imports itself back at run time (type-only imports vanish when compiled)', () => {
    const cycles = importCycles(importGraph(ROOT, typescriptFiles(ROOT), { runtimeOnly: true }));
    expect(cycles.map((c) => c.join(' -> '))).toEqual([]);
  });

  it('no two folders of the shipped tree import each other', () => {
    expect(folderCycles(importGraph(ROOT, typescriptFiles(ROOT).filter(isShipped)))).toEqual([]);
  });
});
