/**
 * The labelled corpus of the alert quality report: replay traces of healthy nodes, of blips that
 * recover by themselves (each shorter than its alert's `for`, or too small for its threshold), and
 * of real faults of every alert kind the replay can produce. Each case is one node (two for the
 * cluster-capacity case) of 4 recorded busy H100s; a fault starts FAULT_AT seconds after the
 * node's exporter starts, so Prometheus has a healthy history before it.
 *
 * Every alert a case expects is listed with the labels that identify it, and — where the rule
 * averages over a window or waits for a threshold of time — `fillSeconds`: how long after the fault
 * the rule's condition holds by its definition. Time-to-detect is counted from that moment.
 * Any other alert on a case's nodes, jobs or cluster is a false page.
 */

/** Seconds after a node's start at which its fault (or blip) begins. */
export const FAULT_AT = 20;

/** The policies, with every `for` and window scaled from minutes and hours down to seconds. */
export const QUALITY_POLICIES = {
  jobLowUtilization: { threshold: 0.1, window: '20s', for: '10s', exempt: { jobs: ['.*~interactive-.*'] } },
  jobRunningTooLong: { threshold: '1d', for: '5s', overrides: [] },
  gpuExternalProcess: { for: '10s' },
  eccUncorrectable: { window: '60s', for: '5s' },
  eccCorrectableStorm: { threshold: 100, window: '60s', for: '10s' },
  rowRemapPendingOrFailed: { for: '10s' },
  retiredPagesNearLimit: { threshold: 48, for: '10s' },
  xidErrors: { for: '5s', window: '60s', classes: { application: { enabled: true } } },
  thermalSlowdown: { threshold: 0.5, window: '20s', for: '10s' },
  powerSlowdown: { threshold: 0.5, window: '20s', for: '10s' },
  gpuTemperature: { threshold: 85, for: '15s' },
  nodeGpusMissing: { for: '10s' },
  clusterGpusUnavailable: { threshold: 0.2, for: '10s' },
  exporterDown: { for: '10s' },
  exporterCollectionFailing: { for: '10s' },
  exporterStale: { threshold: '10s', for: '5s' },
  exporterAbsent: { for: '15s' },
} as const;

export type CaseKind = 'healthy' | 'blip' | 'fault';

export interface Expectation {
  alert: string;
  /** Labels the alert must carry (node, gpu, job, xid ...). */
  labels?: Record<string, string>;
  /** Seconds after the fault at which the rule's condition holds (windows, thresholds of time). */
  fillSeconds?: number;
  /** The condition holds from the node's start (e.g. a job that was already too old), or from Prometheus' start if that is later. */
  fromStart?: boolean;
}

export interface ScenarioJob {
  job: string;
  vc?: string;
  priority?: 'prod' | 'test' | 'default' | 'oppo';
  gpus: number[];
  startedAgo?: string;
}

/** A replay scenario event (exporter/backends/replay/scenario.ts), times in seconds. */
export interface ScenarioEvent {
  at: number;
  until?: number;
  gpus?: number[];
  set?: Record<string, number>;
  add?: Record<string, number>;
  remove?: true;
  fault?: 'hang' | 'garbage';
  xid?: number;
  external?: true;
}

export interface NodeTrace {
  jobs?: ScenarioJob[];
  events?: ScenarioEvent[];
  /** The exporter process itself stops at `at` (and starts again at `until`). */
  exporterStops?: { at: number; until?: number };
}

export interface QualityCase {
  name: string;
  kind: CaseKind;
  description: string;
  /** One trace per node; the nodes are named `<case>` (one node) or `<case>-<i>`. */
  nodes: NodeTrace[];
  /** The case has a cluster of its own (for cluster-wide alerts). */
  ownCluster?: boolean;
  expect: Expectation[];
}

const busyJob = (name: string, gpus = [0, 1, 2, 3]): ScenarioJob => ({ job: name, priority: 'prod', gpus, startedAgo: '2h' });
const single = (trace: NodeTrace): NodeTrace[] => [trace];
const during = (seconds: number) => ({ at: FAULT_AT, until: FAULT_AT + seconds });
const from = { at: FAULT_AT };

