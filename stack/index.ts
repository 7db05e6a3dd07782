/**
 * `gpuwatch stack`: the whole chain on one machine, from one gpuwatch.yaml. Generates the artifacts,
 * then starts a replay exporter per layout worker, the rule service (when `ruleService:` is set), a
 * mail catcher (when the router's SMTP server is on this machine), the router, and — when Debian's
 * `prometheus` and `prometheus-alertmanager` are installed — Prometheus and Alertmanager with the
 * generated configs. What is missing is said, with how to install it, and the rest runs.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startExporter, type RunningExporter } from '../exporter/command.js';
import { routerConfigSchema } from '../alertmanager/config.js';
import { resolveRouterConfig } from '../alertmanager/options.js';
import { startRouter, type RunningRouter } from '../alertmanager/service.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/log.js';
import { resolveRuleServiceConfig } from '../src/rule-service/config.js';
import { startRuleService, type RunningRuleService } from '../src/rule-service/service.js';
import { generateArtifacts } from '../rules-gen/generate.js';
import { writeToDir } from '../rules-gen/output.js';
import { findOnPath, startExternal, type External } from './external.js';
import { SmtpSink } from './mail-catcher.js';
import { planStack, prometheusConfig, type StackPlan } from './plan.js';

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

export const PROMETHEUS_BINARIES = ['prometheus'] as const;
export const ALERTMANAGER_BINARIES = ['prometheus-alertmanager', 'alertmanager'] as const;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function startStack(configFile: string, log: Logger = createLogger('stack')): Promise<RunningStack> {
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
    return await startParts(loaded, plan, files, log, stops, stopAll);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startParts(
  loaded: LoadedConfig,
  plan: StackPlan,
  files: Map<string, string>,
  log: Logger,
  stops: (() => Promise<void>)[],
  stopAll: () => Promise<void>,
): Promise<RunningStack> {
  const endpoints: [string, string][] = [];
  const missing: string[] = [];

  const exporters: RunningExporter[] = [];
  for (const e of plan.exporters) {
    const running = await startExporter({ config: loaded.file, replay: e.scenario, backend: 'replay', listen: e.listen, node: e.node }, createLogger('exporter', log.level).child({ node: e.node }));
    exporters.push(running);
    stops.push(() => running.stop());
    endpoints.push([`exporter ${e.cluster}/${e.node}`, `${running.http?.url ?? e.listen}/metrics`]);
  }

  let ruleService: RunningRuleService | undefined;
  if (loaded.config.ruleService) {
    const options = await resolveRuleServiceConfig(loaded.config.ruleService, loaded.file);
    const running = await startRuleService(options, createLogger('rule-service', log.level));
    ruleService = running;
    stops.push(() => running.close());
    endpoints.push(['rule service', running.url]);
  } else {
    missing.push('rule service: no ruleService: section in the config (job actions stay in dry run)');
  }

  const routerOptions = await resolveRouterConfig(loaded.config.router ?? routerConfigSchema.parse({}), loaded.config.clusters, loaded.file);
  let mail: SmtpSink | undefined;
  if (routerOptions.smtp && LOOPBACK.has(routerOptions.smtp.host)) {
    const sink = await SmtpSink.start(routerOptions.smtp.port, { host: routerOptions.smtp.host, saveDir: plan.mailDir });
    mail = sink;
    stops.push(() => sink.stop());
    endpoints.push(['mail catcher (SMTP)', `${routerOptions.smtp.host}:${sink.port}, each mail saved in ${plan.mailDir}`]);
  } else if (!routerOptions.smtp) {
    missing.push('e-mail: no router.smtp in the config, so nobody is paged by mail');
  }
  let alertmanager: External | undefined;
  const alertmanagerBinary = await findOnPath(ALERTMANAGER_BINARIES);
  if (alertmanagerBinary) {
    await mkdir(plan.alertmanager.dataDir, { recursive: true });
    alertmanager = await startExternal(
      'alertmanager',
      alertmanagerBinary,
      [`--config.file=${plan.alertmanager.config}`, `--storage.path=${plan.alertmanager.dataDir}`, `--web.listen-address=${plan.alertmanager.listen}`, '--cluster.listen-address='],
      plan.alertmanager.listen,
      log,
    );
    const am = alertmanager;
    stops.push(() => am.stop());
    endpoints.push(['alertmanager', am.url]);
  } else {
    missing.push('alertmanager: not installed (Debian: apt-get install prometheus-alertmanager); alerts reach no one');
  }

  const router = await startRouter(routerOptions, createLogger('router', log.level));
  stops.push(() => router.close());
  endpoints.push(['router (on-call board)', router.url]);

  let prometheus: External | undefined;
  const prometheusBinary = await findOnPath(PROMETHEUS_BINARIES);
  if (prometheusBinary) {
    await writeFile(plan.prometheus.config, prometheusConfig(loaded, plan, files, alertmanager !== undefined));
    // A fresh TSDB each start: series of an earlier run would otherwise fire stale alerts.
    await rm(plan.prometheus.dataDir, { recursive: true, force: true });
    prometheus = await startExternal(
      'prometheus',
      prometheusBinary,
      [`--config.file=${plan.prometheus.config}`, `--storage.tsdb.path=${plan.prometheus.dataDir}`, `--web.listen-address=${plan.prometheus.listen}`],
      plan.prometheus.listen,
      log,
    );
    const p = prometheus;
    stops.push(() => p.stop());
    endpoints.push(['prometheus', p.url]);
  } else {
    missing.push('prometheus: not installed (Debian: apt-get install prometheus); no rules are evaluated, so nothing alerts');
  }
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
