/**
 * Applied migrations never change: the SQL each one runs on SQLite is kept in a golden file.
 * A new migration: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run alertmanager/store/migrations.test.ts,
 * and the diff must only add lines at the end.
 */
import { readFile, writeFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ROUTER_MIGRATIONS } from './migrations.js';

const GOLDEN = new URL('./golden/router-migrations.sqlite.sql', import.meta.url);

describe('router migrations', () => {
  it('run the same SQL, in the same order, as when they were applied', async () => {
    const statements: string[] = [];
    const sqlite = new Database(':memory:');
    const db = new Kysely<any>({
      dialect: new SqliteDialect({ database: sqlite }),
      log: (event) => {
        statements.push(`${event.query.sql};`);
      },
    });
    for (const [name, migration] of Object.entries(ROUTER_MIGRATIONS.migrations)) {
      statements.push(`-- ${name}`);
      await migration.up(db);
    }
    await db.destroy();
    const text = `${statements.join('\n')}\n`;
    if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
  });
});
