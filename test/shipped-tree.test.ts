/**
 * What `npm run build` ships (tsconfig.build.json) is the program and nothing else: every shipped
 * file is reached by imports from an entry point, so a test helper or fixture module left among the
 * sources (instead of test/ or a testing/ folder) fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';
import { importGraph, isShipped, topFolder, typescriptFiles } from './import-graph.js';

/** The CLI, and the worker threads started by file URL (src/worker-entry.ts) rather than imported. */
const ENTRY_POINTS = ['cli/gpuwatch.ts', 'exporter/backends/nvml/worker.ts', 'src/storage/sqlite-checkpoint-worker.ts'];

const build = JSON.parse(readFileSync(`${ROOT}/tsconfig.build.json`, 'utf8')) as { include: string[]; exclude: string[] };

function reachable(graph: Map<string, string[]>, from: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of graph.get(file) ?? []) visit(next);
  };
  from.forEach(visit);
  return seen;
}

describe('the shipped tree', () => {
  it('leaves tests and testing/ folders out of the build', () => {
    expect(build.exclude).toEqual(['**/*.test.ts', '**/testing']);
  });

  it('holds only files the entry points reach', () => {
    const shipped = typescriptFiles(ROOT).filter((f) => build.include.includes(topFolder(f)) && isShipped(f));
    const reached = reachable(importGraph(ROOT, shipped), ENTRY_POINTS);
    expect(shipped.filter((f) => !reached.has(f))).toEqual([]);
  });
});
