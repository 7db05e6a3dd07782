/**
 * Reads a YAML file and validates it with a zod schema. Every error names the file, the line and
 * column, and the field path, e.g. `gpuwatch.yaml:12:5: exporter.interval: not a duration ("ten")`.
 */
import { readFile } from 'node:fs/promises';
import { isNode, Lexer, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { knownKeysAt, nearestKey } from './schema-keys.js';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly problems: readonly ConfigProblem[] = [],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  field: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return `${where}: ${p.field === '' ? '(top level)' : p.field}: ${p.message}`;
}

/** Parses YAML text and validates it; throws ConfigError listing every problem with its position. */
export function parseYamlWith<S extends z.ZodTypeAny>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const [firstError] = doc.errors;
  if (firstError) throw problemsError(file, [syntaxProblem(text, file, firstError, lineCounter)]);
  const result = schema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => unknownKeyProblem(file, doc, lineCounter, schema, issue.path, key));
    }
    return [{ file, ...locate(doc, lineCounter, issue.path, []), field: issue.path.map(String).join('.'), message: issue.message }];
  });
  throw problemsError(file, problems);
}

/**
 * A YAML syntax error, reported once: the parser's first error, at the token that caused it (an
 * unclosed quote or bracket where it opens); later errors only follow from it.
 */
function syntaxProblem(text: string, file: string, error: YAMLError, lineCounter: LineCounter): ConfigProblem {
  const pos = lineCounter.linePos(offendingOffset(text, error));
  return { file, line: pos.line, column: pos.col, field: '', message: `YAML syntax: ${error.message.split('\n')[0]}` };
}

/** Tokens the lexer emits that stand for no source text (document start, scalar start, flow end). */
const LEXER_MARKERS = new Set(['\x02', '\x18', '\x1f']);

/** Where the error's token starts: an unterminated quoted scalar or flow collection opens before the place the parser gave up. */
function offendingOffset(text: string, error: YAMLError): number {
  const at = firstNonBlank(text, error.pos[0]);
  const unclosedQuote = /quote/i.test(error.message);
  const unclosedFlow = /end with a [\]}]/.test(error.message);
  if (!unclosedQuote && !unclosedFlow) return at;
  const openFlows: number[] = [];
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (LEXER_MARKERS.has(token)) continue;
    const end = offset + token.length;
    if (offset > at) break;
    const first = token[0];
    if (unclosedQuote && (first === '"' || first === "'") && end >= at) return offset;
    if (first === '[' || first === '{') openFlows.push(offset);
    if (first === ']' || first === '}') openFlows.pop();
    offset = end;
  }
  return unclosedFlow ? (openFlows.at(-1) ?? at) : at;
}

/** An indentation error points at the line's indentation; the token is the first thing after it. */
function firstNonBlank(text: string, offset: number): number {
  let at = offset;
  while (text[at] === ' ' || text[at] === '\t') at++;
  return at;
}

function unknownKeyProblem(
  file: string,
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  schema: z.ZodTypeAny,
  path: readonly (string | number)[],
  key: string,
): ConfigProblem {
  const suggestion = nearestKey(key, knownKeysAt(schema, path));
  const message = `unknown key \`${key}\`${suggestion ? ` — did you mean \`${suggestion}\`?` : ''}`;
  return { file, ...locate(doc, lineCounter, path, [key]), field: [...path.map(String), key].join('.'), message };
}

/** Reads a YAML file from disk; a missing or unreadable file is a ConfigError too. */
export async function readYamlWith<S extends z.ZodTypeAny>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(`${file}: ${reason}`, file, [{ file, field: '', message: reason }]);
  }
  return parseYamlWith(text, file, schema);
}

/**
 * A problem with a value that passed the schema but fails later (e.g. a path to a missing file),
 * reported at that value's position in the file.
 */
export async function problemAt(file: string, path: readonly (string | number)[], message: string): Promise<ConfigError> {
  const lineCounter = new LineCounter();
  const text = await readFile(file, 'utf8').catch(() => '');
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const position = locate(doc, lineCounter, path, []);
  return problemsError(file, [{ file, ...position, field: path.join('.'), message }]);
}

function problemsError(file: string, problems: ConfigProblem[]): ConfigError {
  return new ConfigError(problems.map(formatProblem).join('\n'), file, problems);
}

/** The position of the deepest node along `path` that exists in the document (an unknown key: the key itself). */
function locate(
  doc: ReturnType<typeof parseDocument>,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
  unknownKeys: readonly string[],
): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (!isNode(node) || !node.range) continue;
    const keyPos = depth === path.length && unknownKeys[0] !== undefined ? findKey(node, unknownKeys[0]) : undefined;
    const offset = keyPos ?? node.range[0];
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
  return {};
}

function findKey(node: unknown, key: string): number | undefined {
  const items = (node as { items?: { key?: unknown }[] }).items;
  for (const item of items ?? []) {
    const k = item.key;
    if (isNode(k) && (k as { value?: unknown }).value === key && k.range) return k.range[0];
  }
  return undefined;
}
