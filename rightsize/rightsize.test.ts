/**
 * rightsize against a real Prometheus filled with history whose answers are known by construction
 * (testing/scenarios.ts), backfilled with promtool: the function, the CLI's three formats, the rule
 * proposal (checked by `gpuwatch rules check`), and the errors.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runCli } from '../test/cli.js';
import { freePort } from '../test/ports.js';
import { startFakeOpenPai, type FakeOpenPai } from '../test/fake-openpai/server.js';
import { optionsFrom } from './cli.js';
import type { Report } from './format.js';
import { GIB, type Recommendation } from './recommend.js';
import { rightsize } from './rightsize.js';
import { writeOpenMetrics } from './testing/history.js';
import { backfill, startPrometheus, type BackfilledPrometheus } from './testing/prometheus.js';
import { KNOWN_ANSWER_LAYOUT, knownAnswerHistory } from './testing/scenarios.js';

let dir: string;
let prometheus: BackfilledPrometheus;
let config: string;
const at = Math.floor(Date.now() / 60_000) * 60 - 600;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rightsize-'));
  await writeOpenMetrics(join(dir, 'history.om'), knownAnswerHistory(at));
  await backfill(dir, 'history.om');
  prometheus = await startPrometheus(dir);
  await writeFile(join(dir, 'layout.yaml'), KNOWN_ANSWER_LAYOUT);
  config = join(dir, 'gpuwatch.yaml');
  await writeFile(config, `clusters:\n  - {name: test, layout: layout.yaml}\nrightsize:\n  prometheus: ${prometheus.url}\n  lookback: 8h\n`);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const pick = (r: Recommendation) => ({
  job: r.job,
  runs: r.runs,
  normalRuns: r.normalRuns,
  requestedGpus: r.requestedGpus,
  peakBusyGpus: r.peakBusyGpus,
  recommendedGpus: r.recommendedGpus,
  peakMemoryGiB: r.peakMemoryBytes === undefined ? undefined : r.peakMemoryBytes / GIB,
  recommendedMemoryGiB: r.recommendedMemoryGiB,
  reason: r.reason,
});

const EXPECTED = [
  {
    job: 'alice~train-a',
    runs: 10,
    normalRuns: 10,
    requestedGpus: 8,
    peakBusyGpus: 2,
    recommendedGpus: 2,
    peakMemoryGiB: 10,
    recommendedMemoryGiB: 12,
    reason: undefined,
  },
  {
    job: 'bob~finetune',
    runs: 10,
    normalRuns: 10,
    requestedGpus: 4,
    peakBusyGpus: 4,
    recommendedGpus: 4,
    peakMemoryGiB: 30,
    recommendedMemoryGiB: 36,
    reason: undefined,
  },
  {
    job: 'carol~eval',
    runs: 9,
    normalRuns: 9,
    requestedGpus: 4,
    peakBusyGpus: 4,
    recommendedGpus: undefined,
    peakMemoryGiB: 5,
    recommendedMemoryGiB: undefined,
    reason: '9 of 10 completed normal runs',
  },
  {
    job: 'dave~pretrain',
    runs: 11,
    normalRuns: 10,
    requestedGpus: 8,
    peakBusyGpus: 4,
    recommendedGpus: 4,
    peakMemoryGiB: 40,
    recommendedMemoryGiB: 48,
    reason: undefined,
  },
  {
    job: 'eve~serve',
    runs: 1,
    normalRuns: 0,
    requestedGpus: 1,
    peakBusyGpus: 0,
    recommendedGpus: undefined,
    peakMemoryGiB: undefined,
    recommendedMemoryGiB: undefined,
    reason: '0 of 10 completed normal runs',
  },
];

describe('rightsize against a backfilled Prometheus', () => {
  it('recommends what the history was built to need', async () => {
    const loaded = await loadConfig(config);
    const report = await rightsize(optionsFrom(loaded.config.rightsize, loaded.clusters[0]?.layoutData.nodes ?? [], at));
    expect(report.recommendations.map(pick)).toEqual(EXPECTED);
    const bob = report.recommendations.find((r) => r.job === 'bob~finetune');
    expect(bob?.gpuMemoryBytes).toBe(80 * GIB);
    expect(bob).toMatchObject({ medianGpuUtilization: 0.6, busiestGpuUtilization: 0.6 });
    expect(report.recommendations.find((r) => r.job === 'alice~train-a')).toMatchObject({ medianGpuUtilization: 0.02, busiestGpuUtilization: 0.8 });
  });

  it('reports host memory and CPU with --host, for jobs whose runs held whole nodes only', async () => {
    const loaded = await loadConfig(config);
    const report = await rightsize({ ...optionsFrom(loaded.config.rightsize, loaded.clusters[0]?.layoutData.nodes ?? [], at), host: true });
    const byJob = new Map(report.recommendations.map((r) => [r.job, r]));
    expect(byJob.get('alice~train-a')).toMatchObject({ hostMemoryPeakBytes: 200 * GIB, hostCpu: 0.5 });
    for (const job of ['bob~finetune', 'carol~eval', 'dave~pretrain']) expect(byJob.get(job)?.hostMemoryPeakBytes, job).toBeUndefined();
    const plain = await rightsize(optionsFrom(loaded.config.rightsize, [], at));
    expect(plain.recommendations.find((r) => r.job === 'alice~train-a')?.hostMemoryPeakBytes).toBeUndefined();
  });

  it('sees a one-sample memory peak at any step', async () => {
    const loaded = await loadConfig(config);
    const report = await rightsize({ ...optionsFrom(loaded.config.rightsize, [], at), stepSeconds: 300 });
    expect(report.recommendations.find((r) => r.job === 'bob~finetune')?.peakMemoryBytes).toBe(30 * GIB);
  });

  it('prints JSON, CSV and a table, and writes a rule proposal the rule service accepts', async () => {
    const proposal = join(dir, 'proposal.yaml');
    const json = await runCli(['rightsize', '-c', config, '--at', String(at), '--json', '--propose-rules', proposal]);
    expect(json.stderr).toContain('not applied');
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Report).recommendations.map(pick)).toEqual(EXPECTED);

    const csv = await runCli(['rightsize', '-c', config, '--at', String(at), '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^job,runs,normal,GPUs asked,GPUs busy,GPUs rec\.,mem peak GiB,mem rec\. GiB,GPU GiB,util% median,util% max,note$/);
    expect(lines.find((l) => l.startsWith('alice~train-a,'))).toMatch(/^alice~train-a,10,10,8,2,2,10\.0,12,80\.0,2,80,request 2 GPUs instead of 8$/);
    expect(lines.find((l) => l.startsWith('carol~eval,'))).toContain('no recommendation: 9 of 10 completed normal runs');

    const table = await runCli(['rightsize', '-c', config, '--at', new Date(at * 1000).toISOString()]);
    expect(table.stdout).toMatch(/^dave~pretrain +11 +10 +8 +4 +4 +40\.0 +48 +80\.0 +45 +90 +request 4 GPUs instead of 8$/m);
    expect(table.stdout).toContain('5 recurring jobs, 3 with a recommendation');

    const text = await readFile(proposal, 'utf8');
    expect(text).toContain('Not applied');
    const check = await runCli(['rules', 'check', '--rules', proposal, '--user', 'alice', '--priority', 'test', '--gpus', '8']);
    expect(JSON.parse(check.stdout)).toMatchObject({ result: 'oppo' });
    const within = await runCli(['rules', 'check', '--rules', proposal, '--user', 'alice', '--priority', 'test', '--gpus', '2']);
    expect(JSON.parse(within.stdout)).toMatchObject({ result: 'retain', priority: 'test' });
  }, 60_000);

  it('counts every run with a looser normal-run rule and fewer runs needed', async () => {
    const r = await runCli(['rightsize', '-c', config, '--at', String(at), '--json', '--min-runs', '9', '--min-duration-ratio', '0']);
    const byJob = new Map((JSON.parse(r.stdout) as Report).recommendations.map((x) => [x.job, pick(x)]));
    expect(byJob.get('carol~eval')?.recommendedGpus).toBe(4);
    expect(byJob.get('dave~pretrain')).toMatchObject({ normalRuns: 11, peakBusyGpus: 8, recommendedGpus: 8, recommendedMemoryGiB: 90 });
  }, 30_000);
});

describe('completed normal runs from OpenPAI', () => {
  let openpai: FakeOpenPai;
  beforeAll(async () => {
    openpai = await startFakeOpenPai({ users: ['alice', 'bob', 'carol', 'dave', 'eve', 'admin'].map((name) => ({ name, admin: name === 'admin' })) });
    const odd: Record<string, 'FAILED' | 'STOPPED' | 'RUNNING'> = { 'dave~pretrain-run6': 'FAILED', 'alice~train-a-3': 'STOPPED', 'eve~serve-1': 'RUNNING' };
    for (const run of knownAnswerHistory(at).runs) {
      const [user = '', name = ''] = run.job.split('~');
      openpai.addJob({ user, name, state: odd[run.job] ?? 'SUCCEEDED' });
    }
  });
  afterAll(() => openpai?.close());

  it('counts only the jobs rest-server lists as SUCCEEDED', async () => {
    await writeFile(
      join(dir, 'openpai.yaml'),
      `${await readFile(config, 'utf8')}  openpai:\n    url: ${openpai.url}\n    token: ${openpai.tokenFor('admin')}\n`,
    );
    const r = await runCli(['rightsize', '-c', join(dir, 'openpai.yaml'), '--at', String(at), '--json']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.completion).toBe('openpai');
    const byJob = new Map(report.recommendations.map((x) => [x.job, pick(x)]));
    expect(byJob.get('alice~train-a')).toMatchObject({ normalRuns: 9, recommendedGpus: undefined, reason: '9 of 10 completed normal runs' });
    expect(byJob.get('dave~pretrain')).toEqual(EXPECTED.find((e) => e.job === 'dave~pretrain'));
    expect(byJob.get('bob~finetune')).toEqual(EXPECTED.find((e) => e.job === 'bob~finetune'));
    expect(byJob.get('eve~serve')?.normalRuns).toBe(0);
    expect(openpai.requests.filter((q) => q.path === '/api/v2/jobs').map((q) => q.query.state)).toEqual(['SUCCEEDED']);
  }, 30_000);

  it('says when rest-server refuses the token', async () => {
    const loaded = await loadConfig(config);
    const options = { ...optionsFrom(loaded.config.rightsize, [], at), openpai: { url: openpai.url, token: 'nope', timeoutMs: 5_000 } };
    await expect(rightsize(options)).rejects.toThrow(`OpenPAI rest-server at ${openpai.url} answered GET /api/v2/jobs with HTTP 401`);
  });
});

describe('rightsize errors', () => {
  let html: Server;
  let htmlUrl: string;
  beforeAll(async () => {
    html = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>'));
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    const address = html.address();
    htmlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => html.close(() => resolve())));

  it('says when Prometheus cannot be reached, or is not Prometheus (exit 1)', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const down = await runCli(['rightsize', '--prometheus', nobody, '--timeout', '5s']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach Prometheus at ${nobody}: ECONNREFUSED`);
    const notProm = await runCli(['rightsize', '--prometheus', htmlUrl]);
    expect(notProm.code).toBe(1);
    expect(notProm.stderr).toContain(`${htmlUrl} is not a Prometheus HTTP API: POST /api/v1/query answered HTTP 404`);
  }, 30_000);

  it('names a bad flag (exit 2)', async () => {
    const threshold = await runCli(['rightsize', '--busy-threshold', '2']);
    expect(threshold.code).toBe(2);
    expect(threshold.stderr).toMatch(/--busy-threshold: Number must be less than or equal to 1/);
    const runs = await runCli(['rightsize', '--min-runs', 'ten']);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain("option '--min-runs <n>' argument 'ten' is invalid. expected a number");
    const suffix = await runCli(['rightsize', '--run-suffix', '(']);
    expect(suffix.code).toBe(2);
    expect(suffix.stderr).toContain('--run-suffix: not a regular expression');
  }, 30_000);
});
