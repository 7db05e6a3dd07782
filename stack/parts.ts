/**
 * Starting each part of the stack. A part that is up is recorded in the Launch: stopped with the
 * rest (last started, first stopped) and listed in the banner; a part that cannot run says why in
 * `missing`, with how to get it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { startExporter, type RunningExporter } from '../exporter/command.js';
import type { RouterOptions } from '../alertmanager/options.js';
import { startRouter, type RunningRouter } from '../alertmanager/service.js';
import type { LoadedConfig } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/log.js';
import { resolveRuleServiceConfig } from '../rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../rule-service/service.js';
import { findOnPath, startExternal, type External } from './external.js';
import { SmtpSink } from './mail-catcher.js';
import { alertmanagerLink, exporterFlags, prometheusArgs, prometheusConfig, prometheusLink, ruleServiceWithStackPrometheus, type StackPlan } from './plan.js';
import { followRouterActivity } from './router-activity.js';
import { loadStackRules, rulesNote } from './rules.js';

const PROMETHEUS_BINARIES = ['prometheus'] as const;
const ALERTMANAGER_BINARIES = ['prometheus-alertmanager', 'alertmanager'] as const;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The parts started so far: how to stop them, the banner lines, and what does not run. */
export class Launch {
  readonly stops: (() => Promise<void>)[] = [];
  readonly endpoints: [string, string][] = [];
  readonly missing: string[] = [];

  constructor(readonly log: Logger) {}

  /** A part is up: it is stopped with the rest and listed in the banner. */
  started<T>(part: T, name: string, where: string, stop: () => Promise<void>): T {
    this.stops.push(stop);
    this.endpoints.push([name, where]);
    return part;
  }

  /** Prometheus or Alertmanager, when one of `binaries` is on PATH; otherwise why not, in `missing`. */
  async startInstalled(
    name: string,
    binaries: readonly string[],
    args: string[],
    where: { listen: string; link: (url: string) => string },
    absent: string,
  ): Promise<External | undefined> {
    const binary = await findOnPath(binaries);
    if (!binary) {
      this.missing.push(`${name}: ${absent}`);
      return undefined;
    }
    const external = await startExternal(name, binary, args, where.listen, this.log);
    return this.started(external, name, where.link(external.url), () => external.stop());
  }

  /** Stops every part, the last started first; a part that fails to stop is logged, the rest still stop. */
  async stopAll(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch((err: Error) => this.log.warn({ err: err.message }, 'stopping a part failed'));
  }
}

/** One replay exporter per planned worker. */
export async function startExporters(launch: Launch, loaded: LoadedConfig, plan: StackPlan): Promise<RunningExporter[]> {
  const exporters: RunningExporter[] = [];
  for (const e of plan.exporters) {
    const running = await startExporter(exporterFlags(e), createLogger('exporter', launch.log.level).child({ node: e.node }), loaded);
    exporters.push(launch.started(running, `exporter ${e.cluster}/${e.node}`, `${running.http?.url ?? e.listen}/metrics`, () => running.stop()));
  }
  return exporters;
}

/** The rule service with the stack's admission rules loaded, when the config has a `ruleService:` section; `storeUrl`: the Prometheus API it confirms actions against. */
export async function startStackRuleService(
  launch: Launch,
  loaded: LoadedConfig,
  plan: StackPlan,
  storeUrl = `http://${plan.prometheus.listen}`,
): Promise<RunningRuleService | undefined> {
  if (!loaded.config.ruleService) {
    launch.missing.push('rule service: no ruleService: section in the config (job actions stay in dry run)');
    return undefined;
  }
  const ruleServiceConfig = ruleServiceWithStackPrometheus(loaded.config.ruleService, storeUrl);
  const running = await startRuleService(
    await resolveRuleServiceConfig(ruleServiceConfig, loaded.file, loaded.config.policies),
    createLogger('rule-service', launch.log.level),
  );
  const rules = await loadStackRules(running.store, plan.rules, loaded.file).catch(async (err: Error) => {
    await running.close();
    throw err;
  });
  return launch.started(running, 'rule service', `${running.url} — ${rulesNote(rules)}`, () => running.close());
}

/** A mail catcher, when the router's SMTP server is on this machine. */
export async function startMailCatcher(launch: Launch, routerOptions: RouterOptions, plan: StackPlan): Promise<SmtpSink | undefined> {
  const smtp = routerOptions.smtp;
  if (smtp && LOOPBACK.has(smtp.host)) {
    const sink = await SmtpSink.start(smtp.port, { host: smtp.host, saveDir: plan.mailDir });
    return launch.started(sink, 'mail catcher (SMTP)', `${smtp.host}:${sink.port}, each mail saved in ${plan.mailDir}`, () => sink.stop());
  }
  if (!smtp) launch.missing.push('e-mail: no router.smtp in the config, so nobody is paged by mail');
  return undefined;
}

/** Debian's Alertmanager with the generated config, when installed. */
export async function startStackAlertmanager(launch: Launch, plan: StackPlan): Promise<External | undefined> {
  const am = plan.alertmanager;
  await mkdir(am.dataDir, { recursive: true });
  return launch.startInstalled(
    'alertmanager',
    ALERTMANAGER_BINARIES,
    [`--config.file=${am.config}`, `--storage.path=${am.dataDir}`, `--web.listen-address=${am.listen}`, '--cluster.listen-address='],
    { listen: am.listen, link: alertmanagerLink },
    'not installed (Debian: apt-get install prometheus-alertmanager); alerts reach no one',
  );
}

/** The router, and with `activity` what it does followed line by line. */
export async function startStackRouter(launch: Launch, routerOptions: RouterOptions, activity?: (line: string) => void): Promise<RunningRouter> {
  const router = await startRouter(routerOptions, createLogger('router', launch.log.level));
  launch.started(router, 'router (on-call board)', router.url, () => router.close());
  if (activity) {
    const people = { team: routerOptions.team, ...routerOptions.escalation };
    const follower = await followRouterActivity(router.db, people, activity, { log: launch.log });
    launch.stops.push(() => follower.stop());
  }
  return router;
}

/** Debian's Prometheus with the generated scrape config and rules, on a fresh TSDB, when installed. */
export async function startStackPrometheus(launch: Launch, loaded: LoadedConfig, plan: StackPlan, withAlertmanager: boolean): Promise<External | undefined> {
  const prom = plan.prometheus;
  await writeFile(prom.config, prometheusConfig(loaded, plan, withAlertmanager));
  // A fresh TSDB each start: series of an earlier run would otherwise fire stale alerts.
  await rm(prom.dataDir, { recursive: true, force: true });
  return launch.startInstalled(
    'prometheus',
    PROMETHEUS_BINARIES,
    prometheusArgs(prom),
    { listen: prom.listen, link: prometheusLink },
    'not installed (Debian: apt-get install prometheus); no rules are evaluated, so nothing alerts',
  );
}
