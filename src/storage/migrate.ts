/**
 * Schema migrations defined in code (no migration files to ship), run at start with kysely's
 * Migrator. Each component passes its own migration table name so several can share one database.
 */
import { inspect } from 'node:util';
import { Migrator, type Kysely, type Migration } from 'kysely';

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export interface MigrationSet {
  /** e.g. `rule_service_migrations`; the lock table is this name plus `_lock`. */
  tableName: string;
  /** Name → migration; names sort in the order they must run (e.g. `0001_rules`). */
  migrations: Record<string, Migration>;
}

/** Brings the schema to the newest migration; returns the names that ran now. */
export async function migrateToLatest(db: Kysely<unknown>, set: MigrationSet): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => set.migrations },
    migrationTableName: set.tableName,
    migrationLockTableName: `${set.tableName}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const why = error instanceof Error ? error.message : inspect(error);
    throw new MigrationError(failed ? `migration ${failed} failed: ${why}` : `migrations failed: ${why}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
