/**
 * The alert policies of gpuwatch.yaml: a fixed set, each with complete defaults, so `policies:` with
 * nothing under it yields the whole rule set. A policy only has the fields that mean something for it
 * (a threshold where there is one, exemptions and actions for job policies); anything else is an error.
 *
 * Units follow the metrics: utilization and shares are 0-1 ratios, temperatures in °C, durations
 * in Prometheus form. Thresholds are "alert when above", except jobLowUtilization ("below").
 */
import { z } from 'zod';
import { CLOCK_EVENT_REASONS } from '../catalog/clock-event-reasons.js';
import { duration } from './duration-field.js';
import {
  actionSchema,
  clusterOverrides,
  clusterOverridesNoThreshold,
  common,
  count,
  exemptSchema,
  jobOverrides,
  ratio,
  ratioBelowOne,
  section,
  severity,
} from './policy-fields.js';

const strictSection = <T extends z.ZodRawShape>(shape: T) => section(z.object(shape).strict());

const clockEventReasons = z.array(z.enum(CLOCK_EVENT_REASONS)).min(1);

/**
 * XID classes (NVIDIA's XID catalog): "critical" means the GPU needs a reset or service and the jobs
 * on it die (154: "GPU reset required"); "application" XIDs are normally caused by the job's own code; every other XID is "other".
 */
export const CRITICAL_XIDS = [48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 154] as const;
export const APPLICATION_XIDS = [13, 31, 43, 45, 68] as const;

const xidClass = (defaults: { xids: readonly number[]; severity: 0 | 1 | 2 | 3; enabled: boolean }) =>
  strictSection({
    enabled: z.boolean().default(defaults.enabled),
    xids: z.array(z.number().int().positive()).default([...defaults.xids]),
    severity: severity.default(defaults.severity),
  });

