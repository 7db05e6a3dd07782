/**
 * Database URLs as written in gpuwatch.yaml and on the command line:
 *   sqlite:///abs/path.db   sqlite://./relative.db   sqlite::memory:
 *   mysql://user:password@host:3306/database   (mariadb:// is the same)
 */

export type DatabaseTarget =
  { dialect: 'sqlite'; file: string } | { dialect: 'mysql'; host: string; port: number; user: string; password: string; database: string };

export class DatabaseUrlError extends Error {
  constructor(url: string, why: string) {
    super(`invalid database URL "${redactUrl(url)}": ${why}`);
    this.name = 'DatabaseUrlError';
  }
}

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    if (file === '') throw new DatabaseUrlError(url, 'no file; use sqlite:///path/file.db or sqlite::memory:');
    return { dialect: 'sqlite', file };
  }
  if (url.startsWith('mysql:') || url.startsWith('mariadb:')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatabaseUrlError(url, 'expected mysql://user:password@host:port/database');
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (database === '' || database.includes('/')) throw new DatabaseUrlError(url, 'the path must name one database');
    if (parsed.hostname === '') throw new DatabaseUrlError(url, 'no host');
    return {
      dialect: 'mysql',
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port === '' ? 3306 : Number(parsed.port),
      user: decodeURIComponent(parsed.username || 'root'),
      password: decodeURIComponent(parsed.password),
      database,
    };
  }
  throw new DatabaseUrlError(url, 'unsupported scheme; use sqlite: or mysql:');
}

/** The URL with its password replaced, safe for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^((?:mysql|mariadb):\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** A sqlite URL's relative file resolved against a base directory (other URLs unchanged). */
export function resolveSqliteUrl(url: string, baseDir: string, resolvePath: (base: string, file: string) => string): string {
  if (!url.startsWith('sqlite:')) return url;
  const target = parseDatabaseUrl(url);
  if (target.dialect !== 'sqlite' || target.file === ':memory:' || target.file.startsWith('/')) return url;
  return `sqlite://${resolvePath(baseDir, target.file)}`;
}
