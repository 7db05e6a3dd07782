/**
 * Work on a MySQL/MariaDB server rather than in one of its databases (creating or dropping one),
 * over a single short-lived connection; and creating the database a mysql:// URL names when the
 * server does not have it yet (utf8mb4, binary collation, as the migrations expect), so a stack on
 * a fresh MariaDB starts without a manual CREATE DATABASE. SQLite URLs need nothing: the file is
 * created on first open.
 */
import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import { parseDatabaseUrl, type DatabaseTarget } from './database-url.js';

type MysqlTarget = Extract<DatabaseTarget, { dialect: 'mysql' }>;

/** Runs `work` on the server of `target` (no database selected), then closes the connection. */
export async function onMysqlServer<T>(target: MysqlTarget, work: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
  const pool = createPool({ host: target.host, port: target.port, user: target.user, password: target.password, connectionLimit: 1, connectTimeout: 5_000 });
  const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** `create database NAME` with the character set and collation the migrations expect. */
export const createDatabaseSql = (name: string) => sql`create database if not exists ${sql.id(name)} character set utf8mb4 collate utf8mb4_bin`;

/** True when it created the database, false when it was there already (or the URL is SQLite). */
export async function createDatabaseIfMissing(url: string): Promise<boolean> {
  const target = parseDatabaseUrl(url);
  if (target.dialect !== 'mysql') return false;
  return onMysqlServer(target, async (db) => {
    const found = await sql<{ name: string }>`select schema_name as name from information_schema.schemata where schema_name = ${target.database}`.execute(db);
    if (found.rows.length > 0) return false;
    await createDatabaseSql(target.database).execute(db);
    return true;
  });
}