export const policiesSchema = strictSection({
  /**
   * A job's GPUs, averaged over the window, are busy less than `threshold` of the time, or at least
   * `idleGpuShare` of its GPUs are each busy less than `threshold` over the window.
   */
  jobLowUtilization: strictSection({
    ...common({ for: '30m', severity: 3 }),
    threshold: ratio.default(0.1),
    idleGpuShare: ratio.default(0.5),
    window: duration.default('1h'),
    exempt: exemptSchema,
    action: actionSchema,
    overrides: jobOverrides(ratio),
  }),
  /** A job has run longer than `threshold` (per priority via overrides: oppo jobs get less). */
  jobRunningTooLong: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: duration.default('7d'),
    exempt: exemptSchema,
    action: actionSchema,
    overrides: jobOverrides(duration).default([{ priority: 'oppo', threshold: '2d' }]),
  }),
  /** A process outside any container (so outside any job) uses a GPU. */
  gpuExternalProcess: strictSection({ ...common({ for: '10m', severity: 3 }), overrides: clusterOverridesNoThreshold }),
  /** Any new uncorrectable ECC error within the window. */
  eccUncorrectable: strictSection({
    ...common({ for: '1m', severity: 2 }),
    window: duration.default('30m'),
    overrides: clusterOverridesNoThreshold,
  }),
  /** More than `threshold` corrected ECC errors within the window. */
  eccCorrectableStorm: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: count.default(100),
    window: duration.default('1h'),
    overrides: clusterOverrides(count),
  }),
  /** A row remap waits for a GPU reset, or a remap failed (the GPU needs service). */
  rowRemapPendingOrFailed: strictSection({ ...common({ for: '5m', severity: 2 }), overrides: clusterOverridesNoThreshold }),
  /** Retired pages (sbe + dbe) reached `threshold`; the device can retire at most 64. */
  retiredPagesNearLimit: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: count.default(48),
    overrides: clusterOverrides(count),
  }),
  /** A page retirement waits for a GPU reset (older GPUs without row remapping). */
  retiredPagesPending: strictSection({ ...common({ for: '5m', severity: 2 }), overrides: clusterOverridesNoThreshold }),
  /** The driver reports that a GPU needs a reset (gpuwatch_gpu_state{state="reset_required"}). */
  gpuResetRequired: strictSection({ ...common({ for: '1m', severity: 2 }), overrides: clusterOverridesNoThreshold }),
  /** More than `threshold` PCIe replays within the window: a bad link, riser or slot. */
  pcieReplays: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: count.default(100),
    window: duration.default('1h'),
    overrides: clusterOverrides(count),
  }),
  /** Device memory (HBM) temperature above `threshold` °C (H100 HBM3 is specified up to 95 °C). */
  memoryTemperature: strictSection({
    ...common({ for: '10m', severity: 3 }),
    threshold: z.number().default(90),
    overrides: clusterOverrides(z.number()),
  }),
  /** A GPU a job holds stayed in a performance state above P`threshold` (P0 is the fastest) for the whole window. */
  lowPerformanceState: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: z.number().int().min(0).max(14).default(2),
    window: duration.default('15m'),
    overrides: clusterOverrides(z.number().int().min(0).max(14)),
  }),
  /** More than `threshold` bytes of a GPU's memory are used while no process holds any (leaked memory). */
  memoryWithoutProcess: strictSection({
    ...common({ for: '15m', severity: 3 }),
    threshold: count.default(1024 ** 3),
    overrides: clusterOverrides(count),
  }),
  /** XID events within the window, one alert per class. */
  xidErrors: strictSection({
    enabled: z.boolean().default(true),
    for: duration.default('1m'),
    window: duration.default('10m'),
    classes: strictSection({
      critical: xidClass({ xids: CRITICAL_XIDS, severity: 2, enabled: true }),
      application: xidClass({ xids: APPLICATION_XIDS, severity: 3, enabled: false }),
      /** Every XID in neither list above. */
      other: strictSection({ enabled: z.boolean().default(true), severity: severity.default(3) }),
    }),
    overrides: clusterOverridesNoThreshold,
  }),
  /** A thermal clock-event reason was active more than `threshold` of the window. */
  thermalSlowdown: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: ratioBelowOne.default(0.5),
    window: duration.default('15m'),
    reasons: clockEventReasons.default(['hw_thermal_slowdown', 'sw_thermal_slowdown']),
    overrides: clusterOverrides(ratioBelowOne),
  }),
  /**
   * A power clock-event reason (the power brake; not the everyday power cap, and not hw_slowdown,
   * which NVML also sets on heat) was active more than `threshold` of the window.
   */
  powerSlowdown: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: ratioBelowOne.default(0.5),
    window: duration.default('15m'),
    reasons: clockEventReasons.default(['hw_power_brake_slowdown']),
    overrides: clusterOverrides(ratioBelowOne),
  }),
  /** GPU core temperature above `threshold` °C. */
  gpuTemperature: strictSection({
    ...common({ for: '10m', severity: 3 }),
    threshold: z.number().default(85),
    overrides: clusterOverrides(z.number()),
  }),
  /** A node reports fewer GPUs than its SKU in layout.yaml (a GPU fell off the bus). */
  nodeGpusMissing: strictSection({ ...common({ for: '5m', severity: 2 }), overrides: clusterOverridesNoThreshold }),
  /**
   * More than `threshold` of a cluster's GPUs (layout.yaml), and more than its largest node has, are
   * not seen by any exporter. `severity` applies to production clusters, `nonProductionSeverity`
   * to staging and dev ones (a cluster override's severity wins over both).
   */
  clusterGpusUnavailable: strictSection({
    ...common({ for: '5m', severity: 0 }),
    nonProductionSeverity: severity.default(2),
    threshold: ratioBelowOne.default(0.2),
    overrides: clusterOverrides(ratioBelowOne),
  }),
  /** Prometheus cannot scrape a node's exporter. */
  exporterDown: strictSection({ ...common({ for: '5m', severity: 3 }), overrides: clusterOverridesNoThreshold }),
  /** An exporter source (gpu, attribution, host) fails its collections. */
  exporterCollectionFailing: strictSection({ ...common({ for: '10m', severity: 3 }), overrides: clusterOverridesNoThreshold }),
  /** An exporter source's last success is older than `threshold`. */
  exporterStale: strictSection({
    ...common({ for: '5m', severity: 3 }),
    threshold: duration.default('5m'),
    overrides: clusterOverrides(duration),
  }),
  /** A layout.yaml worker has no exporter at all: no scrape target and no series. */
  exporterAbsent: strictSection({ ...common({ for: '15m', severity: 3 }), overrides: clusterOverridesNoThreshold }),
  /**
   * Prometheus itself: rule evaluation failures, dropped notifications, a failed config reload. With
   * `scale: {engine: victoriametrics}` the same knobs drive scale/rules/central.yml's checks of the
   * engine that takes Prometheus's place: vmalert, the vmagent shards and VictoriaMetrics.
   */
  prometheusSelfCheck: strictSection({ ...common({ for: '15m', severity: 2 }), window: duration.default('10m') }),
  /** Alertmanager itself: failed notifications, a failed config reload. */
  alertmanagerSelfCheck: strictSection({ ...common({ for: '15m', severity: 2 }), window: duration.default('10m') }),
  /** Kubernetes reports a layout.yaml node not Ready (kube-state-metrics). */
  nodeDown: strictSection({ ...common({ for: '5m', severity: 2 }), overrides: clusterOverridesNoThreshold }),
  /** A file system is more than `threshold` full; shared ones (NFS, ...) alert once per cluster. */
  diskFull: strictSection({
    ...common({ for: '10m', severity: 2 }),
    threshold: ratioBelowOne.default(0.9),
    /** File system types, or a prefix ending in `*` (`fuse.*`: every FUSE file system). */
    sharedFsTypes: z
      .array(z.string().regex(/^[A-Za-z0-9_.]+\*?$/, 'a file system type such as nfs4, or a prefix ending in * such as fuse.*'))
      .default(['nfs', 'nfs4', 'cifs', 'smb3', 'ceph', 'cephfs', 'glusterfs', 'lustre', 'beegfs', 'gpfs', 'wekafs', 'fuse.*']),
    overrides: clusterOverrides(ratioBelowOne),
  }),
  /** Host memory more than `threshold` used. */
  memoryPressure: strictSection({
    ...common({ for: '10m', severity: 3 }),
    threshold: ratioBelowOne.default(0.95),
    overrides: clusterOverrides(ratioBelowOne),
  }),
});

export type Policies = z.output<typeof policiesSchema>;
export type PolicyName = keyof Policies;
