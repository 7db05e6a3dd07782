/**
 * The synthetic cluster the rule-evaluation benchmarks share (bench/rules-eval.ts with one
 * Prometheus, bench/scale.ts with VictoriaMetrics and vmalert): nodes with their layout.yaml, a
 * deterministic job model, and every series the generated rules read, as the exporter (with the
 * generated scrape config), Prometheus and kube-state-metrics would store them.
 *
 * Jobs repeat over blocks of 40 nodes: one job on 4 whole nodes, one on 2, four whole-node jobs and
 * eight 2-GPU jobs (30% of the GPUs in multi-GPU jobs); on the other 28 nodes each GPU runs its own
 * single-GPU job or, for about one GPU in seven (10% of all GPUs), none. No Math.random: every run
 * sees the same cluster. A few GPUs run hot, throttle, count ECC errors or XIDs, or are allocated but
 * idle, so alerts fire too. The fractions hold from a few blocks on (a last, partial block starts with the multi-GPU jobs).
 */

export const CLUSTER = 'bench';
const STATES = ['ok', 'reset_required', 'not_ready', 'unknown_error'];
const REASONS = ['hw_thermal_slowdown', 'sw_thermal_slowdown', 'hw_power_brake_slowdown', 'hw_slowdown'];

export interface Node {
  name: string;
  ip: string;
}

export const nodeAt = (i: number): Node => ({
  name: `node-${String(i).padStart(5, '0')}`,
  ip: `10.${100 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`,
});

