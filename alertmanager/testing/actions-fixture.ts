/**
 * The world the router's job-action tests act in: a real SMTP sink, the fake OpenPAI rest-server,
 * a Prometheus backfilled with GPU history, and from those an in-process rule service and a router
 * started with actions.
 */
import { createLogger } from '../../src/log.js';
import type { RuleServiceOptions } from '../../rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../../rule-service/service.js';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { startFakeOpenPai, type FakeOpenPai, type FakeUser } from '../../test/fake-openpai/server.js';
import {
  baseRuleServiceOptions,
  gpuHistoryOpenMetrics,
  startPrometheusWithHistory,
  TEST_IDLE_CRITERION,
  type GpuHistory,
} from '../../test/rule-service-support.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ManualClock, type Clock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { startTestRouter, testOptions } from './harness.js';

export const RULE_SERVICE_TOKEN = 'rule-service-token';
export const WEBHOOK_TOKEN = 'alertmanager-webhook-token';

export interface ActionsWorld {
  smtp: SmtpSink;
  openpai: FakeOpenPai;
  prometheus: { url: string; stop(): Promise<void> };
  /** A rule service that acts on this world's OpenPAI and checks idleness in its Prometheus. */
  startRuleService(overrides?: Partial<RuleServiceOptions>): Promise<RunningRuleService>;
  /** A router that sends its job actions to the rule service at `ruleService.url`. */
  startRouter(clock: Clock, how: RouterWithActions): Promise<RunningRouter>;
  close(): Promise<void>;
}

export interface RouterWithActions {
  ruleService: { url: string; timeout?: string };
  /** More `actions` keys (grace, dryRun, ...), over the rule service, OpenPAI and owner mail domain. */
  actions?: Record<string, unknown>;
  db?: string;
  /** More router config keys (web users, ...). */
  config?: Record<string, unknown>;
}

/** Starts the SMTP sink, the fake OpenPAI with `users`, and a Prometheus holding `history`. */
async function startActionsWorld(users: FakeUser[], history: readonly GpuHistory[]): Promise<ActionsWorld> {
  const prometheus = await startPrometheusWithHistory(gpuHistoryOpenMetrics(history));
  const smtp = await SmtpSink.start();
  const openpai = await startFakeOpenPai({ users });
  const adminToken = () => openpai.tokenFor('admin', { application: true });
  return {
    smtp,
    openpai,
    prometheus,
    startRuleService: (overrides = {}) =>
      startRuleService(
        baseRuleServiceOptions({
          apiToken: RULE_SERVICE_TOKEN,
          openpai: { url: openpai.url, token: adminToken(), timeoutMs: 2_000 },
          idleCheck: { url: prometheus.url, ...TEST_IDLE_CRITERION },
          ...overrides,
        }),
        createLogger('rule-service-test', 'silent'),
      ),
    startRouter: async (clock, how) => {
      const actions = {
        ruleService: { ...how.ruleService, token: RULE_SERVICE_TOKEN },
        openpai: { url: openpai.url, token: adminToken() },
        ownerEmailDomain: 'users.example',
        ...how.actions,
      };
      const config = { ...(how.db === undefined ? {} : { db: how.db }), webhookToken: WEBHOOK_TOKEN, actions, ...how.config };
      return startTestRouter(await testOptions(config, smtp.port), clock);
    },
    close: async () => {
      await prometheus.stop();
      await openpai.close();
      await smtp.stop();
    },
  };
}

export interface ActionsTestbed extends Omit<ActionsWorld, 'close'> {
  /** This test's clock, starting at the time given to `useActionsWorld`. */
  readonly clock: ManualClock;
}

/**
 * Registers the hooks of a job-action test file: the world started once before its tests and
 * closed after them, its mails emptied and a fresh clock at `startsAtMs` before each test.
 * Rule services and routers stay the test file's to close.
 */
export function useActionsWorld(users: FakeUser[], history: readonly GpuHistory[], startsAtMs: number): ActionsTestbed {
  let world: ActionsWorld | undefined;
  let clock: ManualClock | undefined;
  const ready = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`the job-action world's ${what} is used outside a test`);
    return value;
  };
  beforeAll(async () => {
    world = await startActionsWorld(users, history);
  }, 60_000);
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    ready('mail sink', world?.smtp).mails.length = 0;
    clock = new ManualClock(startsAtMs);
  });
  return {
    get smtp() {
      return ready('mail sink', world?.smtp);
    },
    get openpai() {
      return ready('OpenPAI', world?.openpai);
    },
    get prometheus() {
      return ready('Prometheus', world?.prometheus);
    },
    get clock() {
      return ready('clock', clock);
    },
    startRuleService: (overrides) => ready('rule service', world).startRuleService(overrides),
    startRouter: (routerClock, how) => ready('router', world).startRouter(routerClock, how),
  };
}
