/** Everything the router's stages share: the store, the clock, the options and the notifier. */
import type { Logger } from '../src/log.js';
import type { Clock } from './clock.js';
import type { RouterMetrics } from './metrics.js';
import type { Notifier } from './notify/notifier.js';
import type { RouterOptions } from './options.js';
import type { Rotation } from './schedule/rotation.js';
import type { RouterDb } from './store/db-schema.js';
import type { Dialect } from './store/transact.js';
import type { Links } from './web/links.js';

export interface RouterContext {
  db: RouterDb;
  dialect: Dialect;
  clock: Clock;
  options: RouterOptions;
  log: Logger;
  rotation: Rotation;
  metrics: RouterMetrics;
  notifier: Notifier;
  links: Links;
  /** Random per database: keeps idempotency keys unique when several routers share a rule service. */
  installId: string;
  /** Tells the timer loop that something is due at `at` (it may sleep longer otherwise). */
  wake(at: number): void;
}
