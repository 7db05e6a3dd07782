/**
 * Opens a kysely database from a URL: SQLite (embedded, the default) or MySQL/MariaDB (production,
 * several replicas). Every gpuwatch service keeps its state through this one factory.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, MysqlDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import { parseDatabaseUrl, type DatabaseTarget } from './database-url.js';

export interface OpenDatabaseOptions {
  /** MySQL: how long opening a connection may take (ms). A hung server must fail, not queue forever. */
  connectTimeoutMs?: number;
  /** MySQL: pool size. */
  connections?: number;
}

export interface OpenedDatabase<DB> {
  db: Kysely<DB>;
  dialect: DatabaseTarget['dialect'];
  close(): Promise<void>;
}

export function openDatabase<DB>(url: string, options: OpenDatabaseOptions = {}): OpenedDatabase<DB> {
  const target = parseDatabaseUrl(url);
  const db = target.dialect === 'sqlite' ? new Kysely<DB>({ dialect: sqliteDialect(target.file) }) : new Kysely<DB>({ dialect: mysqlDialect(target, options) });
  let closed: Promise<void> | undefined;
  return {
    db,
    dialect: target.dialect,
    close: () => (closed ??= db.destroy()),
  };
}

function sqliteDialect(file: string): SqliteDialect {
  return new SqliteDialect({
    database: async () => {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      const sqlite = new SqliteDatabase(file);
      // WAL lets readers run while a writer commits; the busy timeout covers short write locks.
      if (file !== ':memory:') sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('busy_timeout = 2000');
      return sqlite;
    },
  });
}

function mysqlDialect(target: Extract<DatabaseTarget, { dialect: 'mysql' }>, options: OpenDatabaseOptions): MysqlDialect {
  return new MysqlDialect({
    pool: createPool({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      connectionLimit: options.connections ?? 10,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      charset: 'utf8mb4',
      supportBigNumbers: true,
    }),
  });
}