export function layoutYaml(nodes: number, gpus: number): string {
  const lines = ['machine-sku:', `  gpu${gpus}:`, `    computing-device: {type: nvidia.com/gpu, model: H100, count: ${gpus}}`, 'machine-list:'];
  for (let i = 0; i < nodes; i++) {
    const n = nodeAt(i);
    lines.push(`  - {hostname: ${n.name}, hostip: ${n.ip}, machine-type: gpu${gpus}, pai-worker: "true"}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A deterministic 0..1 value from integers (no Math.random: runs are comparable). */
export function hash01(...parts: number[]): number {
  let h = 2166136261;
  for (const p of parts) h = Math.imul(h ^ p, 16777619) >>> 0;
  return (h % 10007) / 10007;
}

// ---------------------------------------------------------------- jobs

const BLOCK = 40;
/** Ids per block: room for every job a block can hold (at most 14 + 28 × gpus). */
const idsPerBlock = (gpus: number) => 16 + 28 * gpus;

/** One job's share of one GPU: which job, how many GPUs it holds in all, and which of its nodes this is. */
export interface JobSlot {
  id: number;
  gpus: number;
  /** This node's index among the job's nodes (its pod). */
  part: number;
}

/**
 * The job holding GPU `g` of node `i`, or undefined when the GPU is idle. Whole-node jobs span the
 * block's first 10 nodes (4 + 2 + 1 × 4), 2-GPU jobs its next 2; single-GPU jobs the rest.
 */
export function jobAt(i: number, g: number, gpus: number, nodes: number): JobSlot | undefined {
  const p = i % BLOCK;
  const id0 = Math.floor(i / BLOCK) * idsPerBlock(gpus);
  const spanOf = (first: number, span: number) => Math.min(span, nodes - (i - p + first)) * gpus;
  if (p < 4) return { id: id0, gpus: spanOf(0, 4), part: p };
  if (p < 6) return { id: id0 + 1, gpus: spanOf(4, 2), part: p - 4 };
  if (p < 10) return { id: id0 + p - 4, gpus, part: 0 };
  if (p < 12) return { id: id0 + 6 + (p - 10) * Math.ceil(gpus / 2) + Math.floor(g / 2), gpus: Math.min(2, gpus - 2 * Math.floor(g / 2)), part: 0 };
  if (hash01(i, g, 7) < 1 / 7) return undefined;
  return { id: id0 + 16 + (p - 12) * gpus + g, gpus: 1, part: 0 };
}

export const jobLabels = (id: number) =>
  `job="user${id % 50}~train-${id}",user="user${id % 50}",vc="vc${id % 5}",priority="${['prod', 'test', 'oppo'][id % 3] ?? 'test'}"`;

/** The distinct jobs on node `i`, in GPU order. */
export function jobsOnNode(i: number, gpus: number, nodes: number): JobSlot[] {
  const seen = new Map<number, JobSlot>();
  for (let g = 0; g < gpus; g++) {
    const slot = jobAt(i, g, gpus, nodes);
    if (slot && !seen.has(slot.id)) seen.set(slot.id, slot);
  }
  return [...seen.values()];
}

export interface JobSummary {
  gpus: number;
  allocated: number;
  idle: number;
  /** GPUs held by jobs of more than one GPU. */
  inMultiGpuJobs: number;
  jobs: number;
}

/** What the job model puts on `nodes` × `gpus` GPUs. */
export function jobSummary(nodes: number, gpus: number): JobSummary {
  const s: JobSummary = { gpus: nodes * gpus, allocated: 0, idle: 0, inMultiGpuJobs: 0, jobs: 0 };
  const ids = new Set<number>();
  for (let i = 0; i < nodes; i++) {
    for (let g = 0; g < gpus; g++) {
      const slot = jobAt(i, g, gpus, nodes);
      if (!slot) s.idle++;
      else {
        s.allocated++;
        if (slot.gpus > 1) s.inMultiGpuJobs++;
        ids.add(slot.id);
      }
    }
  }
  s.jobs = ids.size;
  return s;
}

// ---------------------------------------------------------------- series

/** One series of a family: its label text and its value at a Unix time (seconds). */
export interface Shape {
  labels: string;
  value(t: number): number;
}

export interface Series extends Shape {
  name: string;
}

/** Per node: index, node, its labels, GPUs per node and the node count, what the series families are made of. */
interface At {
  i: number;
  n: Node;
  base: string;
  gpus: number;
  nodes: number;
  t0: number;
}

const gpuLabels = (n: Node, g: number) => `gpu="${g}",uuid="GPU-${n.name}-${g}"`;

function perGpu(a: At, make: (g: number, gl: string) => Shape | Shape[]): Shape[] {
  const out: Shape[] = [];
  for (let g = 0; g < a.gpus; g++) out.push(...[make(g, `${a.base},${gpuLabels(a.n, g)}`)].flat());
  return out;
}

const constant = (labels: string, v: number): Shape => ({ labels, value: () => v });

function filesystems(base: string, size: (mount: number) => number): Shape[] {
  const mounts = [
    ['/', 'ext4', '/dev/nvme0n1p2'],
    ['/data', 'xfs', '/dev/nvme1n1'],
    ['/mnt/shared', 'nfs4', 'nfs-server:/export/shared'],
  ];
  return mounts.map(([mountpoint, fstype, device], m) => constant(`${base},mountpoint="${mountpoint}",fstype="${fstype}",device="${device}"`, size(m)));
}

const utilization = (a: At) =>
  perGpu(a, (g, gl) => {
    const on = jobAt(a.i, g, a.gpus, a.nodes) !== undefined;
    const scale = a.i % 40 === 0 ? 0.05 : 1; // allocated but (nearly) idle: a node of a multi-node job
    return { labels: gl, value: (t) => (on ? (0.3 + 0.6 * hash01(a.i, g, Math.floor(t / 600))) * scale : 0) };
  });

const eccErrors = (a: At) =>
  perGpu(a, (_g, gl) =>
    ['corrected', 'uncorrected'].flatMap((type) =>
      ['volatile', 'aggregate'].map((scope) => ({
        labels: `${gl},type="${type}",scope="${scope}"`,
        value: (t: number) => (type === 'corrected' && a.i % 100 === 0 ? Math.floor((t - a.t0) / 10) + 5000 : 0),
      })),
    ),
  );

const allocated = (a: At) =>
  perGpu(a, (g, gl) => {
    const slot = jobAt(a.i, g, a.gpus, a.nodes);
    return slot ? [constant(`${gl},${jobLabels(slot.id)},pod="train-${slot.id}-worker-${slot.part}",namespace="default"`, 1)] : [];
  });

/** One process per allocated GPU, in its job's container. */
const processMemory = (a: At) =>
  perGpu(a, (g, gl) => {
    const slot = jobAt(a.i, g, a.gpus, a.nodes);
    return slot ? [constant(`${gl},pid="${1000 + g}",job="user${slot.id % 50}~train-${slot.id}",container="worker"`, 2 ** 35)] : [];
  });

const startTimes = (a: At) =>
  jobsOnNode(a.i, a.gpus, a.nodes).map((j) => constant(`${a.base},${jobLabels(j.id)}`, a.t0 - Math.floor(hash01(j.id) * 10 * 86400)));

const sources = (a: At, value: (t: number) => number) => ['gpu', 'attribution', 'host'].map((source) => ({ labels: `${a.base},source="${source}"`, value }));

const FAMILIES: [string, (a: At) => Shape[]][] = [
  ['gpuwatch_gpu_utilization_ratio', utilization],
  ['gpuwatch_gpu_temperature_celsius', (a) => perGpu(a, (g, gl) => constant(gl, a.i % 300 === 0 && g === 0 ? 91 : 40 + Math.round(30 * hash01(a.i, g))))],
  [
    'gpuwatch_gpu_clock_event_active',
    (a) => perGpu(a, (_g, gl) => REASONS.map((reason, r) => constant(`${gl},reason="${reason}"`, a.i % 500 === 0 && r === 0 ? 1 : 0))),
  ],
  ['gpuwatch_gpu_ecc_errors_total', eccErrors],
  ['gpuwatch_gpu_row_remap_pending', (a) => perGpu(a, (_g, gl) => constant(gl, 0))],
  ['gpuwatch_gpu_row_remap_failed', (a) => perGpu(a, (_g, gl) => constant(gl, 0))],
  ['gpuwatch_gpu_retired_pages_total', (a) => perGpu(a, (_g, gl) => ['sbe', 'dbe'].map((cause) => constant(`${gl},cause="${cause}"`, 0)))],
  ['gpuwatch_gpu_external_processes', (a) => perGpu(a, (g, gl) => constant(gl, a.i % 200 === 0 && g === 1 ? 1 : 0))],
  [
    'gpuwatch_gpu_xid_errors_total',
    (a) => (a.i % 100 === 7 ? [{ labels: `${a.base},${gpuLabels(a.n, 0)},xid="13"`, value: (t) => 1 + Math.floor((t - a.t0 + 7200) / 1800) }] : []),
  ],
  ['gpuwatch_gpu_memory_used_bytes', (a) => perGpu(a, (g, gl) => constant(gl, jobAt(a.i, g, a.gpus, a.nodes) ? 2 ** 36 * (0.2 + 0.7 * hash01(a.i, g, 3)) : 0))],
  ['gpuwatch_gpu_memory_temperature_celsius', (a) => perGpu(a, (g, gl) => constant(gl, 45 + Math.round(25 * hash01(a.i, g, 5))))],
  ['gpuwatch_gpu_performance_state', (a) => perGpu(a, (g, gl) => constant(gl, jobAt(a.i, g, a.gpus, a.nodes) ? 0 : 8))],
  ['gpuwatch_gpu_pcie_replays_total', (a) => perGpu(a, (_g, gl) => constant(gl, 0))],
  ['gpuwatch_gpu_retired_pages_pending', (a) => perGpu(a, (_g, gl) => constant(gl, 0))],
  ['gpuwatch_gpu_state', (a) => perGpu(a, (_g, gl) => STATES.map((state) => constant(`${gl},state="${state}"`, state === 'ok' ? 1 : 0)))],
  ['gpuwatch_gpu_process_memory_used_bytes', processMemory],
  ['gpuwatch_job_gpu_allocated', allocated],
  ['gpuwatch_job_start_time_seconds', startTimes],
  ['gpuwatch_node_gpus', (a) => [constant(a.base, a.i % 400 === 0 ? a.gpus - 1 : a.gpus)]],
  ['gpuwatch_node_expected_gpus', (a) => [constant(a.base, a.gpus)]],
  ['gpuwatch_exporter_build_info', (a) => [constant(`${a.base},version="0.1.0",backend="nvml"`, 1)]],
  ['gpuwatch_exporter_source_up', (a) => sources(a, () => 1)],
  ['gpuwatch_exporter_last_success_timestamp_seconds', (a) => sources(a, (t) => t - 5)],
  ['gpuwatch_node_filesystem_size_bytes', (a) => filesystems(a.base, () => 2 ** 41)],
  ['gpuwatch_node_filesystem_available_bytes', (a) => filesystems(a.base, (m) => 2 ** 41 * (m === 2 ? 0.3 : 0.2 + 0.7 * hash01(a.i, m)))],
  ['gpuwatch_node_memory_total_bytes', (a) => [constant(a.base, 2 ** 41)]],
  ['gpuwatch_node_memory_available_bytes', (a) => [constant(a.base, 2 ** 41 * (0.1 + 0.8 * hash01(a.i, 99)))]],
  ['up', (a) => [constant(`${a.base},job="gpuwatch"`, 1)]],
  [
    'kube_node_status_condition',
    (a) => [constant(`node="${a.n.name}",condition="Ready",status="true",job="kube-state-metrics",instance="10.96.0.20:8080"`, 1)],
  ],
];

/** Every series the generated rules read, family by family; `t0` anchors the counters and job start times. */
export function* syntheticSeries(nodes: number, gpus: number, t0: number): Generator<Series> {
  for (const [name, make] of FAMILIES) {
    for (let i = 0; i < nodes; i++) {
      const n = nodeAt(i);
      const base = `cluster="${CLUSTER}",node="${n.name}",instance="${n.ip}:9445"`;
      for (const s of make({ i, n, base, gpus, nodes, t0 })) yield { ...s, name };
    }
  }
}
