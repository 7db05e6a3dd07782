/**
 * Starting and stopping the router: database and migrations, the shared secrets kept in the
 * database (so every replica signs ack links alike), HTTP, and the background loops (timers,
 * outbox, reconciler).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ConfigError } from '../src/config/yaml-file.js';
import { listen } from '../src/http/listen.js';
import type { Logger } from '../src/log.js';
import { openDatabase } from '../src/storage/database.js';
import { redactUrl } from '../src/storage/database-url.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { withTimeout } from '../src/storage/timeout.js';
import { BUDGET_LOCK } from './actions/job-actions.js';
import { systemClock, type Clock } from './clock.js';
import type { RouterOptions } from './options.js';
import { Router } from './router.js';
import type { RouterDatabase, RouterDb } from './store/db-schema.js';
import { ROUTER_MIGRATIONS } from './store/migrations.js';
import { isConflict } from './store/transact.js';
import { Poller } from './timers/poller.js';
import { routerApp } from './web/app.js';

export interface StartRouterOptions {
  clock?: Clock;
  /** Run the timer, outbox and reconciler loops (tests with a manual clock turn them off and call in). */
  background?: boolean;
  /** Database pool size (MySQL). */
  connections?: number;
}

export interface RunningRouter {
  url: string;
  router: Router;
  db: RouterDb;
  close(): Promise<void>;
}

export async function startRouter(options: RouterOptions, log: Logger, start: StartRouterOptions = {}): Promise<RunningRouter> {
  refuseUnguardedActions(options);
  const clock = start.clock ?? systemClock;
  const opened = await openMigratedDatabase(options, log, start.connections);
  const installId = await setting(opened.db, 'install-id', () => randomBytes(6).toString('hex'));
  const ackSecret = options.ackSecret ?? (await setting(opened.db, 'ack-secret', () => randomBytes(32).toString('base64url')));
  await setting(opened.db, BUDGET_LOCK, () => '');

  const router = new Router({ db: opened.db, dialect: opened.dialect, clock, options, log, installId, ackSecret, baseUrl: `http://${options.listen}` });
  await router.start();
  const server = await listen(routerApp(router, log), options.listen);
  router.setBaseUrl(server.url);

  const loops = start.background === false ? [] : backgroundLoops(router, options, clock, log);
  for (const loop of loops) loop.start();
  warnAboutGaps(options, log);
  log.info({ url: server.url, db: redactUrl(options.db), dryRun: options.actions.dryRun }, 'alert router listening');

  return {
    url: server.url,
    router,
    db: opened.db,
    close: async () => {
      await Promise.all(loops.map((l) => l.stop()));
      await server.close();
      router.close();
      await withTimeout(opened.close(), 2_000, 'closing the router database').catch((err: Error) =>
        log.warn({ err: err.message }, 'router database did not close cleanly'),
      );
    },
  };
}

/** The router's database, migrated to the latest schema (closed again when migrating fails). */
async function openMigratedDatabase(options: RouterOptions, log: Logger, connections: number | undefined) {
  const opened = openDatabase<RouterDatabase>(options.db, { connectTimeoutMs: 5_000, connections });
  try {
    const ran = await migrateToLatest(opened.db as Kysely<unknown>, ROUTER_MIGRATIONS);
    if (ran.length > 0) log.info({ migrations: ran }, 'router schema migrated');
  } catch (err) {
    await opened.close();
    throw err;
  }
  return opened;
}

/** The timer and outbox loops (woken early when the router has work), and the reconciler when Alertmanager's URL is set. Not started yet. */
function backgroundLoops(router: Router, options: RouterOptions, clock: Clock, log: Logger): Poller[] {
  const timers = new Poller(
    'timers',
    async () => {
      const fired = await router.runDueTimers();
      return nextRun(fired, await router.timers.nextDueAt(), clock.now());
    },
    options.pollIntervalMs,
    log,
  );
  const outbox = new Poller(
    'outbox',
    async () => {
      const finished = await router.deliverOutbox();
      return nextRun(finished, await router.outbox.nextAttemptAt(), clock.now());
    },
    options.pollIntervalMs,
    log,
  );
  router.onWork = { timerAt: (at) => timers.kick(at - clock.now()), outbox: () => outbox.kick(0) };
  if (!options.reconcile.alertmanagerUrl) return [timers, outbox];
  const reconciler = new Poller(
    'reconciler',
    async () => {
      const result = await router.reconcileOnce();
      if (result && result.alertsClosed > 0) log.info(result, 'closed alerts Alertmanager no longer holds');
      return undefined;
    },
    options.reconcile.intervalMs,
    log,
  );
  return [timers, outbox, reconciler];
}

/** What the router runs without, said at start. */
function warnAboutGaps(options: RouterOptions, log: Logger): void {
  if (options.team.length === 0) log.warn('router.team is empty: pages go to the second line only');
  if (!options.smtp) log.warn('router.smtp is not configured: no e-mail is sent');
  if (!options.apiToken && options.web.users.length === 0)
    log.warn('neither router.apiToken nor router.web.users is configured: acknowledging through the API and the board is refused');
}

/** The config check refuses this too; options built another way must not get round it. */
function refuseUnguardedActions(options: RouterOptions): void {
  if (options.actions.dryRun) return;
  const problems = [
    ...(options.webhookToken
      ? []
      : [{ field: 'router.webhookToken', message: 'required when actions.dryRun is false (anyone who reaches the router could have jobs killed)' }]),
    ...(options.actions.openpai
      ? []
      : [{ field: 'router.actions.openpai', message: 'required when actions.dryRun is false (job owners are read from OpenPAI)' }]),
  ];
  if (problems.length === 0) return;
  const source = '(router options)';
  throw new ConfigError(
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    source,
    problems.map((p) => ({ file: source, ...p })),
  );
}

/** Rows another replica holds stay due until it is done with them: wait a little rather than spin. */
const BUSY_BACKOFF_MS = 250;

function nextRun(progress: number, nextDue: number | undefined, now: number): number | undefined {
  if (nextDue === undefined) return undefined;
  const wait = nextDue - now;
  return wait <= 0 && progress === 0 ? BUSY_BACKOFF_MS : wait;
}

/** A value kept in router_settings, created once by whichever replica gets there first. */
async function setting(db: RouterDb, name: string, create: () => string): Promise<string> {
  const read = () => db.selectFrom('router_settings').select('value').where('name', '=', name).executeTakeFirst();
  const existing = await read();
  if (existing) return existing.value;
  try {
    await db.insertInto('router_settings').values({ name, value: create() }).execute();
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  return ((await read()) as { value: string }).value;
}
