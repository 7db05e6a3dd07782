/**
 * Config in, artifacts out, no I/O in between: the whole monitoring stack as a pure function of the
 * loaded gpuwatch.yaml (with its layout files). Same input, same bytes.
 */
import { generateDashboards } from '../dashboards/index.js';
import type { LoadedConfig } from '../src/config/load.js';
import { alertGroups } from './alerts.js';
import { alertmanagerYaml } from './alertmanager.js';
import { createContext } from './context.js';
import { recordingGroups } from './recording.js';
import { prometheusRuleYaml, ruleGroups, rulesYaml } from './rules-file.js';
import { scrapeYaml } from './scrape.js';
import { serviceMonitorFiles } from './servicemonitor.js';
import type { ArtifactFiles } from './types.js';
import { unitTestsYaml } from './unit-tests.js';

export type { ArtifactFiles } from './types.js';

export const RULES_FILE = 'prometheus/rules.yml';
export const RULES_TEST_FILE = 'prometheus/rules.test.yml';
export const SCRAPE_FILE = 'prometheus/scrape.yml';
export const PROMETHEUS_RULE_FILE = 'kubernetes/prometheusrule.yaml';
export const ALERTMANAGER_FILE = 'alertmanager/alertmanager.yml';

/** Prometheus rules with their unit tests, the scrape config and ServiceMonitors, the PrometheusRule and the Alertmanager config. */
export function generateRules(loaded: LoadedConfig): ArtifactFiles {
  const ctx = createContext(loaded);
  const alerts = alertGroups(ctx);
  const groups = ruleGroups(recordingGroups(ctx), alerts);
  return new Map([
    [RULES_FILE, rulesYaml(groups)],
    [RULES_TEST_FILE, unitTestsYaml(alerts)],
    [SCRAPE_FILE, scrapeYaml(ctx)],
    [PROMETHEUS_RULE_FILE, prometheusRuleYaml(ctx, groups)],
    [ALERTMANAGER_FILE, alertmanagerYaml(ctx)],
    ...serviceMonitorFiles(ctx),
  ]);
}

/** Everything `gpuwatch generate` writes: the rules part and the Grafana dashboards, sorted by path. */
export function generateArtifacts(loaded: LoadedConfig): ArtifactFiles {
  const files = generateRules(loaded);
  for (const [path, text] of generateDashboards(loaded)) {
    if (files.has(path)) throw new Error(`two generators write ${path}`);
    files.set(path, text);
  }
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
