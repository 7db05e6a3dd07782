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
import { WalCheckpointer } from './sqlite-checkpoint.js';

export interface OpenDatabaseOptions {
  /** MySQL: how long opening a connection may take (ms). A hung server must fail, not queue forever. */
  connectTimeoutMs?: number;
  /** MySQL: pool size. */
  connections?: number;
  /** SQLite: where a warning goes (default: process.emitWarning). */
  warn?: (message: string) => void;
}

export interface OpenedDatabase<DB> {
  db: Kysely<DB>;
  dialect: DatabaseTarget['dialect'];
  close(): Promise<void>;
}

export function openDatabase<DB>(url: string, options: OpenDatabaseOptions = {}): OpenedDatabase<DB> {
  const target = parseDatabaseUrl(url);
  const db =
    target.dialect === 'sqlite'
      ? new Kysely<DB>({ dialect: sqliteDialect(target.file, options.warn ?? ((message) => process.emitWarning(message))) })
      : new Kysely<DB>({ dialect: mysqlDialect(target, options) });
  let closed: Promise<void> | undefined;
  return {
    db,
    dialect: target.dialect,
    close: () => (closed ??= db.destroy()),
  };
}

function sqliteDialect(file: string, warn: (message: string) => void): SqliteDialect {
  return new SqliteDialect({
    database: async () => {
      if (file === ':memory:') return new SqliteDatabase(file);
      mkdirSync(dirname(file), { recursive: true });
      const sqlite = new SqliteDatabase(file);
      // WAL lets readers run while a writer commits; the busy timeout covers short write locks.
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('busy_timeout = 2000');
      // Checkpoints run in a worker thread, not inside whichever commit fills the WAL.
      sqlite.pragma('wal_autocheckpoint = 0');
      const checkpointer = new WalCheckpointer(file, {
        onFallback: (reason) => {
          if (!sqlite.open) return;
          sqlite.pragma('wal_autocheckpoint = 1000');
          warn(`${file}: ${reason}; SQLite checkpoints the WAL itself again`);
        },
      });
      return {
        prepare: cachedStatements(sqlite),
        close: () => {
          checkpointer.stop();
          sqlite.close();
        },
      };
    },
  });
}

/** Statements most services run are few and repeated: compile each once (a bounded cache). */
const STATEMENT_CACHE_SIZE = 500;

function cachedStatements(sqlite: SqliteDatabase.Database): (sql: string) => SqliteDatabase.Statement {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return (sql) => {
    const cached = cache.get(sql);
    // A statement still iterating (a streamed query) cannot run again until it is done.
    if (cached && !cached.busy) return cached;
    const statement = sqlite.prepare(sql);
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
    cache.set(sql, statement);
    return statement;
  };
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
