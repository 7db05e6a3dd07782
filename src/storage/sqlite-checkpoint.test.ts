import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { WalCheckpointer, type CheckpointReply } from './sqlite-checkpoint.js';

type Done = Extract<CheckpointReply, { ok: true }>;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gpuwatch-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const walSize = async (file: string) => (await stat(`${file}-wal`)).size;

/** Asks `probe` up to `tries` times, 20 ms apart, until it returns a value. */
async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, tries = 500): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`gave up waiting for ${what} after ${tries} tries`);
}

/** Counts the checker's looks at the WAL file, so a test can wait for a number of them. */
class LookCounter {
  count = 0;
  readonly onLook = () => {
    this.count++;
  };
  /** Waits until the checker has looked `more` times after now. */
  async passes(more: number): Promise<void> {
    const target = this.count + more;
    await until(`${more} more looks at the WAL`, () => (this.count >= target ? true : undefined));
  }
}

function writerWithoutAutoCheckpoint(file: string): SqliteDatabase.Database {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  return db;
}

const insertKilobytes = (db: SqliteDatabase.Database, rows: number) => {
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  for (let i = 0; i < rows; i++) insert.run('x'.repeat(1_000));
};

describe('WAL checkpoints in a worker thread', () => {
  it('checkpoints a grown WAL without the writer, and the writer then reuses the WAL from its start', async () => {
    const file = join(dir, 'a.db');
    const db = writerWithoutAutoCheckpoint(file);
    const replies: Done[] = [];
    const fallbacks: string[] = [];
    const checkpointer = new WalCheckpointer(file, {
      intervalMs: 20,
      walBytes: 256 * 1024,
      onFallback: (r) => fallbacks.push(r),
      onCheckpoint: (r) => replies.push(r),
    });
    try {
      insertKilobytes(db, 1_000);
      const grown = await walSize(file);
      expect(grown).toBeGreaterThan(1_000_000);
      const full = await until('a complete checkpoint', () => replies.find((r) => r.walFrames > 0 && r.checkpointedFrames === r.walFrames));
      expect(full.busy).toBe(false);
      // Everything is in the database file now: the next writes start the WAL over instead of growing it.
      insertKilobytes(db, 500);
      expect(await walSize(file)).toBe(grown);
      const reader = new SqliteDatabase(file, { readonly: true });
      expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1_500 });
      reader.close();
      expect(fallbacks).toEqual([]);
    } finally {
      checkpointer.stop();
      db.close();
    }
  });

  it('leaves a small or unchanged WAL alone', async () => {
    const file = join(dir, 'b.db');
    const db = writerWithoutAutoCheckpoint(file);
    const replies: Done[] = [];
    const looks = new LookCounter();
    const checkpointer = new WalCheckpointer(file, {
      intervalMs: 20,
      walBytes: 256 * 1024,
      onFallback: () => undefined,
      onCheckpoint: (r) => replies.push(r),
      onLook: looks.onLook,
    });
    try {
      insertKilobytes(db, 10);
      await looks.passes(5);
      expect(replies).toEqual([]);
      insertKilobytes(db, 400);
      // Once the whole WAL is in the database file, nothing more happens while it stays unchanged.
      // (A look at the file taken while the inserts ran can have started a checkpoint of part of it,
      // and one more can follow for the rest: let a few looks pass before counting.)
      await until('the whole WAL checkpointed', () => replies.find((r) => r.walFrames > 0 && r.checkpointedFrames === r.walFrames));
      await looks.passes(3);
      const settled = replies.length;
      await looks.passes(10);
      expect(replies).toHaveLength(settled);
    } finally {
      checkpointer.stop();
      db.close();
    }
  });

  it('hands checkpointing back to SQLite when the worker cannot do it', async () => {
    const file = join(dir, 'broken.db');
    await writeFile(file, 'this is not a database, just bytes to fill the first page'.repeat(100));
    await writeFile(`${file}-wal`, Buffer.alloc(300 * 1024, 7));
    const fallbacks: string[] = [];
    const checkpointer = new WalCheckpointer(file, { intervalMs: 20, walBytes: 256 * 1024, onFallback: (r) => fallbacks.push(r) });
    try {
      const reason = await until('the fallback', () => fallbacks[0]);
      expect(reason).toMatch(/not a database/);
    } finally {
      checkpointer.stop();
    }
  });

  it('is what openDatabase does: the automatic checkpoint is off, and the data survives the worker checkpoints', async () => {
    const file = join(dir, 'c.db');
    const opened = openDatabase<{ t: { id: Generated<number>; body: string } }>(`sqlite://${file}`);
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(opened.db);
      expect(rows[0]?.wal_autocheckpoint).toBe(0);
      await opened.db.schema
        .createTable('t')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      for (let i = 0; i < 50; i++)
        await opened.db
          .insertInto('t')
          .values(Array.from({ length: 100 }, () => ({ body: 'y'.repeat(1_000) })))
          .execute();
      // 5 MB of WAL and a database file of a few pages: nobody else checkpoints, so the file grows
      // only when the checker (once a second) has the worker copy the WAL back.
      expect((await stat(file)).size).toBeLessThan(100_000);
      await until('the WAL copied back into the database file', async () => ((await stat(file)).size > 5_000_000 ? true : undefined));
      const reader = new SqliteDatabase(file, { readonly: true });
      expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 5_000 });
      reader.close();
    } finally {
      await opened.close();
    }
  });
});
