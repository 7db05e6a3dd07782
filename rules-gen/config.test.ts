/**
 * The generator's part of gpuwatch.yaml: defaults that need no editing, and errors that name the file,
 * line and field.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_ROUTER_URL } from '../src/config/schema.js';
import { ConfigError } from '../src/config/yaml-file.js';
import { SMALL_LAYOUT, tempDirWith } from './testing/test-support.js';

async function configError(yaml: string, files: Record<string, string> = { 'layout.yaml': SMALL_LAYOUT }): Promise<{ err: ConfigError; file: string }> {
  const dir = await tempDirWith({ ...files, 'gpuwatch.yaml': yaml });
  const file = join(dir, 'gpuwatch.yaml');
  const err = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return { err: err as ConfigError, file };
}

const CLUSTER = 'clusters:\n  - name: c1\n    layout: layout.yaml\n';

describe('generator config', () => {
  it('gives every policy complete defaults from an empty policies: section', async () => {
    const dir = await tempDirWith({ 'layout.yaml': SMALL_LAYOUT, 'gpuwatch.yaml': `${CLUSTER}policies:\n` });
    const { config, clusters } = await loadConfig(join(dir, 'gpuwatch.yaml'));
    expect(config.policies.jobLowUtilization).toMatchObject({
      enabled: true,
      threshold: 0.1,
      window: '1h',
      for: '30m',
      severity: 3,
      action: { type: 'notify', grace: '1h' },
    });
    expect(config.policies.jobRunningTooLong.overrides).toEqual([{ priority: 'oppo', threshold: '2d' }]);
    expect(config.policies.clusterGpusUnavailable.severity).toBe(0);
    expect(config.policies.xidErrors.classes.critical.xids).toContain(79);
    expect(clusters[0]).toMatchObject({ router: DEFAULT_ROUTER_URL, exporterPort: 9445 });
    expect(config.runbookBaseUrl).toMatch(/^https:\/\//);
    expect(config.alertmanager.severities['0'].repeatInterval).toBe('30m');
  });

  it('names file, line and field of an unknown policy field', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  gpuTemperature:\n    treshold: 90\n`);
    expect(err.message).toBe(`${file}:6:5: policies.gpuTemperature.treshold: unknown key \`treshold\` — did you mean \`threshold\`?`);
  });

  it('rejects a field a policy does not have (no threshold on row remapping)', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  rowRemapPendingOrFailed:\n    threshold: 1\n`);
    expect(err.message).toContain(`${file}:6:5: policies.rowRemapPendingOrFailed.threshold: unknown key \`threshold\``);
  });

  it('rejects an unknown policy name', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  gpuTemprature: {threshold: 90}\n`);
    expect(err.message).toContain(`${file}:5:3: policies.gpuTemprature: unknown key \`gpuTemprature\` — did you mean \`gpuTemperature\`?`);
  });

  it('names file, line and field of a bad duration', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  jobLowUtilization:\n    window: an hour\n`);
    expect(err.message).toBe(`${file}:6:13: policies.jobLowUtilization.window: not a duration ("an hour"); use e.g. 30s, 5m, 1h`);
  });

  it('explains the severity scale when a severity is 5', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  nodeDown:\n    severity: 5\n`);
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(
      new RegExp(`^${file}:6:15: policies\\.nodeDown\\.severity: severity must be 0, 1, 2 or 3 \\(0: a whole production cluster is down.*got 5$`),
    );
  });

  it('catches the percent-for-ratio mistake in a utilization threshold', async () => {
    const { err } = await configError(`${CLUSTER}policies:\n  jobLowUtilization: {threshold: 10}\n`);
    expect(err.message).toContain('policies.jobLowUtilization.threshold: expected a ratio between 0 and 1 (e.g. 0.1 for 10%); got 10');
  });

  it('requires an override to select on exactly one label', async () => {
    const { err, file } = await configError(`${CLUSTER}policies:\n  jobLowUtilization:\n    overrides:\n      - {vc: nlp, priority: oppo, threshold: 0.05}\n`);
    expect(err.message).toContain(
      `${file}:7:9: policies.jobLowUtilization.overrides.0: an override selects on exactly one of vc, priority or cluster (got vc and priority)`,
    );
  });

  it('rejects a regex Prometheus cannot run', async () => {
    const { err } = await configError(`${CLUSTER}policies:\n  jobLowUtilization:\n    exempt: {users: ['(?!root).*']}\n`);
    expect(err.message).toContain('policies.jobLowUtilization.exempt.users.0: "(?!root).*": look-around and back-references are not supported');
  });

  it('reports a missing layout file at the field that names it', async () => {
    const { err, file } = await configError('clusters:\n  - name: c1\n    layout: missing.yaml\n', {});
    expect(err.message).toBe(`${file}:3:13: clusters.0.layout: ${join(file, '..', 'missing.yaml')}: file not found`);
  });

  it('reports a missing HiveD config the same way', async () => {
    const { err, file } = await configError(`${CLUSTER}    hived: hived.yaml\n`);
    expect(err.message).toBe(`${file}:4:12: clusters.0.hived: ${join(file, '..', 'hived.yaml')}: file not found`);
  });

  it('rejects a monitoringCluster that is not configured', async () => {
    const { err } = await configError(`${CLUSTER}monitoringCluster: c2\n`);
    expect(err.message).toContain('monitoringCluster: "c2" is not one of the clusters (c1)');
  });
});
