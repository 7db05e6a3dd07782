/** Writing generated files into a directory, and comparing a directory with them (`--check`). */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { unifiedDiff } from './diff.js';
import type { ArtifactFiles } from './types.js';

/** Top-level folders of the output that belong to the generator; other files in DIR are left alone. */
export const MANAGED_DIRS = ['alertmanager', 'grafana', 'kubernetes', 'prometheus'] as const;
const GENERATED_LOOKING = /\.(ya?ml|json)$/;
/** At most this many diff lines per file; the rest is counted. */
const MAX_DIFF_LINES = 300;

export interface Drift {
  /** Relative paths whose content differs, or that are missing, or that are not generated any more. */
  changed: string[];
  missing: string[];
  extra: string[];
  /** A readable unified diff of all of it. */
  report: string;
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Files under the managed folders of `dir` that look generated (YAML, JSON), as relative paths with `/`. */
async function existingGenerated(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (folder: string, depth: number): Promise<void> => {
    if (depth > 8) return;
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(folder, e.name);
      if (e.isDirectory()) await walk(path, depth + 1);
      else if (e.isFile() && GENERATED_LOOKING.test(e.name)) found.push(relative(dir, path).split(sep).join('/'));
    }
  };
  for (const managed of MANAGED_DIRS) await walk(join(dir, managed), 0);
  return found.sort();
}

function capped(diff: string): string {
  const lines = diff.split('\n');
  if (lines.length <= MAX_DIFF_LINES) return diff;
  return `${lines.slice(0, MAX_DIFF_LINES).join('\n')}\n... ${lines.length - MAX_DIFF_LINES} more diff lines\n`;
}

/** What differs between `dir` and the generated files; writes nothing. */
export async function compareWithDir(files: ArtifactFiles, dir: string): Promise<Drift> {
  const drift: Drift = { changed: [], missing: [], extra: [], report: '' };
  const parts: string[] = [];
  for (const [path, text] of files) {
    const onDisk = await readOrUndefined(join(dir, path));
    if (onDisk === text) continue;
    (onDisk === undefined ? drift.missing : drift.changed).push(path);
    parts.push(capped(unifiedDiff(onDisk ?? '', text, onDisk === undefined ? '/dev/null' : `${dir}/${path}`, `${path} (generated)`)));
  }
  for (const path of await existingGenerated(dir)) {
    if (files.has(path)) continue;
    drift.extra.push(path);
    parts.push(`Only in ${dir}: ${path} (no longer generated; remove it)\n`);
  }
  drift.report = parts.join('');
  return drift;
}

export const hasDrift = (d: Drift) => d.changed.length + d.missing.length + d.extra.length > 0;

/** Writes the files that differ from what is on disk; returns their paths. */
export async function writeToDir(files: ArtifactFiles, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [path, text] of files) {
    const target = join(dir, path);
    if ((await readOrUndefined(target)) === text) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    written.push(path);
  }
  return written;
}

/** Generated-looking files in the managed folders that the generator no longer writes. */
export async function staleFiles(files: ArtifactFiles, dir: string): Promise<string[]> {
  return (await existingGenerated(dir)).filter((p) => !files.has(p));
}
