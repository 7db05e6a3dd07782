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

import { ALERTMANAGER_FILE, PROMETHEUS_RULE_FILE, RULES_FILE, RULES_TEST_FILE, SCRAPE_FILE } from './paths.js';
import { scaleFiles } from './scale/files.js';

export { ALERTMANAGER_FILE, PROMETHEUS_RULE_FILE, RULES_FILE, RULES_TEST_FILE, SCRAPE_FILE };

/** Prometheus rules with their unit tests, the scrape config and ServiceMonitors, the PrometheusRule and the Alertmanager config. */
export function generateRules(loaded: LoadedConfig): ArtifactFiles {
  const ctx = createContext(loaded);
  const alerts = alertGroups(ctx);
  const recording = recordingGroups(ctx);
  const groups = ruleGroups(recording, alerts);
  return new Map([
    [RULES_FILE, rulesYaml(groups)],
    [RULES_TEST_FILE, unitTestsYaml(alerts)],
    [SCRAPE_FILE, scrapeYaml(ctx)],
    [PROMETHEUS_RULE_FILE, prometheusRuleYaml(ctx, groups)],
    [ALERTMANAGER_FILE, alertmanagerYaml(ctx)],
    ...serviceMonitorFiles(ctx),
    ...scaleFiles(ctx, recording, alerts),
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
