/**
 * `gpuwatch stack`: the whole chain on one machine, from one gpuwatch.yaml. Generates the artifacts,
 * then starts a replay exporter per layout worker, the rule service (when `ruleService:` is set,
 * with the admission rules of stack.rules loaded), a mail catcher (when the router's SMTP server is on this machine), the router, and — when Debian's
 * `prometheus` and `prometheus-alertmanager` are installed — Prometheus and Alertmanager with the
 * generated configs. What is missing is said, with how to install it, and the rest runs. With
 * `activity`, what the router does (pages, acks, escalations, job actions) is followed line by line.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startExporter, type RunningExporter } from '../exporter/command.js';
import { routerConfigSchema } from '../src/config/router.js';
import { resolveRouterConfig } from '../alertmanager/options.js';
import { startRouter, type RunningRouter } from '../alertmanager/service.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/log.js';
import { resolveRuleServiceConfig } from '../rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../rule-service/service.js';
import { generateArtifacts } from '../rules-gen/generate.js';
import { writeToDir } from '../rules-gen/output.js';
import { findOnPath, startExternal, type External } from './external.js';
import { SmtpSink } from './mail-catcher.js';
import { alertmanagerLink, exporterFlags, planStack, prometheusArgs, prometheusConfig, prometheusLink, ruleServiceWithStackPrometheus, type StackPlan } from './plan.js';
import { followRouterActivity } from './router-activity.js';
import { loadStackRules, rulesNote } from './rules.js';

export interface RunningStack {
  plan: StackPlan;
  exporters: RunningExporter[];
  ruleService?: RunningRuleService;
  router: RunningRouter;
  mail?: SmtpSink;
  prometheus?: External;
  alertmanager?: External;
  /** Name → URL (or folder) of everything that runs, for the banner. */
  endpoints: [string, string][];
  /** Why a part does not run, with how to get it. */
  missing: string[];
  stop(): Promise<void>;
}

const PROMETHEUS_BINARIES = ['prometheus'] as const;
const ALERTMANAGER_BINARIES = ['prometheus-alertmanager', 'alertmanager'] as const;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface StackOptions {
  /** Where the human lines for pages, acknowledgements, escalations and job actions go (none: not followed). */
  activity?: (line: string) => void;
}

