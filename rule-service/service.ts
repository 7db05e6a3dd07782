/** Starting and stopping the rule service: database, migrations, store, rest-server client, HTTP. */
import type { Kysely } from 'kysely';
import { listen } from '../src/http/listen.js';
import type { Logger } from '../src/log.js';
import { redactUrl } from '../src/storage/database-url.js';
import { withTimeout } from '../src/storage/timeout.js';
import { Actions } from './actions.js';
import { IdleCheck } from './idle-check.js';
import { RuntimeCheck } from './runtime-check.js';
import { Admission } from './admission.js';
import { ruleServiceApp } from './app.js';
import type { RuleServiceOptions } from './config.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RuleServiceMetrics } from './metrics.js';
import { OpenPaiClient } from './openpai-client.js';
import { RuleStore } from './rule-store.js';
import { StoreConnection } from './store-connection.js';

export interface RunningRuleService {
  url: string;
  store: RuleStore;
  metrics: RuleServiceMetrics;
  db: Kysely<RuleServiceDatabase>;
  close(): Promise<void>;
}

export async function startRuleService(options: RuleServiceOptions, log: Logger): Promise<RunningRuleService> {
  const metrics = new RuleServiceMetrics();
  const { connection, store, health } = await openRuleStore(options, metrics, log);

  const holdingsUrl = options.openpai?.url ?? options.proxyTo;
  const holdingsClient = holdingsUrl
    ? new OpenPaiClient({ url: holdingsUrl, token: options.openpai?.token, timeoutMs: options.openpai?.timeoutMs })
    : undefined;
  const adminClient = options.openpai?.token
    ? new OpenPaiClient({ url: options.openpai.url, token: options.openpai.token, timeoutMs: options.openpai.timeoutMs })
    : undefined;
  const admission = new Admission({ store, metrics, log, openpai: holdingsClient, holdingsPolicy: options.holdingsWhenUnreachable });
  const idleCheck = options.idleCheck ? new IdleCheck(options.idleCheck) : undefined;
  const runtimeCheck = options.runtimeCheck ? new RuntimeCheck(options.runtimeCheck) : undefined;
  const actions = new Actions({
    idleCheck,
    runtimeCheck,
    db: () => connection.db,
    metrics,
    log,
    openpai: adminClient,
    adminToken: options.openpai?.token,
    exemptJobs: options.exemptJobs,
    exemptUsers: options.exemptUsers,
  });
  const app = ruleServiceApp({ admission, actions, store, metrics, log, apiToken: options.apiToken, proxyTo: options.proxyTo });
  const stopBackground = () => {
    clearInterval(health);
    store.stop();
  };
  let server;
  try {
    server = await listen(app, options.listen);
  } catch (err) {
    stopBackground();
    await connection.close();
    throw err;
  }
  log.info({ url: server.url, db: redactUrl(options.db), proxyTo: options.proxyTo ?? null, openpai: holdingsUrl ?? null }, 'rule service listening');
  warnWhatIsMissing(log, { apiToken: !!options.apiToken, adminClient: !!adminClient, idleCheck: !!idleCheck, runtimeCheck: !!runtimeCheck });

  return {
    url: server.url,
    store,
    metrics,
    get db() {
      return connection.db;
    },
    close: async () => {
      stopBackground();
      await server.close();
      // A hung database must not hang shutdown.
      await withTimeout(connection.close(), 2_000, 'closing the rule store').catch((err: Error) =>
        log.warn({ err: err.message }, 'rule store did not close cleanly'),
      );
    },
  };
}

/** What the service refuses to do for want of configuration, said once at start. */
function warnWhatIsMissing(log: Logger, has: { apiToken: boolean; adminClient: boolean; idleCheck: boolean; runtimeCheck: boolean }): void {
  if (!has.apiToken) log.warn('no apiToken configured: rule changes, actions and the audit trail are refused');
  if (!has.adminClient) log.warn('no OpenPAI admin token configured: kill and downgrade actions will fail');
  if (!has.idleCheck)
    log.warn('no ruleService.prometheus configured: low-utilization kill and downgrade actions are refused (a job must be confirmed idle first)');
  if (!has.runtimeCheck)
    log.warn('no ruleService.prometheus configured: running-too-long kill and downgrade actions are refused (a job must be confirmed old enough first)');
}

/**
 * The rule store and its connection. A store that is down at start must not keep admission down:
 * it is marked down, and each probe (every storeRetryMs) reopens and migrates until it works, at
 * start or whenever it breaks later. The health check also notices a SQLite file replaced under it.
 */
async function openRuleStore(
  options: RuleServiceOptions,
  metrics: RuleServiceMetrics,
  log: Logger,
): Promise<{ connection: StoreConnection; store: RuleStore; health: NodeJS.Timeout }> {
  let lastInvalid = '[]';
  const connection = new StoreConnection(options.db, { connectTimeoutMs: Math.max(options.storeTimeoutMs * 4, 1_000) });
  const reportMigrations = (ran: string[]) => {
    if (ran.length > 0) log.info({ migrations: ran }, 'rule store schema migrated');
  };
  const store = new RuleStore(() => connection.db, {
    timeoutMs: options.storeTimeoutMs,
    retryMs: options.storeRetryMs,
    reloadMs: options.rulesReloadMs,
    onHealth: (up, err) => {
      metrics.storeUp.set(up ? 1 : 0);
      if (up) log.info('rule store readable again');
      else log.warn({ err: err?.message, db: redactUrl(options.db) }, 'rule store unreadable: deciding as if there were no rules');
    },
    onError: () => metrics.storeErrors.inc(),
    recover: async () => reportMigrations(await connection.recover()),
    onInvalidRules: (invalid) => {
      metrics.invalidRules.set(invalid.length);
      const seen = JSON.stringify(invalid);
      if (seen === lastInvalid) return;
      lastInvalid = seen;
      for (const rule of invalid) log.warn({ rule: rule.id, problems: rule.problems }, 'stored rule fails the rule checks; left out of every decision');
    },
  });
  try {
    reportMigrations(await connection.migrate());
    await store.probe();
  } catch (err) {
    log.warn({ err: (err as Error).message, db: redactUrl(options.db) }, 'rule store not ready; retrying');
    store.markDown(err as Error);
  }
  const health = setInterval(() => {
    if (!store.healthy) return;
    if (connection.fileReplaced()) store.markDown(new Error(`${redactUrl(options.db)}: the file was replaced or removed since it was opened; reopening`));
    else void store.probe();
  }, options.healthIntervalMs ?? 15_000);
  health.unref();
  return { connection, store, health };
}
