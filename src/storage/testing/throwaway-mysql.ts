/**
 * A uniquely named MySQL/MariaDB database that lives for one test file and is dropped after, so
 * tests run against the real server without stepping on each other or on real data.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { createDatabaseSql, onMysqlServer } from '../create-database.js';
import { parseDatabaseUrl } from '../database-url.js';

/** The server tests use; override with GPUWATCH_TEST_MYSQL_URL (its database part is ignored). */
export const DEFAULT_TEST_MYSQL_URL = 'mysql://root@127.0.0.1:3306/mysql';

export interface ThrowawayDatabase {
  /** mysql://… URL of the new, empty database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createThrowawayMysqlDatabase(
  serverUrl = process.env.GPUWATCH_TEST_MYSQL_URL ?? DEFAULT_TEST_MYSQL_URL,
  prefix = 'gpuwatch_test',
): Promise<ThrowawayDatabase> {
  const target = parseDatabaseUrl(serverUrl);
  if (target.dialect !== 'mysql') throw new Error(`not a MySQL URL: ${serverUrl}`);
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const onServer = (work: (db: Kysely<unknown>) => Promise<unknown>) => onMysqlServer(target, work).then(() => undefined);
  await onServer((db) => createDatabaseSql(name).execute(db));
  const auth = target.password === '' ? encodeURIComponent(target.user) : `${encodeURIComponent(target.user)}:${encodeURIComponent(target.password)}`;
  return {
    name,
    url: `mysql://${auth}@${target.host}:${target.port}/${name}`,
    drop: () => onServer((db) => sql`drop database if exists ${sql.id(name)}`.execute(db)),
  };
}
