/**
 * The rule store's connection, able to heal itself: while the store is down, every retry opens a
 * new connection and runs the migrations. A SQLite file restored from a backup is a new file that
 * an open connection never sees; a MySQL session whose database was dropped has no database any
 * more, even once it is created again (empty, hence the migrations).
 */
import { statSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { openDatabase, type OpenDatabaseOptions, type OpenedDatabase } from '../src/storage/database.js';
import { parseDatabaseUrl } from '../src/storage/database-url.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';

export class StoreConnection {
  private opened: OpenedDatabase<RuleServiceDatabase>;
  private readonly reopens: boolean;
  /** SQLite: the file to watch for being replaced (restored from a backup, removed). */
  private readonly file: string | undefined;
  /** Which file (device and inode) the open connection reads, once it has read it. */
  private identity: string | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly openOptions: OpenDatabaseOptions = {},
  ) {
    const target = parseDatabaseUrl(url);
    // An in-memory database lives in its connection: reopening it would lose everything.
    this.reopens = !(target.dialect === 'sqlite' && target.file === ':memory:');
    this.file = target.dialect === 'sqlite' && target.file !== ':memory:' ? target.file : undefined;
    this.opened = openDatabase<RuleServiceDatabase>(url, openOptions);
  }

  get db(): Kysely<RuleServiceDatabase> {
    return this.opened.db;
  }

  /** Brings the schema to the newest migration; the names that ran now. */
  async migrate(): Promise<string[]> {
    const ran = await migrateToLatest(this.db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS);
    this.identity = this.fileIdentity();
    return ran;
  }

  /**
   * SQLite: whether the file at the path is no longer the one the connection reads (replaced by
   * a backup, or removed). An open connection goes on reading the old file, unaware.
   */
  fileReplaced(): boolean {
    return this.identity !== undefined && this.fileIdentity() !== this.identity;
  }

  private fileIdentity(): string | undefined {
    if (!this.file) return undefined;
    try {
      const stat = statSync(this.file);
      return `${stat.dev}:${stat.ino}`;
    } catch {
      return 'missing';
    }
  }

  /** Opens a new connection (not for an in-memory database), then migrates. Throws while the database is still unusable. */
  async recover(): Promise<string[]> {
    if (this.closed) throw new Error('the rule store is closed');
    if (this.reopens) {
      this.identity = undefined;
      const old = this.opened;
      this.opened = openDatabase<RuleServiceDatabase>(this.url, this.openOptions);
      await old.close().catch(() => undefined);
    }
    return this.migrate();
  }

  close(): Promise<void> {
    this.closed = true;
    return this.opened.close();
  }
}
