/**
 * The world the router's job-action tests act in: a real SMTP sink, the fake OpenPAI rest-server,
 * a Prometheus backfilled with GPU history, and from those an in-process rule service and a router
 * started with actions.
 */
import { createLogger } from '../../src/log.js';
import type { RuleServiceOptions } from '../../src/rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../../src/rule-service/service.js';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { startFakeOpenPai, type FakeOpenPai, type FakeUser } from '../../test/fake-openpai/server.js';
import { baseRuleServiceOptions, gpuHistoryOpenMetrics, startPrometheusWithHistory, TEST_IDLE_CRITERION, type GpuHistory } from '../../test/rule-service-support.js';
import type { Clock } from '../clock.js';
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
}

/** Starts the SMTP sink, the fake OpenPAI with `users`, and a Prometheus holding `history`. */
export async function startActionsWorld(users: FakeUser[], history: readonly GpuHistory[]): Promise<ActionsWorld> {
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
      const config = { ...(how.db === undefined ? {} : { db: how.db }), webhookToken: WEBHOOK_TOKEN, actions };
      return startTestRouter(await testOptions(config, smtp.port), clock);
    },
    close: async () => {
      await prometheus.stop();
      await openpai.close();
      await smtp.stop();
    },
  };
}
