/**
 * The efficiency dashboard's "Recommended vs requested" PromQL and `gpuwatch rightsize` read the same
 * backfilled history alike: the same recurring jobs (label_replace in Prometheus's RE2 against the
 * CLI's JavaScript expression), the same GPUs held and peak memory, the same busy GPUs where a run is
 * long enough for the panel's 5-minute steps.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboards } from '../dashboards/index.js';
import { allPanels, dashboardQueries } from '../dashboards/testing/inspect.js';
import { loadConfig } from '../src/config/load.js';
import { optionsFrom } from '../rightsize/cli.js';
import { instantVector } from '../rightsize/prometheus-client.js';
import { GIB } from '../rightsize/recommend.js';
import { rightsize } from '../rightsize/rightsize.js';
import { writeOpenMetrics } from '../rightsize/testing/history.js';
import { backfill, startPrometheus, type BackfilledPrometheus } from '../rightsize/testing/prometheus.js';
import { KNOWN_ANSWER_LAYOUT, knownAnswerHistory } from '../rightsize/testing/scenarios.js';

let dir: string;
let prometheus: BackfilledPrometheus;
const at = Math.floor(Date.now() / 60_000) * 60 - 600;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rightsize-panel-'));
  await writeOpenMetrics(join(dir, 'history.om'), knownAnswerHistory(at));
  await backfill(dir, 'history.om');
  prometheus = await startPrometheus(dir);
  await writeFile(join(dir, 'layout.yaml'), KNOWN_ANSWER_LAYOUT);
  await writeFile(
    join(dir, 'gpuwatch.yaml'),
    `clusters:\n  - {name: test, layout: layout.yaml}\nrightsize:\n  prometheus: ${prometheus.url}\n  lookback: 8h\n`,
  );
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** As Grafana would send it for the whole history; `cluster=""` matches the history's series, which carry no cluster. */
const interpolate = (expr: string) =>
  expr
    .replace(/\$__range/g, '8h')
    .replace(/\$cluster/g, '')
    .replace(/\$(vc|user)\b/g, '.*');

describe('the "Recommended vs requested" panel', () => {
  it('groups and measures like gpuwatch rightsize', async () => {
    const loaded = await loadConfig(join(dir, 'gpuwatch.yaml'));
    const efficiency = buildDashboards(loaded).find((d) => d.uid === 'gpuwatch-efficiency');
    expect(allPanels(efficiency!).some((p) => p.title === 'Recommended vs requested')).toBe(true);
    const queries = dashboardQueries(efficiency!).filter((q) => q.where.includes('"Recommended vs requested"'));
    expect(queries).toHaveLength(3);
    const [held, busy, memory] = await Promise.all(
      queries.map(async (q) => {
        const v = await instantVector({ url: prometheus.url, timeoutMs: 20_000 }, interpolate(q.expr), at);
        return new Map(v.map((s) => [s.labels.recurring_job, s.value]));
      }),
    );
    // Every run counts in the panel, so the CLI is asked to count every completed run too.
    const report = await rightsize({ ...optionsFrom(loaded.config.rightsize, [], at), minDurationRatio: 0 });
    const cli = new Map(report.recommendations.map((r) => [r.job, r]));
    expect([...held!.keys()].sort()).toEqual([...cli.keys()].sort());
    for (const job of ['alice~train-a', 'bob~finetune', 'carol~eval', 'dave~pretrain']) {
      expect(held!.get(job), job).toBe(cli.get(job)?.requestedGpus);
      expect(memory!.get(job), job).toBe(cli.get(job)?.peakMemoryBytes);
    }
    for (const job of ['alice~train-a', 'bob~finetune', 'carol~eval']) expect(busy!.get(job), job).toBe(cli.get(job)?.peakBusyGpus);
    expect(memory!.get('dave~pretrain')).toBe(75 * GIB);
  }, 60_000);
});
