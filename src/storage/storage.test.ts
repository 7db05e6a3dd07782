import { sql, type Kysely, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from './database.js';
import { parseDatabaseUrl, redactUrl, resolveSqliteUrl } from './database-url.js';
import { migrateToLatest, MigrationError } from './migrate.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from './testing/throwaway-mysql.js';
import { settlesWithin, TimeoutError, withTimeout } from './timeout.js';

describe('database URLs', () => {
  it('reads sqlite and mysql URLs', () => {
    expect(parseDatabaseUrl('sqlite:///var/lib/gpuwatch/rules.db')).toEqual({ dialect: 'sqlite', file: '/var/lib/gpuwatch/rules.db' });
    expect(parseDatabaseUrl('sqlite://./rules.db')).toEqual({ dialect: 'sqlite', file: './rules.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', file: ':memory:' });
    expect(parseDatabaseUrl('mysql://pai:s%40cret@db.example:3307/gpuwatch')).toEqual({
      dialect: 'mysql',
      host: 'db.example',
      port: 3307,
      user: 'pai',
      password: 's@cret',
      database: 'gpuwatch',
    });
    expect(parseDatabaseUrl('mariadb://root@127.0.0.1/x')).toMatchObject({ dialect: 'mysql', port: 3306, user: 'root', password: '' });
  });

  it('refuses what it cannot use, without showing the password', () => {
    expect(() => parseDatabaseUrl('postgres://x/y')).toThrow(/unsupported scheme/);
    expect(() => parseDatabaseUrl('sqlite://')).toThrow(/no file/);
    expect(() => parseDatabaseUrl('mysql://root:hunter2@host/')).toThrow(
      /invalid database URL "mysql:\/\/root:\*\*\*@host\/": the path must name one database/,
    );
    expect(redactUrl('mysql://u:p@h:1/d')).toBe('mysql://u:***@h:1/d');
  });

  it('resolves relative sqlite files against a base directory', () => {
    const join = (base: string, file: string) => `${base}/${file.replace(/^\.\//, '')}`;
    expect(resolveSqliteUrl('sqlite://./rules.db', '/etc/gpuwatch', join)).toBe('sqlite:///etc/gpuwatch/rules.db');
    expect(resolveSqliteUrl('sqlite:///abs.db', '/etc', join)).toBe('sqlite:///abs.db');
    expect(resolveSqliteUrl('sqlite::memory:', '/etc', join)).toBe('sqlite::memory:');
    expect(resolveSqliteUrl('mysql://h/d', '/etc', join)).toBe('mysql://h/d');
  });
});

describe('withTimeout', () => {
  it('passes results through and gives up on slow work', async () => {
    expect(await withTimeout(Promise.resolve(7), 50, 'x')).toBe(7);
  });

  it('gives up on work that never ends exactly when the time is up, by the clock it is given', async () => {
    vi.useFakeTimers();
    try {
      let outcome: unknown;
      const bounded = withTimeout(new Promise<never>(() => undefined), 30, 'reading').catch((err: unknown) => (outcome = err));
      await vi.advanceTimersByTimeAsync(29);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await bounded;
      expect(outcome).toBeInstanceOf(TimeoutError);
      expect((outcome as Error).message).toBe('reading took longer than 30 ms');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('clears its timer when the work ends first', async () => {
    vi.useFakeTimers();
    try {
      expect(await withTimeout(Promise.resolve('done'), 60_000, 'x')).toBe('done');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('settlesWithin tells whether work ended in time, failed or not', async () => {
    expect(await settlesWithin(Promise.resolve(7), 50)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('broken')), 50)).toBe(true);
    expect(await settlesWithin(new Promise<never>(() => undefined), 30)).toBe(false);
  });
});

interface NotesDb {
  notes: { id: number; body: string };
}

const notesMigrations: Record<string, Migration> = {
  '0001_notes': {
    up: async (db: Kysely<any>) => {
      await db.schema
        .createTable('notes')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

describe.each([
  ['sqlite', async () => ({ url: 'sqlite::memory:', drop: async () => undefined })],
  ['mysql (MariaDB on 127.0.0.1)', async (): Promise<Pick<ThrowawayDatabase, 'url' | 'drop'>> => createThrowawayMysqlDatabase()],
])('migrations and auto-increment ids on %s', (_name, create) => {
  let target: Pick<ThrowawayDatabase, 'url' | 'drop'>;
  let opened: ReturnType<typeof openDatabase<NotesDb>>;

  beforeAll(async () => {
    target = await create();
    opened = openDatabase<NotesDb>(target.url);
  });

  afterAll(async () => {
    await opened?.close();
    await target?.drop();
  });

  it('runs each migration once and keeps ids increasing', async () => {
    const set = { tableName: 'notes_migrations', migrations: notesMigrations };
    expect(await migrateToLatest(opened.db as Kysely<unknown>, set)).toEqual(['0001_notes']);
    expect(await migrateToLatest(opened.db as Kysely<unknown>, set)).toEqual([]);
    const first = await opened.db
      .insertInto('notes')
      .values({ body: 'a' } as never)
      .executeTakeFirstOrThrow();
    const second = await opened.db
      .insertInto('notes')
      .values({ body: 'b' } as never)
      .executeTakeFirstOrThrow();
    expect(Number(second.insertId)).toBe(Number(first.insertId) + 1);
    const rows = await opened.db.selectFrom('notes').select(['id', 'body']).orderBy('id').execute();
    expect(rows.map((r) => r.body)).toEqual(['a', 'b']);
  });

  it('reports a failing migration by name', async () => {
    const broken = {
      tableName: 'broken_migrations',
      migrations: { '0001_bad': { up: async (db: Kysely<any>) => void (await sql`select * from no_such_table`.execute(db)) } },
    };
    await expect(migrateToLatest(opened.db as Kysely<unknown>, broken)).rejects.toThrow(MigrationError);
    await expect(migrateToLatest(opened.db as Kysely<unknown>, broken)).rejects.toThrow(/migration 0001_bad failed/);
  });
});

describe('throwaway MySQL databases', () => {
  it('creates a uniquely named database and drops it', async () => {
    const a = await createThrowawayMysqlDatabase();
    const b = await createThrowawayMysqlDatabase();
    expect(a.name).not.toBe(b.name);
    const opened = openDatabase<unknown>(a.url);
    const listed = await sql<{ name: string }>`select schema_name as name from information_schema.schemata where schema_name in (${a.name}, ${b.name})`.execute(
      opened.db,
    );
    expect(listed.rows.map((r) => r.name).sort()).toEqual([a.name, b.name].sort());
    await a.drop();
    await b.drop();
    const after = await sql<{ name: string }>`select schema_name as name from information_schema.schemata where schema_name in (${a.name}, ${b.name})`
      .execute(opened.db)
      .catch(() => ({ rows: [] }));
    expect(after.rows).toEqual([]);
    await opened.close();
  });
});
