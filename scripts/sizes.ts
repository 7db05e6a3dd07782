/**
 * `npm run sizes`: production code over the size limits — every function, method or arrow body
 * longer than 60 lines and every file longer than 300 lines. Production code is what
 * tsconfig.build.json builds; tests (`*.test.ts`), test fixtures and goldens are left out. Prints one line per finding (`path:line  N lines  name`) and exits 1
 * when there is any, so it can run in CI.
 *
 * `npm run sizes -- [folder ...]`: only those folders (default: all of it).
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_FUNCTION_LINES = 60;
const MAX_FILE_LINES = 300;

export interface SizeFinding {
  file: string;
  line: number;
  lines: number;
  name: string;
}

const isProduction = (file: string) =>
  file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.test.ts') && !/(^|\/)(fixtures|golden|goldens|node_modules)\//.test(file);

function functionName(node: ts.Node): string {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isFunctionExpression(node)) && node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

/** The functions in one source text whose body runs over the limit. */
export function longFunctions(file: string, text: string, limit = MAX_FUNCTION_LINES): SizeFinding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: SizeFinding[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const body = node.body as ts.Node;
      const lines = lineOf(body.getEnd()) - lineOf(body.getStart(source)) + 1;
      if (lines > limit) found.push({ file, line: lineOf(node.getStart(source)), lines, name: functionName(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function main(folders: string[]): number {
  const config = ts.getParsedCommandLineOfConfigFile('tsconfig.build.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('sizes: cannot read tsconfig.build.json');
  const files = config.fileNames
    .map((f) => relative(process.cwd(), f))
    .filter(isProduction)
    .filter((f) => folders.length === 0 || folders.some((d) => f.startsWith(d.replace(/\/?$/, '/'))));
  const findings: SizeFinding[] = [];
  for (const file of files.sort()) {
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_FILE_LINES) findings.push({ file, line: 1, lines, name: '(file)' });
    findings.push(...longFunctions(file, text));
  }
  for (const f of findings) console.log(`${f.file}:${f.line}\t${f.lines} lines\t${f.name}`);
  return findings.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
