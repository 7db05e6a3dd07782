/**
 * The history with known answers (the integration test's): 8 hours at 1-minute samples on three
 * 8-GPU nodes of 80 GiB GPUs, runs of 30 minutes 10 minutes apart.
 *
 * - alice~train-a-1…10: 8 GPUs, only GPUs 0 and 1 busy (80%), 10 GiB on them → 2 GPUs, 12 GiB.
 * - bob~finetune_1…10: 4 GPUs, all busy; 20 GiB, one minute of 30 GiB in run 5 → 4 GPUs, 36 GiB.
 * - carol~eval-1…9: 9 runs → no recommendation.
 * - dave~pretrain-run1…11: 8 GPUs, 4 busy, 40 GiB; run 6 fails after 9 minutes, at the end with
 *   every GPU busy and 75 GiB → left out: 4 GPUs, 48 GiB (counted, it would make 8 GPUs, 90 GiB).
 * - eve~serve-1: still running at the end → not completed.
 * Host series for node-a (alice's runs have it to themselves: 200 GiB used and 50% CPU while one
 * runs, 20 GiB and 5% between) and node-b (bob and carol share it: no host figures for them).
 */
import { GIB } from '../recommend.js';
import type { GpuRef, History, RunSpec } from './history.js';

const MINUTE = 60;
const RUN = 30 * MINUTE;
const EVERY = 40 * MINUTE;

const gpusOf = (node: string, indices: number[]): GpuRef[] => indices.map((gpu) => ({ node, gpu, uuid: `GPU-${node}-${gpu}` }));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Recurring {
  user: string;
  name: (k: number) => string;
  runs: number;
  gpus: GpuRef[];
  utilization(i: number, t: number, k: number, start: number): number;
  memory(i: number, t: number, k: number, start: number): number;
  /** Minutes the run lasts when not RUN. */
  minutes?(k: number): number | undefined;
}

function runsOf(r: Recurring, from: number): RunSpec[] {
  return range(1, r.runs).map((k) => {
    const start = from + MINUTE + (k - 1) * EVERY;
    const minutes = r.minutes?.(k);
    return {
      job: `${r.user}~${r.name(k)}`,
      user: r.user,
      gpus: r.gpus,
      start,
      end: start + (minutes === undefined ? RUN : minutes * MINUTE),
      utilization: (i, t) => r.utilization(i, t, k, start),
      memory: (i, t) => r.memory(i, t, k, start),
    };
  });
}

export function knownAnswerHistory(to: number): History {
  const from = to - 8 * 3600;
  const nodes = ['node-a', 'node-b', 'node-c', 'node-d'];
  const failedEnd = (start: number) => start + 9 * MINUTE;
  const recurring: Recurring[] = [
    {
      user: 'alice',
      name: (k) => `train-a-${k}`,
      runs: 10,
      gpus: gpusOf('node-a', range(0, 7)),
      utilization: (i) => (i < 2 ? 0.8 : 0.02),
      memory: (i) => (i < 2 ? 10 : 1) * GIB,
    },
    {
      user: 'bob',
      name: (k) => `finetune_${k}`,
      runs: 10,
      gpus: gpusOf('node-b', range(0, 3)),
      utilization: () => 0.6,
      memory: (i, t, k, start) => (k === 5 && i === 2 && t === start + 12 * MINUTE ? 30 : 20) * GIB,
    },
    { user: 'carol', name: (k) => `eval-${k}`, runs: 9, gpus: gpusOf('node-b', range(4, 7)), utilization: () => 0.5, memory: () => 5 * GIB },
    {
      user: 'dave',
      name: (k) => `pretrain-run${k}`,
      runs: 11,
      gpus: gpusOf('node-c', range(0, 7)),
      minutes: (k) => (k === 6 ? 9 : undefined),
      utilization: (i, t, k, start) => (i < 4 || (k === 6 && t >= failedEnd(start) - 2 * MINUTE) ? 0.9 : 0),
      memory: (_i, t, k, start) => (k === 6 && t >= failedEnd(start) - MINUTE ? 75 : 40) * GIB,
    },
  ];
  const eve: RunSpec = {
    job: 'eve~serve-1',
    user: 'eve',
    gpus: gpusOf('node-d', [0]),
    start: to - 2 * 3600,
    end: to,
    utilization: () => 0.3,
    memory: () => 8 * GIB,
  };
  const runs = [...recurring.flatMap((r) => runsOf(r, from)), eve];
  const during = (node: string, t: number) => runs.some((r) => r.gpus[0]?.node === node && r.start <= t && t <= r.end);
  const host = (node: string) => ({
    node,
    totalBytes: 1000 * GIB,
    used: (t: number) => (during(node, t) ? 200 : 20) * GIB,
    cpu: (t: number) => (during(node, t) ? 0.5 : 0.05),
  });
  return {
    from,
    to,
    stepSeconds: MINUTE,
    hosts: [host('node-a'), host('node-b')],
    gpus: nodes.flatMap((n) => gpusOf(n, range(0, 7))).map((g) => ({ ...g, totalBytes: 80 * GIB })),
    runs,
  };
}

/** A layout with the four 8-GPU nodes, for the config file. */
export const KNOWN_ANSWER_LAYOUT = `machine-sku:
  h100-8x:
    computing-device: {type: nvidia.com/gpu, model: H100, count: 8}
machine-list:
  - {hostname: node-a, hostip: 10.0.0.1, machine-type: h100-8x, pai-worker: "true"}
  - {hostname: node-b, hostip: 10.0.0.2, machine-type: h100-8x, pai-worker: "true"}
  - {hostname: node-c, hostip: 10.0.0.3, machine-type: h100-8x, pai-worker: "true"}
  - {hostname: node-d, hostip: 10.0.0.4, machine-type: h100-8x, pai-worker: "true"}
`;
