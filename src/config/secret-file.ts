/** A secret given in the config itself (`token: …`) or in a file next to it (`tokenFile: …`). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from './yaml-file.js';

export interface SecretFiles {
  /** Directory that relative file names are read from (the config file's). */
  base: string;
  /** The config file, as errors name it. */
  source: string;
  /** The section's key in the file, e.g. `router`, prefixed to the field in errors. */
  section: string;
}

/** `(value, file, field)`: `value` when no file is given; else the file's text, trimmed. */
export type ReadSecret = (value: string | undefined, file: string | undefined, field: string) => Promise<string | undefined>;

/** A missing, unreadable or empty file is a ConfigError naming the file, `<section>.<field>` and the path. */
export function secretReader({ base, source, section }: SecretFiles): ReadSecret {
  return async (value, file, field) => {
    if (file === undefined) return value;
    const path = resolve(base, file);
    try {
      const text = (await readFile(path, 'utf8')).trim();
      if (text === '') throw new Error('the file is empty');
      return text;
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
      throw new ConfigError(`${source}: ${section}.${field}: ${path}: ${why}`, source, [
        { file: source, field: `${section}.${field}`, message: `${path}: ${why}` },
      ]);
    }
  };
}