export async function startStack(configFile: string, log: Logger = createLogger('stack'), options: StackOptions = {}): Promise<RunningStack> {
  const loaded = await loadConfig(configFile);
  const scenarioNames = await readdir(join(dirname(loaded.file), loaded.config.stack.scenarios)).catch(() => [] as string[]);
  const plan = planStack(loaded, new Set(scenarioNames));
  const files = generateArtifacts(loaded);
  await mkdir(plan.mailDir, { recursive: true });
  await writeToDir(files, plan.generatedDir);
  for (const e of plan.exporters) {
    if (e.scenarioText === undefined) continue;
    await mkdir(dirname(e.scenario), { recursive: true });
    await writeFile(e.scenario, e.scenarioText);
  }
  log.info({ dir: plan.generatedDir, files: files.size }, 'generated the rules, Alertmanager config and dashboards');

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log.warn({ err: err.message }, 'stopping a part failed'));
  };
  try {
    return await startParts(loaded, plan, { log, stops, stopAll, ...options });
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface PartsContext extends StackOptions {
  log: Logger;
  stops: (() => Promise<void>)[];
  stopAll: () => Promise<void>;
}

async function startParts(loaded: LoadedConfig, plan: StackPlan, { log, stops, stopAll, activity }: PartsContext): Promise<RunningStack> {
  const endpoints: [string, string][] = [];
  const missing: string[] = [];
  /** A part is up: it is stopped with the rest and listed in the banner. */
  const started = <T>(part: T, name: string, where: string, stop: () => Promise<void>): T => {
    stops.push(stop);
    endpoints.push([name, where]);
    return part;
  };
  /** Prometheus or Alertmanager, when one of `binaries` is on PATH; otherwise why not, in `missing`. */
  const startInstalled = async (
    name: string,
    binaries: readonly string[],
    args: string[],
    where: { listen: string; link: (url: string) => string },
    absent: string,
  ): Promise<External | undefined> => {
    const binary = await findOnPath(binaries);
    if (!binary) {
      missing.push(`${name}: ${absent}`);
      return undefined;
    }
    const external = await startExternal(name, binary, args, where.listen, log);
    return started(external, name, where.link(external.url), () => external.stop());
  };

  const exporters: RunningExporter[] = [];
  for (const e of plan.exporters) {
    const running = await startExporter(exporterFlags(e), createLogger('exporter', log.level).child({ node: e.node }), loaded);
    exporters.push(started(running, `exporter ${e.cluster}/${e.node}`, `${running.http?.url ?? e.listen}/metrics`, () => running.stop()));
  }

  let ruleService: RunningRuleService | undefined;
  if (loaded.config.ruleService) {
    const ruleServiceConfig = ruleServiceWithStackPrometheus(loaded.config.ruleService, plan);
    const running = await startRuleService(await resolveRuleServiceConfig(ruleServiceConfig, loaded.file, loaded.config.policies), createLogger('rule-service', log.level));
    const rules = await loadStackRules(running.store, plan.rules, loaded.file).catch(async (err: Error) => {
      await running.close();
      throw err;
    });
    ruleService = started(running, 'rule service', `${running.url} — ${rulesNote(rules)}`, () => running.close());
  } else {
    missing.push('rule service: no ruleService: section in the config (job actions stay in dry run)');
  }

  const routerOptions = await resolveRouterConfig(loaded.config.router ?? routerConfigSchema.parse({}), loaded.config.clusters, loaded.file);
  const smtp = routerOptions.smtp;
  let mail: SmtpSink | undefined;
  if (smtp && LOOPBACK.has(smtp.host)) {
    const sink = await SmtpSink.start(smtp.port, { host: smtp.host, saveDir: plan.mailDir });
    mail = started(sink, 'mail catcher (SMTP)', `${smtp.host}:${sink.port}, each mail saved in ${plan.mailDir}`, () => sink.stop());
  } else if (!smtp) {
    missing.push('e-mail: no router.smtp in the config, so nobody is paged by mail');
  }

  await mkdir(plan.alertmanager.dataDir, { recursive: true });
  const am = plan.alertmanager;
  const alertmanager = await startInstalled(
    'alertmanager',
    ALERTMANAGER_BINARIES,
    [`--config.file=${am.config}`, `--storage.path=${am.dataDir}`, `--web.listen-address=${am.listen}`, '--cluster.listen-address='],
    { listen: am.listen, link: alertmanagerLink },
    'not installed (Debian: apt-get install prometheus-alertmanager); alerts reach no one',
  );

  const router = await startRouter(routerOptions, createLogger('router', log.level));
  started(router, 'router (on-call board)', router.url, () => router.close());
  if (activity) {
    const people = { team: routerOptions.team, ...routerOptions.escalation };
    const follower = await followRouterActivity(router.db, people, activity, { log });
    stops.push(() => follower.stop());
  }

  const prom = plan.prometheus;
  await writeFile(prom.config, prometheusConfig(loaded, plan, alertmanager !== undefined));
  // A fresh TSDB each start: series of an earlier run would otherwise fire stale alerts.
  await rm(prom.dataDir, { recursive: true, force: true });
  const prometheus = await startInstalled(
    'prometheus',
    PROMETHEUS_BINARIES,
    prometheusArgs(prom),
    { listen: prom.listen, link: prometheusLink },
    'not installed (Debian: apt-get install prometheus); no rules are evaluated, so nothing alerts',
  );
  endpoints.push(['generated rules and dashboards', plan.generatedDir]);

  return {
    plan,
    exporters,
    ...(ruleService ? { ruleService } : {}),
    router,
    ...(mail ? { mail } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(alertmanager ? { alertmanager } : {}),
    endpoints,
    missing,
    stop: stopAll,
  };
}
