/**
 * The gpuwatch.yaml schema. Every section has defaults a platform team can accept without editing;
 * unknown fields are errors (a typo must not silently turn a setting off).
 */
import { z } from 'zod';
import { routerConfigSchema } from './router.js';
import { stackSchema } from './stack.js';
import { scaleSchema } from './scale.js';
import { ruleServiceConfigSchema } from './rule-service.js';
import { rightsizeSchema } from './rightsize.js';
import { alertmanagerSchema, kubernetesSchema, scrapeSchema } from './delivery.js';
import { duration } from './duration-field.js';
import { portNumber } from './fields.js';
import { DEFAULT_EXPORTER_PORT, DEFAULT_LISTEN, listenAddressWithDefault } from './listen-address.js';
import { policiesSchema } from './policies.js';
import { section } from './policy-fields.js';

export { duration };

export { DEFAULT_EXPORTER_PORT };

export const exporterSchema = z
  .object({
    listen: listenAddressWithDefault(DEFAULT_LISTEN.exporter),
    backend: z.enum(['auto', 'nvml', 'nvidia-smi', 'replay']).default('auto'),
    /** How often GPUs (fast fields), host metrics and attribution are collected. */
    interval: duration.default('10s'),
    /** How often the slow `nvidia-smi -q -x` read runs (ECC, remapped rows, processes) in nvidia-smi mode. */
    slowInterval: duration.default('60s'),
    /** Longest any single read may take before it is abandoned (and a child process killed). */
    timeout: duration.default('10s'),
    nvidiaSmi: z.string().min(1).default('nvidia-smi'),
    nvmlLibrary: z.string().min(1).default('libnvidia-ml.so.1'),
    /** Replay source: a `-q -x` XML file, a `--query-gpu` CSV, a directory of them, or a scenario YAML. */
    replay: z.string().min(1).optional(),
    /** The host's /proc as mounted in the exporter's container. */
    procRoot: z.string().min(1).default('/proc'),
    podResourcesSocket: z.string().min(1).default('/var/lib/kubelet/pod-resources/kubelet.sock'),
    podResourcesRefresh: duration.default('10s'),
    hostMetrics: z.boolean().default(true),
    /** Node name; defaults to $NODE_NAME, then the host name. */
    node: z.string().min(1).optional(),
  })
  .strict();

export const DEFAULT_ROUTER_URL = `http://${DEFAULT_LISTEN.router}/api/v1/alertmanager`;
export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/gpuwatch/gpuwatch/blob/main/docs/runbooks.md';

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lower-case letters, digits and dashes'),
    priority: z.enum(['production', 'staging', 'dev']).default('production'),
    /** OpenPAI layout.yaml, relative to gpuwatch.yaml. */
    layout: z.string().min(1),
    /** HiveD scheduler config with the virtual clusters, relative to gpuwatch.yaml. */
    hived: z.string().min(1).optional(),
    /** The gpuwatch alert router's Alertmanager webhook for this cluster's alerts. */
    router: z.string().url().default(DEFAULT_ROUTER_URL),
    /** Port of the exporter on every worker, for the generated scrape targets (hostip:port). */
    exporterPort: portNumber.default(DEFAULT_EXPORTER_PORT),
  })
  .strict();

export const configSchema = z
  .object({
    clusters: z
      .array(clusterSchema)
      .min(1)
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'cluster names must be unique'),
    /** Each alert's runbook_url is this + '#' + the alert name in lower case. */
    runbookBaseUrl: z.string().url().default(DEFAULT_RUNBOOK_BASE_URL),
    /**
     * The cluster that alerts about the monitoring stack itself (Prometheus, Alertmanager) are filed
     * under when their series carry no cluster label. Default: the first cluster.
     */
    monitoringCluster: z.string().min(1).optional(),
    policies: policiesSchema,
    alertmanager: section(alertmanagerSchema),
    kubernetes: section(kubernetesSchema),
    scrape: section(scrapeSchema),
    exporter: exporterSchema.default({}),
    ruleService: ruleServiceConfigSchema.optional(),
    /** Read by `gpuwatch router` (schema in ./router.ts); checked here too so every command rejects a bad one. */
    router: routerConfigSchema.optional(),
    /** Read by `gpuwatch stack` (schema in ./stack.ts): the whole chain on one machine. */
    stack: stackSchema.default({}),
    /** The scaled topology (schema in ./scale.ts): shards, a central store and rule evaluator, Alertmanagers, routers. */
    scale: scaleSchema.optional(),
    /** Read by `gpuwatch rightsize` (schema in ./rightsize.ts): request recommendations from history. */
    rightsize: rightsizeSchema.default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.monitoringCluster !== undefined && !c.clusters.some((cl) => cl.name === c.monitoringCluster)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['monitoringCluster'],
        message: `"${c.monitoringCluster}" is not one of the clusters (${c.clusters.map((cl) => cl.name).join(', ')})`,
      });
    }
  });

export type GpuwatchConfig = z.output<typeof configSchema>;
export type ExporterConfig = z.output<typeof exporterSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type { Policies, PolicyName } from './policies.js';
export type { ScaleConfig } from './scale.js';
export type { AlertmanagerConfig, KubernetesConfig, ScrapeConfig, SeverityTiming } from './delivery.js';
