/** Imports run one way: every component imports the shared core in src/, src/ imports no component. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importGraph, topFolder, typescriptFiles } from './import-graph.js';
import { ROOT } from './cli.js';

/** The top-level folders that are components (or sit above them), none of which src/ may import. */
const COMPONENTS = ['exporter', 'rules-gen', 'dashboards', 'alertmanager', 'rule-service', 'stack', 'rightsize', 'cli', 'bench', 'quality', 'scripts'];
/** Top-level folders with TypeScript that are not components: the shared core, the cross-component tests, the example files' test. */
const NOT_COMPONENTS = ['src', 'test', 'examples'];

describe('the import direction', () => {
  it('src/ imports no component', () => {
    const graph = importGraph(ROOT, typescriptFiles(ROOT, `${ROOT}/src`));
    const upward = [...graph].flatMap(([file, imports]) => imports.filter((i) => COMPONENTS.includes(topFolder(i))).map((i) => `${file} imports ${i}`));
    expect(upward).toEqual([]);
  });

  it('knows every top-level folder with TypeScript in it', () => {
    const withTypescript = readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !['node_modules', 'dist'].includes(e.name) && !e.name.startsWith('.'))
      .filter((e) => typescriptFiles(ROOT, `${ROOT}/${e.name}`).length > 0)
      .map((e) => e.name);
    expect(withTypescript.filter((f) => !COMPONENTS.includes(f) && !NOT_COMPONENTS.includes(f))).toEqual([]);
  });
});
