/**
 * `gpuwatch stack`: the whole chain on one machine, from one gpuwatch.yaml. Generates the artifacts,
 * then starts a replay exporter per layout worker, the rule service (when `ruleService:` is set,
 * with the admission rules of stack.rules loaded), a mail catcher (when the router's SMTP server is on this machine), the router, and — when Debian's
 * `prometheus` and `prometheus-alertmanager` are installed — Prometheus and Alertmanager with the
 * generated configs. What is missing is said, with how to install it, and the rest runs. With
 * `activity`, what the router does (pages, acks, escalations, job actions) is followed line by line.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunningExporter } from '../exporter/command.js';
import { routerConfigSchema } from '../src/config/router.js';
import { resolveRouterConfig } from '../alertmanager/options.js';
import type { RunningRouter } from '../alertmanager/service.js';
import { loadConfig, type LoadedConfig } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/log.js';
import type { RunningRuleService } from '../rule-service/service.js';
import { generateArtifacts } from '../rules-gen/generate.js';
import { writeToDir } from '../rules-gen/output.js';
import type { ArtifactFiles } from '../rules-gen/types.js';
import type { External } from './external.js';
import type { SmtpSink } from './mail-catcher.js';
import { Launch, startExporters, startMailCatcher, startStackAlertmanager, startStackPrometheus, startStackRouter, startStackRuleService } from './parts.js';
import { planStack, type StackPlan } from './plan.js';

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

export interface StackOptions {
  /** Where the human lines for pages, acknowledgements, escalations and job actions go (none: not followed). */
  activity?: (line: string) => void;
}

export async function startStack(configFile: string, log: Logger = createLogger('stack'), options: StackOptions = {}): Promise<RunningStack> {
  const loaded = await loadConfig(configFile);
  const plan = await prepareStack(loaded, log);
  const launch = new Launch(log);
  try {
    return await startParts(launch, loaded, plan, options);
  } catch (err) {
    await launch.stopAll();
    throw err;
  }
}

/**
 * Plans the stack and writes what its parts read: the generated artifacts (with `override`'s files
 * in place of the generated ones of the same path), the mail folder and the scenarios the stack
 * writes itself.
 */
export async function prepareStack(loaded: LoadedConfig, log: Logger, override: (plan: StackPlan) => ArtifactFiles = () => new Map()): Promise<StackPlan> {
  const scenarioNames = await readdir(join(dirname(loaded.file), loaded.config.stack.scenarios)).catch(() => [] as string[]);
  const plan = planStack(loaded, new Set(scenarioNames));
  const files = new Map([...generateArtifacts(loaded), ...override(plan)]);
  await mkdir(plan.mailDir, { recursive: true });
  await writeToDir(files, plan.generatedDir);
  for (const e of plan.exporters) {
    if (e.scenarioText === undefined) continue;
    await mkdir(dirname(e.scenario), { recursive: true });
    await writeFile(e.scenario, e.scenarioText);
  }
  log.info({ dir: plan.generatedDir, files: files.size }, 'generated the rules, Alertmanager config and dashboards');
  return plan;
}

/** Each part in the order they depend on each other: Alertmanager before the router, the router before Prometheus. */
async function startParts(launch: Launch, loaded: LoadedConfig, plan: StackPlan, { activity }: StackOptions): Promise<RunningStack> {
  const exporters = await startExporters(launch, loaded, plan);
  const ruleService = await startStackRuleService(launch, loaded, plan);
  const routerOptions = await resolveRouterConfig(loaded.config.router ?? routerConfigSchema.parse({}), loaded.config.clusters, loaded.file);
  const mail = await startMailCatcher(launch, routerOptions, plan);
  const alertmanager = await startStackAlertmanager(launch, plan);
  const router = await startStackRouter(launch, routerOptions, activity);
  const prometheus = await startStackPrometheus(launch, loaded, plan, alertmanager !== undefined);
  launch.endpoints.push(['generated rules and dashboards', plan.generatedDir]);
  return {
    plan,
    exporters,
    ...(ruleService ? { ruleService } : {}),
    router,
    ...(mail ? { mail } : {}),
    ...(prometheus ? { prometheus } : {}),
    ...(alertmanager ? { alertmanager } : {}),
    endpoints: launch.endpoints,
    missing: launch.missing,
    stop: () => launch.stopAll(),
  };
}