export const CORPUS: readonly QualityCase[] = [
  // Healthy: busy or idle nodes, and near misses that must stay quiet.
  { name: 'healthy-busy', kind: 'healthy', description: 'one production job on all 4 GPUs', nodes: single({ jobs: [busyJob('hana~pretrain')] }), expect: [] },
  {
    name: 'healthy-two-jobs',
    kind: 'healthy',
    description: 'two jobs sharing the node',
    nodes: single({ jobs: [busyJob('ivan~ft-a', [0, 1]), busyJob('ivan~ft-b', [2, 3])] }),
    expect: [],
  },
  { name: 'healthy-no-jobs', kind: 'healthy', description: 'no job placed on the node', nodes: single({}), expect: [] },
  {
    name: 'healthy-interactive',
    kind: 'healthy',
    description: 'an exempt interactive job at 0 % utilization the whole time',
    nodes: single({ jobs: [busyJob('jane~interactive-notebook', [0])], events: [{ at: 0, gpus: [0], set: { utilizationRatio: 0 } }] }),
    expect: [],
  },
  {
    name: 'healthy-warm',
    kind: 'healthy',
    description: 'every GPU at 84 °C, 1 °C under the threshold',
    nodes: single({ events: [{ at: 0, set: { temperatureCelsius: 84 } }] }),
    expect: [],
  },
  {
    name: 'healthy-power-cap',
    kind: 'healthy',
    description: 'the everyday software power cap active the whole time (not a power slowdown reason)',
    nodes: single({ events: [{ at: 0, set: { 'clockEventReasons.sw_power_cap': 1 } }] }),
    expect: [],
  },
  {
    name: 'healthy-corrected-trickle',
    kind: 'healthy',
    description: '40 corrected ECC errors in the window, under the storm threshold of 100',
    nodes: single({
      events: [
        { at: FAULT_AT, gpus: [1], add: { 'ecc.correctedVolatile': 20 } },
        { at: FAULT_AT + 10, gpus: [1], add: { 'ecc.correctedVolatile': 20 } },
      ],
    }),
    expect: [],
  },

  // Blips: real excursions that end before the alert's `for`, or stay under its threshold.
  {
    name: 'blip-temperature',
    kind: 'blip',
    description: '97 °C for 5 s (for: 15 s)',
    nodes: single({ events: [{ ...during(5), gpus: [0], set: { temperatureCelsius: 97 } }] }),
    expect: [],
  },
  {
    name: 'blip-gpu-off-bus',
    kind: 'blip',
    description: 'GPU 1 off the bus for 5 s (for: 10 s)',
    nodes: single({ events: [{ ...during(5), gpus: [1], remove: true }] }),
    expect: [],
  },
  {
    name: 'blip-thermal',
    kind: 'blip',
    description: 'hardware thermal slowdown for 6 s of a 20 s window (threshold: half)',
    nodes: single({ events: [{ ...during(6), gpus: [2], set: { 'clockEventReasons.hw_thermal_slowdown': 1 } }] }),
    expect: [],
  },
  {
    name: 'blip-power-brake',
    kind: 'blip',
    description: 'power brake slowdown for 6 s of a 20 s window (threshold: half)',
    nodes: single({ events: [{ ...during(6), gpus: [3], set: { 'clockEventReasons.hw_power_brake_slowdown': 1 } }] }),
    expect: [],
  },
  {
    name: 'blip-idle-job',
    kind: 'blip',
    description: "a job's GPUs idle for 8 s of a 20 s window (threshold: 10 % busy)",
    nodes: single({ jobs: [busyJob('kim~train')], events: [{ ...during(8), set: { utilizationRatio: 0 } }] }),
    expect: [],
  },
  {
    name: 'blip-collection',
    kind: 'blip',
    description: 'nvidia-smi printing garbage for 4 s (for: 10 s)',
    nodes: single({ events: [{ ...during(4), fault: 'garbage' }] }),
    expect: [],
  },
  {
    name: 'blip-external',
    kind: 'blip',
    description: 'a process outside any job on GPU 0 for 5 s (for: 10 s)',
    nodes: single({ events: [{ ...during(5), gpus: [0], external: true }] }),
    expect: [],
  },
  {
    name: 'blip-exporter-restart',
    kind: 'blip',
    description: 'the exporter down for 4 s, then back (for: 10 s)',
    nodes: single({ exporterStops: during(4) }),
    expect: [],
  },

  // Faults: one per alert kind the replay can produce.
  {
    name: 'fault-ecc-uncorrectable',
    kind: 'fault',
    description: 'an uncorrectable ECC error on GPU 2',
    nodes: single({ events: [{ ...from, gpus: [2], add: { 'ecc.uncorrectedVolatile': 1, 'ecc.uncorrectedAggregate': 1 } }] }),
    expect: [{ alert: 'GpuEccUncorrectable', labels: { gpu: '2' } }],
  },
  {
    name: 'fault-ecc-storm',
    kind: 'fault',
    description: '500 corrected ECC errors on GPU 0',
    nodes: single({ events: [{ ...from, gpus: [0], add: { 'ecc.correctedVolatile': 500, 'ecc.correctedAggregate': 500 } }] }),
    expect: [{ alert: 'GpuEccCorrectableStorm', labels: { gpu: '0' } }],
  },
  {
    name: 'fault-remap-pending',
    kind: 'fault',
    description: 'a row remap pending on GPU 1',
    nodes: single({ events: [{ ...from, gpus: [1], set: { 'remappedRows.pending': 1 } }] }),
    expect: [{ alert: 'GpuRowRemapPending', labels: { gpu: '1' } }],
  },
  {
    name: 'fault-remap-failed',
    kind: 'fault',
    description: 'a failed row remap on GPU 3',
    nodes: single({ events: [{ ...from, gpus: [3], set: { 'remappedRows.failure': 1 } }] }),
    expect: [{ alert: 'GpuRowRemapFailed', labels: { gpu: '3' } }],
  },
  {
    name: 'fault-retired-pages',
    kind: 'fault',
    description: '50 pages retired on GPU 2 (threshold 48)',
    nodes: single({ events: [{ ...from, gpus: [2], add: { 'retiredPages.doubleBit': 50 } }] }),
    expect: [{ alert: 'GpuRetiredPagesNearLimit', labels: { gpu: '2' } }],
  },
  {
    name: 'fault-xid-critical',
    kind: 'fault',
    description: 'XID 79 (fallen off the bus) on GPU 1',
    nodes: single({ events: [{ ...from, gpus: [1], xid: 79 }] }),
    expect: [{ alert: 'GpuXidError', labels: { gpu: '1', xid: '79' } }],
  },
  {
    name: 'fault-xid-application',
    kind: 'fault',
    description: "XID 13 (a job's own fault) on GPU 0",
    nodes: single({ events: [{ ...from, gpus: [0], xid: 13 }] }),
    expect: [{ alert: 'GpuXidError', labels: { gpu: '0', xid: '13' } }],
  },
  {
    name: 'fault-xid-other',
    kind: 'fault',
    description: 'XID 109 (in neither list) on GPU 3',
    nodes: single({ events: [{ ...from, gpus: [3], xid: 109 }] }),
    expect: [{ alert: 'GpuXidError', labels: { gpu: '3', xid: '109' } }],
  },
  {
    name: 'fault-thermal',
    kind: 'fault',
    description: 'hardware thermal slowdown on GPU 2 from then on',
    nodes: single({ events: [{ ...from, gpus: [2], set: { 'clockEventReasons.hw_thermal_slowdown': 1 } }] }),
    // Active more than half of the 20 s window.
    expect: [{ alert: 'GpuThermalSlowdown', labels: { gpu: '2' }, fillSeconds: 10 }],
  },
  {
    name: 'fault-power-brake',
    kind: 'fault',
    description: 'power brake slowdown on GPU 0 from then on',
    nodes: single({ events: [{ ...from, gpus: [0], set: { 'clockEventReasons.hw_power_brake_slowdown': 1 } }] }),
    expect: [{ alert: 'GpuPowerSlowdown', labels: { gpu: '0' }, fillSeconds: 10 }],
  },
  {
    name: 'fault-temperature',
    kind: 'fault',
    description: 'GPU 3 at 97 °C from then on',
    nodes: single({ events: [{ ...from, gpus: [3], set: { temperatureCelsius: 97 } }] }),
    expect: [{ alert: 'GpuTemperatureHigh', labels: { gpu: '3' } }],
  },
  {
    name: 'fault-gpu-off-bus',
    kind: 'fault',
    description: 'GPU 2 off the bus for good',
    nodes: single({ events: [{ ...from, gpus: [2], remove: true }] }),
    expect: [{ alert: 'NodeGpusMissing' }],
  },
  {
    name: 'fault-idle-job',
    kind: 'fault',
    description: "a job's 4 GPUs at 0 % utilization from then on",
    nodes: single({ jobs: [busyJob('lars~stuck-train')], events: [{ ...from, set: { utilizationRatio: 0 } }] }),
    // The 20 s average falls under 10 % once 90 % of the window is idle.
    expect: [{ alert: 'GpuJobLowUtilization', labels: { job: 'lars~stuck-train' }, fillSeconds: 18 }],
  },
  {
    name: 'fault-long-job',
    kind: 'fault',
    description: 'a job started 2 days ago (threshold 1 day)',
    nodes: single({ jobs: [{ ...busyJob('mia~forever'), startedAgo: '2d' }] }),
    expect: [{ alert: 'GpuJobRunningTooLong', labels: { job: 'mia~forever' }, fromStart: true }],
  },
  {
    name: 'fault-external',
    kind: 'fault',
    description: 'a process outside any job on GPU 1 from then on',
    nodes: single({ events: [{ ...from, gpus: [1], external: true }] }),
    expect: [{ alert: 'GpuExternalProcess', labels: { gpu: '1' } }],
  },
  {
    name: 'fault-collection',
    kind: 'fault',
    description: 'nvidia-smi printing garbage from then on',
    nodes: single({ events: [{ ...from, fault: 'garbage' }] }),
    expect: [
      { alert: 'ExporterCollectionFailing', labels: { source: 'gpu' } },
      // Nothing succeeds any more: the last success ages past the 10 s threshold.
      { alert: 'ExporterStale', labels: { source: 'gpu' }, fillSeconds: 10 },
    ],
  },
  {
    name: 'fault-hang',
    kind: 'fault',
    description: 'the GPU source hangs from then on: every read times out after 3 s',
    nodes: single({ events: [{ ...from, fault: 'hang' }] }),
    expect: [
      // The first read times out after the 3 s timeout; the last success then ages past 10 s.
      { alert: 'ExporterCollectionFailing', labels: { source: 'gpu' }, fillSeconds: 3 },
      { alert: 'ExporterStale', labels: { source: 'gpu' }, fillSeconds: 10 },
    ],
  },
  {
    name: 'fault-exporter-down',
    kind: 'fault',
    description: 'the exporter process stops for good',
    nodes: single({ exporterStops: from }),
    expect: [{ alert: 'ExporterDown' }],
  },
  {
    name: 'fault-cluster-gpus',
    kind: 'fault',
    // One node is never a cluster outage: the cluster alert needs more GPUs gone than its largest node has.
    description: 'a 3-node cluster of its own: two nodes lose all 4 GPUs (two thirds of the cluster)',
    ownCluster: true,
    nodes: [{ events: [{ ...from, remove: true }] }, { events: [{ ...from, remove: true }] }, {}],
    expect: [
      { alert: 'NodeGpusMissing', labels: { node: 'fault-cluster-gpus-0' } },
      { alert: 'NodeGpusMissing', labels: { node: 'fault-cluster-gpus-1' } },
      { alert: 'ClusterGpusUnavailable' },
    ],
  },
];

