/**
 * What `gpuwatch stack` runs, as a pure function of the loaded config: one
 * replay exporter per layout worker on 127.0.0.1 (consecutive ports), and a Prometheus config that
 * scrapes them with the generated scrape job (same labels and relabelling, local targets), loads
 * the generated rules and sends alerts to the local Alertmanager.
 */
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { createContext } from '../rules-gen/context.js';
import { RULES_FILE } from '../rules-gen/generate.js';
import { scrapeJob, serviceScrapeJobs, serviceTargets } from '../rules-gen/scrape.js';
import type { ExporterTarget } from '../rules-gen/scale/files.js';
import type { RuleServiceConfig } from '../src/config/rule-service.js';

export interface ExporterPlan {
  cluster: string;
  node: string;
  listen: string;
  /** The scenario file the exporter replays. */
  scenario: string;
  /** Set when the scenario is written by the stack (a worker without its own file). */
  scenarioText?: string;
}

export interface StackPlan {
  dir: string;
  /** The admission rules loaded into the rule service; `explicit` when stack.rules names them (then the file must exist). */
  rules: { file: string; explicit: boolean };
  /** Where `gpuwatch generate` output goes. */
  generatedDir: string;
  mailDir: string;
  exporters: ExporterPlan[];
  prometheus: { listen: string; config: string; dataDir: string };
  alertmanager: { listen: string; config: string; dataDir: string };
}

/** The admission rules the stack loads when stack.rules is not set (examples/rules.yaml for the example). */
export const DEFAULT_RULES_FILE = 'rules.yaml';

/** `scenarioFiles`: the names present in the scenarios directory (I/O stays with the caller). */
export function planStack(loaded: LoadedConfig, scenarioFiles: ReadonlySet<string>): StackPlan {
  const { stack } = loaded.config;
  const base = resolve(loaded.file, '..');
  const dir = resolve(base, stack.dir);
  const scenariosDir = resolve(base, stack.scenarios);
  const generatedDir = join(dir, 'generated');
  const exporters = createContext(loaded).workers.map((w, i): ExporterPlan => {
    const listen = `127.0.0.1:${stack.exporterBasePort + i}`;
    const own = `${w.node}.yaml`;
    if (scenarioFiles.has(own)) return { cluster: w.cluster, node: w.node, listen, scenario: join(scenariosDir, own) };
    if (!stack.replay) {
      const message = `worker ${w.node} has no replay scenario: create ${join(scenariosDir, own)}, or set stack.replay to a recording every such worker replays`;
      throw new ConfigError(`${loaded.file}: stack.scenarios: ${message}`, loaded.file, [{ file: loaded.file, field: 'stack.scenarios', message }]);
    }
    const scenarioText = `# Written by gpuwatch stack: ${w.node} has no scenario of its own.\nsource: ${JSON.stringify(resolve(base, stack.replay))}\ngpus: ${Math.max(1, w.expectedGpus)}\n`;
    return { cluster: w.cluster, node: w.node, listen, scenario: join(dir, 'scenarios', own), scenarioText };
  });
  const prometheus = { listen: stack.prometheus, config: join(dir, 'prometheus.yml'), dataDir: join(dir, 'prometheus-data') };
  const alertmanager = { listen: stack.alertmanager, config: join(generatedDir, 'alertmanager', 'alertmanager.yml'), dataDir: join(dir, 'alertmanager-data') };
  const rules = { file: resolve(base, stack.rules ?? DEFAULT_RULES_FILE), explicit: stack.rules !== undefined };
  return { dir, rules, generatedDir, mailDir: join(dir, 'mail'), exporters, prometheus, alertmanager };
}

/** The rule service's section with the stack's Prometheus (`url`: the store the stack runs) to confirm what each action claims (an idle job, a run past its threshold), unless it names its own. */
export function ruleServiceWithStackPrometheus(ruleService: RuleServiceConfig, url: string): RuleServiceConfig {
  return ruleService.prometheus ? ruleService : { ...ruleService, prometheus: { url, timeout: '5s' } };
}

/** The flags of a planned exporter: a replay of its scenario, on its port, under its node name. */
export function exporterFlags(e: ExporterPlan): { replay: string; backend: 'replay'; listen: string; node: string } {
  return { replay: e.scenario, backend: 'replay', listen: e.listen, node: e.node };
}

/** The page the banner links for Prometheus: Debian's Prometheus 2.x has no new UI, only the classic one under /classic. */
export function prometheusLink(url: string): string {
  return `${url}/classic/alerts`;
}

/** What the banner says for Alertmanager: Debian's package has no web UI, but its API answers. */
export function alertmanagerLink(url: string): string {
  return `${url}/api/v2/alerts (API only: Debian's Alertmanager has no web UI; or amtool --alertmanager.url=${url} alert query)`;
}

/** Prometheus' command line for the stack's config, data folder and address. */
export function prometheusArgs(p: StackPlan['prometheus']): string[] {
  return [`--config.file=${p.config}`, `--storage.tsdb.path=${p.dataDir}`, `--web.listen-address=${p.listen}`];
}

/** A worker's scrape target in the stack: its local replay exporter's address (the layout's, for a worker without one). */
export function localExporterTarget(plan: StackPlan): ExporterTarget {
  const local = new Map(plan.exporters.map((e) => [`${e.cluster}/${e.node}`, e.listen]));
  return (w) => local.get(`${w.cluster}/${w.node}`) ?? w.instance;
}

/** prometheus.yml for the stack: the generated scrape job pointed at the local exporters, plus the router, the rule service, Prometheus and Alertmanager. */
export function prometheusConfig(loaded: LoadedConfig, plan: StackPlan, withAlertmanager: boolean): string {
  const ctx = createContext(loaded);
  const gpuwatch = scrapeJob(ctx, localExporterTarget(plan));
  // The router and rule service at the config's addresses, Prometheus and Alertmanager at the stack's.
  const services = serviceScrapeJobs(ctx, {
    ...serviceTargets(ctx),
    prometheus: [plan.prometheus.listen],
    alertmanager: withAlertmanager ? [plan.alertmanager.listen] : [],
  });
  const interval = loaded.config.exporter.interval;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: loaded.config.stack.evaluationInterval ?? interval },
    rule_files: [join(plan.generatedDir, RULES_FILE)],
    ...(withAlertmanager ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [plan.alertmanager.listen] }] }] } } : {}),
    scrape_configs: [gpuwatch, ...services],
  };
  return `# Written by gpuwatch stack from ${loaded.file}; regenerated at every start.\n${JSON.stringify(config, null, 2)}\n`;
}
