/** createDatabaseIfMissing on the machine's MariaDB: creates once, then finds it; SQLite needs nothing. */
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabaseIfMissing } from './create-database.js';
import { openDatabase } from './database.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from './testing/throwaway-mysql.js';

let existing: ThrowawayDatabase | undefined;
let missingUrl = '';

afterAll(async () => {
  await existing?.drop();
  if (missingUrl) {
    const server = openDatabase<unknown>(missingUrl.replace(/\/[^/]+$/, '/mysql'));
    const name = missingUrl.split('/').pop() ?? '';
    await server.db.schema.dropSchema(name).ifExists().execute();
    await server.close();
  }
});

describe('createDatabaseIfMissing', () => {
  it('creates a database the server lacks, then leaves it be', async () => {
    existing = await createThrowawayMysqlDatabase();
    expect(await createDatabaseIfMissing(existing.url)).toBe(false);
    missingUrl = `${existing.url}_new`;
    expect(await createDatabaseIfMissing(missingUrl)).toBe(true);
    expect(await createDatabaseIfMissing(missingUrl)).toBe(false);
    const opened = openDatabase<unknown>(missingUrl);
    await expect(opened.db.introspection.getTables()).resolves.toEqual([]);
    await opened.close();
  });

  it('does nothing for SQLite', async () => {
    expect(await createDatabaseIfMissing('sqlite:///nonexistent-dir/x.db')).toBe(false);
  });
});
