/** The pure steps of rightsize: grouping, completion, rounding, recommendation, formats, the proposal. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SUFFIX } from '../src/config/rightsize.js';
import { formatReport, type Report } from './format.js';
import { groupRuns, recurringId, runSuffixPattern, type Completion } from './group.js';
import { proposalRules } from './proposal.js';
import { GIB, recommend, roundGpus, roundMemoryGiB, type Recommendation } from './recommend.js';
import { extractRuns, type QueryResults, type Run } from './runs.js';

const pattern = runSuffixPattern(DEFAULT_RUN_SUFFIX);

describe('the grouping rule', () => {
  it.each([
    ['alice~train-3', 'alice~train'],
    ['alice~train_17', 'alice~train'],
    ['alice~train-run4', 'alice~train'],
    ['alice~train', 'alice~train'],
    ['alice~bert-large-2', 'alice~bert-large'],
    ['alice~v2', 'alice~v2'],
    ['alice~7', 'alice~7'],
  ])('%s belongs to %s', (job, id) => expect(recurringId(job, pattern)).toBe(id));

  it('takes any suffix expression, matched at the end of the name', () => {
    expect(recurringId('bob~nightly_20261201', runSuffixPattern('_[0-9]{8}'))).toBe('bob~nightly');
    expect(recurringId('bob~nightly_2026', runSuffixPattern('_[0-9]{8}'))).toBe('bob~nightly_2026');
  });
});

const run = (job: string, start: number, minutes: number, extra: Partial<Run> = {}): Run => ({
  job,
  user: job.split('~')[0] ?? '',
  gpus: 8,
  nodes: { n1: 8 },
  busyGpus: 2,
  gpuUtilization: [0, 0.8],
  memoryPeakBytes: 10 * GIB,
  start,
  end: start + minutes * 60,
  ...extra,
});

const completion: Completion = { at: 100_000, stepSeconds: 60, minDurationRatio: 0.5 };

describe('completed normal runs (from the series)', () => {
  it('leaves out a run that ended far shorter than the median, and one still running', () => {
    const runs = [run('a~j-1', 0, 30), run('a~j-2', 3000, 30), run('a~j-3', 6000, 10), run('a~j-4', 9000, 31), run('a~j-5', 99_700, 1)];
    const [group] = groupRuns(runs, DEFAULT_RUN_SUFFIX, completion);
    expect(group?.id).toBe('a~j');
    expect(group?.runs.map((r) => r.verdict)).toEqual(['normal', 'normal', 'short', 'normal', 'running']);
  });

  it('never puts two users in one recurring job', () => {
    const groups = groupRuns([run('a~j-1', 0, 30), run('b~j-1', 0, 30)], DEFAULT_RUN_SUFFIX, completion);
    expect(groups.map((g) => g.id)).toEqual(['a~j', 'b~j']);
  });
});

describe('rounding to the SKU', () => {
  it.each([
    [0, 8, 1],
    [1, 8, 1],
    [2, 8, 2],
    [3, 8, 4],
    [5, 8, 8],
    [9, 8, 16],
    [17, 8, 24],
    [3, 4, 4],
    [5, 6, 6],
    [7, 6, 12],
  ])('%d busy GPUs on %d-GPU nodes → %d', (n, perNode, want) => expect(roundGpus(n, perNode)).toBe(want));

  it('adds the headroom to memory and rounds up to GiB', () => {
    expect(roundMemoryGiB(30 * GIB, 20)).toBe(36);
    expect(roundMemoryGiB(30 * GIB + 1, 0)).toBe(31);
    expect(roundMemoryGiB(10 * GIB, 0)).toBe(10);
  });
});

describe('recommend', () => {
  const options = { minRuns: 3, headroom: 20, gpuHeadroom: 0, gpusPerNode: () => 8 };
  const group = (runs: Run[]) => groupRuns(runs, DEFAULT_RUN_SUFFIX, completion)[0]!;

  it('recommends peak busy GPUs and peak memory + headroom from the normal runs only', () => {
    const runs = [0, 1, 2].map((k) => run(`a~j-${k}`, k * 3000, 30)).concat(run('a~j-9', 9000, 5, { busyGpus: 8, memoryPeakBytes: 70 * GIB }));
    expect(recommend(group(runs), options)).toMatchObject({ normalRuns: 3, requestedGpus: 8, peakBusyGpus: 2, recommendedGpus: 2, recommendedMemoryGiB: 12 });
  });

  it('gives none before minRuns normal runs, and says why', () => {
    const r = recommend(group([run('a~j-1', 0, 30), run('a~j-2', 3000, 30)]), options);
    expect(r.recommendedGpus).toBeUndefined();
    expect(r.reason).toBe('2 of 3 completed normal runs');
  });

  it('applies the GPU headroom before rounding', () => {
    const runs = [0, 1, 2].map((k) => run(`a~j-${k}`, k * 3000, 30));
    expect(recommend(group(runs), { ...options, gpuHeadroom: 50 }).recommendedGpus).toBe(4);
  });
});

describe('extractRuns', () => {
  it('joins the vectors per run and counts a GPU with two allocation series once', () => {
    const l = (extra: Record<string, string>) => ({ job: 'a~j-1', user: 'a', ...extra });
    const results: QueryResults = {
      allocated: [{ labels: l({ node: 'n1' }), value: 2 }],
      busiest: [
        { labels: l({ node: 'n1', uuid: 'u1', gpu_instance_id: '1' }), value: 0.5 },
        { labels: l({ node: 'n1', uuid: 'u1', gpu_instance_id: '2' }), value: 0.7 },
        { labels: l({ node: 'n1', uuid: 'u2' }), value: 0.05 },
      ],
      memoryPeak: [{ labels: l({}), value: 5 }],
      memoryTotal: [{ labels: l({}), value: 80 }],
      start: [{ labels: l({}), value: 100 }],
      end: [{ labels: l({}), value: 200 }],
    };
    expect(extractRuns(results, 0.1)).toEqual([
      {
        job: 'a~j-1',
        user: 'a',
        gpus: 2,
        nodes: { n1: 2 },
        busyGpus: 1,
        gpuUtilization: [0.05, 0.7],
        memoryPeakBytes: 5,
        memoryTotalBytes: 80,
        start: 100,
        end: 200,
      },
    ]);
  });
});

const rec = (job: string, user: string, requestedGpus: number, recommendedGpus?: number): Recommendation => ({
  job,
  user,
  runs: 10,
  normalRuns: 10,
  requestedGpus,
  peakBusyGpus: recommendedGpus ?? 0,
  gpusPerNode: 8,
  ...(recommendedGpus === undefined ? { reason: '0 of 10 completed normal runs' } : { recommendedGpus }),
});

describe('formats and the proposal', () => {
  const report: Report = { at: '2026-12-01T00:00:00.000Z', lookback: '7d', completion: 'series', recommendations: [rec('a~x, "y"', 'a', 8, 2)] };

  it('quotes CSV cells that need it', () => {
    expect(formatReport(report, 'csv').split('\n')[1]).toBe('"a~x, ""y""",10,10,8,2,2,,,,,,request 2 GPUs instead of 8');
  });

  it('proposes one rule per user, for jobs that ask for more than they use, and nothing else', () => {
    const rules = proposalRules([rec('a~x', 'a', 8, 2), rec('a~y', 'a', 8, 4), rec('b.c~z', 'b.c', 4, 4), rec('d~w', 'd', 8)]);
    expect(rules).toEqual([{ user: '^a$', requested: '4', result: 'oppo', description: expect.stringContaining('a~x 8→2, a~y 8→4') as string }]);
    expect(proposalRules([rec('b.c~z', 'b.c', 8, 1)])[0]?.user).toBe('^b\\.c$');
  });
});
