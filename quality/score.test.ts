import { describe, expect, it } from 'vitest';
import { CORPUS, FAULT_AT, QUALITY_POLICIES, nodesOf, type QualityCase } from './corpus.js';
import { ownerOf, scoreQuality, type FiredSeries } from './score.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1_000;

const corpus: QualityCase[] = [
  { name: 'healthy-a', kind: 'healthy', description: '', nodes: [{ jobs: [{ job: 'ann~train', gpus: [0] }] }], expect: [] },
  { name: 'blip-b', kind: 'blip', description: '', nodes: [{}], expect: [] },
  { name: 'fault-ecc', kind: 'fault', description: '', nodes: [{}], expect: [{ alert: 'GpuEccUncorrectable', labels: { gpu: '2' } }] },
  {
    name: 'fault-idle',
    kind: 'fault',
    description: '',
    nodes: [{ jobs: [{ job: 'bob~idle', gpus: [0] }] }],
    expect: [{ alert: 'GpuJobLowUtilization', labels: { job: 'bob~idle' }, fillSeconds: 18 }],
  },
  { name: 'fault-cap', kind: 'fault', description: '', ownCluster: true, nodes: [{}, {}], expect: [{ alert: 'ClusterGpusUnavailable' }] },
];
const timing = Object.fromEntries(corpus.map((c) => [c.name, { nodeStarts: Object.fromEntries(nodesOf(c).map((n) => [n, T0])), observedFrom: T0 + 3 * S }]));
const forSeconds = { GpuEccUncorrectable: 5, GpuJobLowUtilization: 10, ClusterGpusUnavailable: 10, GpuTemperatureHigh: 15 };
const fault = T0 + FAULT_AT * S;
const score = (fired: FiredSeries[]) => scoreQuality({ corpus, fired, timing, forSeconds, scrapeIntervalSeconds: 1, sharedCluster: 'quality' });

describe('alert quality scoring', () => {
  it('attributes a series by node, then job, then a cluster of its own', () => {
    expect(ownerOf(corpus, { node: 'blip-b', cluster: 'quality' }, 'quality')?.name).toBe('blip-b');
    expect(ownerOf(corpus, { job: 'bob~idle', cluster: 'quality' }, 'quality')?.name).toBe('fault-idle');
    expect(ownerOf(corpus, { cluster: 'fault-cap' }, 'quality')?.name).toBe('fault-cap');
    expect(ownerOf(corpus, { node: 'fault-cap-1' }, 'quality')?.name).toBe('fault-cap');
    expect(ownerOf(corpus, { cluster: 'quality' }, 'quality')).toBeUndefined();
  });

  it('counts detections from when the condition held, and meets the goal within for + 2 scrapes', () => {
    const result = score([
      { labels: { alertname: 'GpuEccUncorrectable', node: 'fault-ecc', gpu: '2' }, firingAt: fault + 6.5 * S },
      { labels: { alertname: 'GpuJobLowUtilization', job: 'bob~idle' }, firingAt: fault + 29 * S },
      { labels: { alertname: 'ClusterGpusUnavailable', cluster: 'fault-cap' }, firingAt: fault + 12 * S },
    ]);
    expect(result.detections.map((d) => [d.case, d.detectSeconds, d.sinceFaultSeconds])).toEqual([
      ['fault-ecc', 6.5, 6.5],
      ['fault-idle', 11, 29],
      ['fault-cap', 12, 12],
    ]);
    expect(result.falsePages).toEqual([]);
    expect(result.recall).toBe(1);
    expect(result.met).toBe(true);
    const idle = result.rows.find((r) => r.alert === 'GpuJobLowUtilization');
    expect(idle).toMatchObject({ expected: 1, detected: 1, fired: 1, precision: 1, recall: 1, goalSeconds: 12, met: true });
    // An alert nothing injected and nothing fired: in the table, with no figures.
    expect(result.rows.find((r) => r.alert === 'GpuTemperatureHigh')).toMatchObject({
      expected: 0,
      fired: 0,
      precision: undefined,
      recall: undefined,
      met: true,
    });
  });

  it('misses the goal on a slow detection, a missed fault, or any page on a healthy or blip trace', () => {
    const slow = score([
      { labels: { alertname: 'GpuEccUncorrectable', node: 'fault-ecc', gpu: '2' }, firingAt: fault + 7.5 * S },
      { labels: { alertname: 'GpuJobLowUtilization', job: 'bob~idle' }, firingAt: fault + 29 * S },
      { labels: { alertname: 'ClusterGpusUnavailable', cluster: 'fault-cap' }, firingAt: fault + 12 * S },
    ]);
    expect(slow.rows.find((r) => r.alert === 'GpuEccUncorrectable')).toMatchObject({ detectMaxSeconds: 7.5, goalSeconds: 7, met: false });
    expect(slow.met).toBe(false);

    const missed = score([{ labels: { alertname: 'GpuEccUncorrectable', node: 'fault-ecc', gpu: '2' }, firingAt: fault + 6 * S }]);
    expect(missed.recall).toBeCloseTo(1 / 3);
    expect(missed.detections.find((d) => d.case === 'fault-idle')?.detectSeconds).toBeUndefined();
    expect(missed.met).toBe(false);

    const noisy = score([
      { labels: { alertname: 'GpuEccUncorrectable', node: 'fault-ecc', gpu: '2' }, firingAt: fault + 6 * S },
      { labels: { alertname: 'GpuJobLowUtilization', job: 'bob~idle' }, firingAt: fault + 29 * S },
      { labels: { alertname: 'ClusterGpusUnavailable', cluster: 'fault-cap' }, firingAt: fault + 12 * S },
      { labels: { alertname: 'GpuTemperatureHigh', node: 'blip-b', gpu: '0' }, firingAt: fault + 20 * S },
      { labels: { alertname: 'GpuJobLowUtilization', job: 'ann~train' }, firingAt: fault + 20 * S },
      // The right alert on the wrong GPU is no detection of the fault it was not about.
      { labels: { alertname: 'GpuEccUncorrectable', node: 'fault-ecc', gpu: '1' }, firingAt: fault + 6 * S },
      // Before the fault: not a detection.
      { labels: { alertname: 'ClusterGpusUnavailable', cluster: 'fault-cap', extra: 'early' }, firingAt: fault - 5 * S },
    ]);
    expect(noisy.pagesOnBlips).toBe(1);
    expect(noisy.pagesOnHealthy).toBe(1);
    expect(noisy.falsePages.map((p) => [p.case, p.alert, p.why])).toEqual([
      ['blip-b', 'GpuTemperatureHigh', 'not expected on a blip trace'],
      ['healthy-a', 'GpuJobLowUtilization', 'not expected on a healthy trace'],
      ['fault-ecc', 'GpuEccUncorrectable', 'not expected on a fault trace'],
      ['fault-cap', 'ClusterGpusUnavailable', 'fired before the fault'],
    ]);
    expect(noisy.rows.find((r) => r.alert === 'GpuJobLowUtilization')).toMatchObject({ fired: 2, hits: 1, precision: 0.5, met: false });
    expect(noisy.met).toBe(false);
  });
});

