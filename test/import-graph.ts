/**
 * The relative imports between the project's own TypeScript files, read from the source text: what
 * the layout tests check (imports run one way, no file cycles).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.device']);
/** `import … from './x.js'`, `export … from`, a bare `import './x.js'`; group 1 is `type` for a type-only one. */
const STATIC_IMPORT = /(?:^|[;\n])\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

export interface GraphOptions {
  /** Leave out `import type` and `export type`: what is gone once compiled, so cannot form a cycle at run time. */
  runtimeOnly?: boolean;
}

/** Every .ts file under `dir`, as paths relative to `root`. */
export function typescriptFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) ? [] : typescriptFiles(root, path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [relative(root, path)] : [];
  });
}

/** The files `source` imports (static, re-exports and dynamic `import()`), relative to the root, `.js` read as `.ts`. */
export function importsOf(source: string, file: string, options: GraphOptions = {}): string[] {
  const statics = [...source.matchAll(STATIC_IMPORT)].filter((m) => !(options.runtimeOnly && m[1])).map((m) => m[2]!);
  const found = [...statics, ...[...source.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]!)];
  return found.map((spec) => join(dirname(file), spec).replace(/\.js$/, '.ts'));
}

/** file -> the project files it imports. */
export function importGraph(root: string, files = typescriptFiles(root), options: GraphOptions = {}): Map<string, string[]> {
  return new Map(files.map((file) => [file, importsOf(readFileSync(resolve(root, file), 'utf8'), file, options)]));
}

/** The import cycles, each as the files around it (starting at its alphabetically first file), found by depth-first search. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') recordCycle(cycles, stack.slice(stack.indexOf(next)));
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return [...cycles.values()];
}

function recordCycle(cycles: Map<string, string[]>, cycle: string[]): void {
  const first = cycle.indexOf([...cycle].sort()[0]!);
  const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
  cycles.set(rotated.join(' -> '), rotated);
}

/** A file that ships in dist/: not a test, not a test helper (test/, a testing/ folder). */
export function isShipped(file: string): boolean {
  return !file.endsWith('.test.ts') && !file.startsWith('test/') && !file.split('/').includes('testing');
}

/** The pairs of top-level folders that import each other (through any files), each as `a <-> b`. */
export function folderCycles(graph: Map<string, string[]>): string[] {
  const edges = new Set<string>();
  for (const [file, imports] of graph) for (const target of imports) edges.add(`${topFolder(file)} ${topFolder(target)}`);
  return [...edges]
    .map((edge) => edge.split(' ') as [string, string])
    .filter(([a, b]) => a < b && edges.has(`${b} ${a}`))
    .map(([a, b]) => `${a} <-> ${b}`);
}

export const topFolder = (path: string): string => path.split('/')[0]!;