/** The alerts the replay cannot produce, and where they are tested instead. */
export const NOT_INJECTED: Record<string, string> = {
  ExporterAbsent: 'every layout worker gets an exporter and a scrape target here; promtool unit tests',
  NodeDown: 'needs kube-state-metrics; promtool unit tests',
  NodeDiskFull: 'host metrics are off in replay; promtool unit tests',
  SharedFilesystemFull: 'host metrics are off in replay; promtool unit tests',
  NodeMemoryPressure: 'host metrics are off in replay; promtool unit tests',
  PrometheusRuleEvaluationFailures: 'a fault of Prometheus itself; promtool unit tests',
  PrometheusNotificationsDropped: 'a fault of Prometheus itself; promtool unit tests',
  PrometheusConfigReloadFailed: 'a fault of Prometheus itself; promtool unit tests',
  AlertmanagerNotificationsFailing: 'no Alertmanager in this run; promtool unit tests',
  AlertmanagerConfigReloadFailed: 'no Alertmanager in this run; promtool unit tests',
};

/** The node names of a case. */
export function nodesOf(c: QualityCase): string[] {
  return c.nodes.length === 1 ? [c.name] : c.nodes.map((_, i) => `${c.name}-${i}`);
}

/** Every node of the corpus with its trace. */
export function nodeTraces(corpus: readonly QualityCase[] = CORPUS): Map<string, NodeTrace> {
  return new Map(corpus.flatMap((c) => nodesOf(c).map((node, i) => [node, c.nodes[i] as NodeTrace] as const)));
}