describe('a fault present from the start', () => {
  it('counts from when Prometheus could first see it', () => {
    const old: QualityCase = {
      name: 'fault-old',
      kind: 'fault',
      description: '',
      nodes: [{ jobs: [{ job: 'cat~old', gpus: [0] }] }],
      expect: [{ alert: 'GpuJobRunningTooLong', labels: { job: 'cat~old' }, fromStart: true }],
    };
    const result = scoreQuality({
      corpus: [old],
      fired: [{ labels: { alertname: 'GpuJobRunningTooLong', job: 'cat~old' }, firingAt: T0 + 10 * S }],
      timing: { 'fault-old': { nodeStarts: { 'fault-old': T0 }, observedFrom: T0 + 4 * S } },
      forSeconds: { GpuJobRunningTooLong: 5 },
      scrapeIntervalSeconds: 1,
      sharedCluster: 'quality',
    });
    expect(result.detections[0]).toMatchObject({ detectSeconds: 6, sinceFaultSeconds: 6 });
    expect(result.rows[0]).toMatchObject({ alert: 'GpuJobRunningTooLong', goalSeconds: 7, met: true });
  });
});

describe('the corpus', () => {
  it('has unique node and job names, a fault for every expectation, and blips shorter than their for', () => {
    const nodes = CORPUS.flatMap(nodesOf);
    expect(new Set(nodes).size).toBe(nodes.length);
    const jobs = CORPUS.flatMap((c) => c.nodes.flatMap((n) => (n.jobs ?? []).map((j) => j.job)));
    expect(new Set(jobs).size).toBe(jobs.length);
    for (const c of CORPUS) expect(c.kind === 'fault').toBe(c.expect.length > 0);
    for (const c of CORPUS.filter((x) => x.kind === 'blip')) {
      for (const n of c.nodes) {
        for (const e of n.events ?? []) expect(e.until, `${c.name} recovers`).toBeDefined();
        if (n.exporterStops) expect(n.exporterStops.until).toBeDefined();
      }
    }
    expect(Object.keys(QUALITY_POLICIES)).toContain('gpuTemperature');
  });
});
