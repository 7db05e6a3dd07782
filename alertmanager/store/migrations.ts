/**
 * The router's schema, as migrations run at start (SQLite and MySQL/MariaDB alike), one file per
 * migration in migrations/. Applied migrations are never changed: a schema change is a new one.
 */
import type { MigrationSet } from '../../src/storage/migrate.js';
import { initial } from './migrations/0001_router.js';
import { floodsAndWatchdog } from './migrations/0002_floods_watchdog.js';
import { actionCause } from './migrations/0003_action_cause.js';
import { actionRenewal } from './migrations/0004_action_renewal.js';

export const ROUTER_MIGRATIONS: MigrationSet = {
  tableName: 'router_migrations',
  migrations: { '0001_router': initial, '0002_floods_watchdog': floodsAndWatchdog, '0003_action_cause': actionCause, '0004_action_renewal': actionRenewal },
};
