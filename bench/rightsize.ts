/**
 * `gpuwatch rightsize` at scale: 1,000 recurring jobs × 10 runs (10,000 runs on 2,000 GPUs of 250
 * 8-GPU nodes, 20-minute runs 6 minutes apart, 1-minute samples) backfilled once with promtool into
 * a real Prometheus (Debian's), then `rightsize()` with the default settings (2-minute steps) timed end to end — queries, transfer, grouping,
 * recommendations — several times. Goal: median under 10 s. The backfill is reported, not counted.
 *
 * Runs alone: npx tsx bench/rightsize.ts [repeats]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GIB } from '../rightsize/recommend.js';
import { rightsize, type RightsizeOptions } from '../rightsize/rightsize.js';
import type { GpuRef, History, RunSpec } from '../rightsize/testing/history.js';
import { writeOpenMetrics } from '../rightsize/testing/history.js';
import { backfill, startPrometheus } from '../rightsize/testing/prometheus.js';
import { DEFAULT_RUN_SUFFIX } from '../src/config/rightsize.js';

export interface RightsizeBenchResult {
  jobs: number;
  runs: number;
  gpus: number;
  samples: number;
  backfillSeconds: number;
  secondsEach: number[];
  medianSeconds: number;
  recommended: number;
  /** Recommendations that differ from the one GPU each job was built to keep busy. */
  wrong: number;
}

const JOBS = 1_000;
const RUNS = 10;
const GPUS_PER_JOB = 2;
const JOBS_PER_NODE = 4;
const STEP = 60;
const RUN_SECONDS = 20 * 60;
const EVERY = 26 * 60;

export function benchHistory(to: number): History {
  const from = to - (RUNS * EVERY + 30 * 60);
  const gpus: GpuRef[] = [];
  const runs: RunSpec[] = [];
  for (let j = 0; j < JOBS; j++) {
    const node = `node-${String(Math.floor(j / JOBS_PER_NODE)).padStart(4, '0')}`;
    const mine = Array.from({ length: GPUS_PER_JOB }, (_, i) => (j % JOBS_PER_NODE) * GPUS_PER_JOB + i).map((gpu) => ({
      node,
      gpu,
      uuid: `GPU-${node}-${gpu}`,
    }));
    gpus.push(...mine);
    for (let k = 1; k <= RUNS; k++) {
      const start = from + STEP + (k - 1) * EVERY;
      runs.push({
        job: `user${j % 97}~job${j}-${k}`,
        user: `user${j % 97}`,
        gpus: mine,
        start,
        end: start + RUN_SECONDS,
        utilization: (i) => (i === 0 ? 0.7 : 0.01),
        memory: (i) => (i === 0 ? 20 + (j % 40) : 1) * GIB,
      });
    }
  }
  return { from, to, stepSeconds: STEP, gpus: gpus.map((g) => ({ ...g, totalBytes: 80 * GIB })), runs };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

export async function benchRightsize(repeats = 5): Promise<RightsizeBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-bench-rightsize-'));
  const to = Math.floor(Date.now() / 60_000) * 60 - 600;
  const h = benchHistory(to);
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  try {
    const started = Date.now();
    const samples = await writeOpenMetrics(join(dir, 'history.om'), h);
    await backfill(dir, 'history.om');
    await rm(join(dir, 'history.om'));
    const backfillSeconds = (Date.now() - started) / 1000;
    prometheus = await startPrometheus(dir);
    const options: RightsizeOptions = {
      prometheus: { url: prometheus.url, timeoutMs: 120_000 },
      at: to,
      lookbackSeconds: to - h.from,
      stepSeconds: 120,
      runSuffix: DEFAULT_RUN_SUFFIX,
      minRuns: 10,
      headroom: 20,
      gpuHeadroom: 0,
      busyQuantile: 0.95,
      busyThreshold: 0.1,
      minDurationRatio: 0.5,
      gpusPerNode: 8,
      layout: [],
    };
    const secondsEach: number[] = [];
    let report;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      report = await rightsize(options);
      secondsEach.push((performance.now() - t0) / 1000);
    }
    const recs = report?.recommendations ?? [];
    const recommended = recs.filter((r) => r.recommendedGpus !== undefined).length;
    const wrong = recs.filter((r) => r.recommendedGpus !== 1 || r.requestedGpus !== GPUS_PER_JOB).length;
    return {
      jobs: recs.length,
      runs: h.runs.length,
      gpus: h.gpus.length,
      samples,
      backfillSeconds,
      secondsEach,
      medianSeconds: median(secondsEach),
      recommended,
      wrong,
    };
  } finally {
    await prometheus?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function printRightsize(r: RightsizeBenchResult): void {
  console.log(
    `history: ${r.jobs} recurring jobs, ${r.runs} runs on ${r.gpus} GPUs, ${r.samples} samples, backfilled in ${r.backfillSeconds.toFixed(0)} s (not counted)`,
  );
  console.log(
    `rightsize: median ${r.medianSeconds.toFixed(2)} s over ${r.secondsEach.length} runs (${r.secondsEach.map((s) => s.toFixed(2)).join(', ')}); goal < 10 s`,
  );
  console.log(`${r.recommended} recommendations, ${r.wrong} different from the 1 busy GPU each job was built with`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) printRightsize(await benchRightsize(Number(process.argv[2] ?? 5)));
