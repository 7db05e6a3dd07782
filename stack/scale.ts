/**
 * `gpuwatch stack --scale`: the scaled topology of gpuwatch.yaml's `scale:` section on this machine.
 * Like `gpuwatch stack` it generates the artifacts and starts a replay exporter per layout worker,
 * the rule service and a mail catcher; then every process of topology.json with its generated
 * command line (the shards' scrape configs pointed at the local replays): the central store, the
 * Alertmanagers in one gossip cluster, the routers (this gpuwatch, one process each, sharing the
 * router's MySQL database, created when missing), rule evaluation and the shards. Each of those is
 * supervised: one that dies is started again (stack/supervised.ts). Every binary must be installed;
 * the error names the Debian packages that are not.
 */
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunningExporter } from '../exporter/command.js';
import { resolveRouterConfig } from '../alertmanager/options.js';
import type { RouterDatabase } from '../alertmanager/store/db-schema.js';
import { routerConfigSchema } from '../src/config/router.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/log.js';
import { createDatabaseIfMissing } from '../src/storage/create-database.js';
import { openDatabase } from '../src/storage/database.js';
import type { RunningRuleService } from '../rule-service/service.js';
import { createContext } from '../rules-gen/context.js';
import { scaleTopology, type Topology } from '../rules-gen/scale/topology.js';
import { findOnPath } from './external.js';
import { prepareStack, type StackOptions } from './index.js';
import type { SmtpSink } from './mail-catcher.js';
import { Launch, startExporters, startMailCatcher, startStackRuleService } from './parts.js';
import { alertmanagerLink, prometheusLink } from './plan.js';
import type { StackPlan } from './plan.js';
import { followRouterActivity } from './router-activity.js';
import { checkSharedRouterDb, localScrapeFiles, scaledDataDir, scaledProcesses, scaleSection, type ScaledProcess } from './scale-plan.js';
import { startSupervised, type Supervised } from './supervised.js';

export interface RunningScaledStack {
  plan: StackPlan;
  topology: Topology;
  exporters: RunningExporter[];
  ruleService?: RunningRuleService;
  mail?: SmtpSink;
  /** Every topology process by name (victoria-metrics, vmalert, router-0, alertmanager-1, …). */
  processes: Map<string, Supervised>;
  endpoints: [string, string][];
  missing: string[];
  stop(): Promise<void>;
}

export async function startScaledStack(configFile: string, log: Logger = createLogger('stack'), options: StackOptions = {}): Promise<RunningScaledStack> {
  const loaded = await loadConfig(configFile);
  const scale = scaleSection(loaded);
  const routerOptions = await resolveRouterConfig(loaded.config.router ?? routerConfigSchema.parse({}), loaded.config.clusters, loaded.file);
  checkSharedRouterDb(loaded, routerOptions.db, scale);
  const plan = await prepareStack(loaded, log, (p) => localScrapeFiles(loaded, p, scale));
  const topology = scaleTopology(createContext(loaded), scale);
  const processes = scaledProcesses(topology, resolve(loaded.file), gpuwatchArgv());
  const binaries = await installedBinaries(processes);
  if (await createDatabaseIfMissing(routerOptions.db)) log.info('created the routers’ database');
  // Fresh stores each start, as gpuwatch stack does: series of an earlier run would fire stale alerts.
  await rm(scaledDataDir(plan), { recursive: true, force: true });

  const launch = new Launch(log);
  try {
    const exporters = await startExporters(launch, loaded, plan);
    const ruleService = await startStackRuleService(launch, loaded, plan, topology.storeUrl);
    const mail = await startMailCatcher(launch, routerOptions, plan);
    const running = new Map<string, Supervised>();
    for (const p of processes) {
      const spec = {
        name: p.name,
        binary: binaries.get(p.name) ?? '',
        args: p.args,
        listen: p.listen,
        options: { cwd: plan.generatedDir, readyPath: p.readyPath },
      };
      const supervised = await startSupervised(spec, log);
      running.set(
        p.name,
        launch.started(supervised, `${p.name} (${p.role})`, linkOf(p, supervised.url), () => supervised.stop()),
      );
    }
    if (options.activity) {
      const opened = openDatabase<RouterDatabase>(routerOptions.db);
      const follower = await followRouterActivity(opened.db, { team: routerOptions.team, ...routerOptions.escalation }, options.activity, { log });
      launch.stops.push(async () => {
        await follower.stop();
        await opened.close();
      });
    }
    launch.endpoints.push(['generated rules, configs and data', plan.generatedDir]);
    return {
      plan,
      topology,
      exporters,
      ...(ruleService ? { ruleService } : {}),
      ...(mail ? { mail } : {}),
      processes: running,
      endpoints: launch.endpoints,
      missing: launch.missing,
      stop: () => launch.stopAll(),
    };
  } catch (err) {
    await launch.stopAll();
    throw err;
  }
}

/** Each process's binary on PATH; every missing one in one error, with the Debian packages to install. */
async function installedBinaries(processes: ScaledProcess[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const missing = new Set<string>();
  for (const p of processes) {
    const binary = p.executable ?? (await findOnPath(p.binaries));
    if (binary) found.set(p.name, binary);
    else missing.add(p.debianPackage ?? p.binaries.join(' or '));
  }
  if (missing.size > 0) {
    throw new Error(`gpuwatch stack --scale needs ${[...missing].join(', ')}: not on PATH (Debian: apt-get install ${[...missing].join(' ')})`);
  }
  return found;
}

function linkOf(p: ScaledProcess, url: string): string {
  if (p.role === 'alertmanager') return alertmanagerLink(url);
  if (p.role === 'router') return `${url} (on-call board)`;
  if (p.role === 'layout') return `${url}/metrics`;
  if (p.role === 'store') return p.readyPath === '/health' ? `${url}/vmui` : prometheusLink(url);
  return url;
}

/** The command line that runs this gpuwatch: the TypeScript sources with tsx, or the built dist/. */
function gpuwatchArgv(): string[] {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return [process.execPath, join(dirname(here), '..', 'cli', 'gpuwatch.js')];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, join(dirname(here), '..', 'cli', 'gpuwatch.ts')];
}
