/** Starting and stopping the rule service: database, migrations, store, rest-server client, HTTP. */
import type { Kysely } from 'kysely';
import { listen } from '../http/listen.js';
import type { Logger } from '../log.js';
import { openDatabase } from '../storage/database.js';
import { redactUrl } from '../storage/database-url.js';
import { migrateToLatest } from '../storage/migrate.js';
import { withTimeout } from '../storage/timeout.js';
import { Actions } from './actions.js';
import { Admission } from './admission.js';
import { ruleServiceApp } from './app.js';
import type { RuleServiceOptions } from './config.js';
import type { RuleServiceDatabase } from './db-schema.js';
import { RuleServiceMetrics } from './metrics.js';
import { RULE_SERVICE_MIGRATIONS } from './migrations.js';
import { OpenPaiClient } from './openpai-client.js';
import { RuleStore } from './rule-store.js';

export interface RunningRuleService {
  url: string;
  store: RuleStore;
  metrics: RuleServiceMetrics;
  db: Kysely<RuleServiceDatabase>;
  close(): Promise<void>;
}

export async function startRuleService(options: RuleServiceOptions, log: Logger): Promise<RunningRuleService> {
  const metrics = new RuleServiceMetrics();
  let lastInvalid = '[]';
  const opened = openDatabase<RuleServiceDatabase>(options.db, { connectTimeoutMs: Math.max(options.storeTimeoutMs * 4, 1_000) });
  const store = new RuleStore(opened.db, {
    timeoutMs: options.storeTimeoutMs,
    retryMs: options.storeRetryMs,
    reloadMs: options.rulesReloadMs,
    onHealth: (up, err) => {
      metrics.storeUp.set(up ? 1 : 0);
      if (up) log.info('rule store readable again');
      else log.warn({ err: err?.message, db: redactUrl(options.db) }, 'rule store unreadable: deciding as if there were no rules');
    },
    onError: () => metrics.storeErrors.inc(),
    onInvalidRules: (invalid) => {
      metrics.invalidRules.set(invalid.length);
      const seen = JSON.stringify(invalid);
      if (seen === lastInvalid) return;
      lastInvalid = seen;
      for (const rule of invalid) log.warn({ rule: rule.id, problems: rule.problems }, 'stored rule fails the rule checks; left out of every decision');
    },
  });

  // A store that is down at start must not keep admission down: migrate in the background until it works.
  let migrated = false;
  let migrationTimer: NodeJS.Timeout | undefined;
  const migrate = async (): Promise<void> => {
    try {
      const ran = await migrateToLatest(opened.db as Kysely<unknown>, RULE_SERVICE_MIGRATIONS);
      migrated = true;
      if (ran.length > 0) log.info({ migrations: ran }, 'rule store schema migrated');
      await store.probe();
    } catch (err) {
      metrics.storeErrors.inc();
      metrics.storeUp.set(0);
      log.warn({ err: (err as Error).message, db: redactUrl(options.db) }, 'rule store not ready; retrying');
      await store.probe();
      migrationTimer = setTimeout(() => void migrate(), options.storeRetryMs ?? 5_000);
      migrationTimer.unref();
    }
  };
  await migrate();
  const health = setInterval(() => {
    if (migrated && store.healthy) void store.probe();
  }, options.healthIntervalMs ?? 15_000);
  health.unref();

  const holdingsUrl = options.openpai?.url ?? options.proxyTo;
  const holdingsClient = holdingsUrl ? new OpenPaiClient({ url: holdingsUrl, token: options.openpai?.token, timeoutMs: options.openpai?.timeoutMs }) : undefined;
  const adminClient = options.openpai?.token ? new OpenPaiClient({ url: options.openpai.url, token: options.openpai.token, timeoutMs: options.openpai.timeoutMs }) : undefined;
  const admission = new Admission({ store, metrics, log, openpai: holdingsClient, holdingsPolicy: options.holdingsWhenUnreachable });
  const actions = new Actions({ db: opened.db, metrics, log, openpai: adminClient, adminToken: options.openpai?.token, exemptJobs: options.exemptJobs, exemptUsers: options.exemptUsers });
  const app = ruleServiceApp({ admission, actions, store, metrics, log, apiToken: options.apiToken, proxyTo: options.proxyTo });
  const stopBackground = () => {
    clearInterval(health);
    clearTimeout(migrationTimer);
    store.stop();
  };
  let server;
  try {
    server = await listen(app, options.listen);
  } catch (err) {
    stopBackground();
    await opened.close();
    throw err;
  }
  log.info({ url: server.url, db: redactUrl(options.db), proxyTo: options.proxyTo ?? null, openpai: holdingsUrl ?? null }, 'rule service listening');
  if (!options.apiToken) log.warn('no apiToken configured: rule changes, actions and the audit trail are refused');
  if (!adminClient) log.warn('no OpenPAI admin token configured: kill and downgrade actions will fail');

  return {
    url: server.url,
    store,
    metrics,
    db: opened.db,
    close: async () => {
      stopBackground();
      await server.close();
      // A hung database must not hang shutdown.
      await withTimeout(opened.close(), 2_000, 'closing the rule store').catch((err: Error) => log.warn({ err: err.message }, 'rule store did not close cleanly'));
    },
  };
}
