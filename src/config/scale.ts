/**
 * The `scale:` section of gpuwatch.yaml: the monitoring stack as several processes instead of one
 * Prometheus. `shards` scrapers split the exporters between them by node and remote-write to one
 * central store; the central layer evaluates the cluster-wide recording rules and every alert once
 * and notifies every Alertmanager; `routers` alert routers share one database. Without the section
 * `gpuwatch generate` writes what it always has (one Prometheus) and no `scale/` files.
 *
 * The addresses in the generated command lines are `listenHost` and consecutive ports from
 * `basePort` (the central store, then vmalert, the routers, the Alertmanagers' gossip ports, the
 * shards and `gpuwatch layout-metrics`, in that order; see rules-gen/scale/topology.ts).
 */
import { z } from 'zod';
import { httpUrl, portNumber } from './fields.js';
import { DEFAULT_LISTEN } from './listen-address.js';

export const SCALE_ENGINES = ['prometheus', 'victoriametrics'] as const;

export const scaleSchema = z
  .object({
    /** prometheus: Prometheus shards and a central Prometheus; victoriametrics: vmagent shards, VictoriaMetrics and vmalert. */
    engine: z.enum(SCALE_ENGINES, { errorMap: () => ({ message: `expected one of ${SCALE_ENGINES.join(', ')}` }) }).default('prometheus'),
    /** Scrapers; each takes the exporters of about 1/shards of the nodes (all of a node's series on one shard). */
    shards: z
      .number({ invalid_type_error: 'expected a whole number of shards, at least 1' })
      .int('expected a whole number of shards')
      .min(1, 'at least 1 shard')
      .default(1),
    /** The Alertmanagers the central layer sends every alert to (each one; they deduplicate by gossip). */
    alertmanagers: z
      .array(httpUrl)
      .min(1, 'list at least one Alertmanager URL')
      .refine((urls) => new Set(urls).size === urls.length, 'Alertmanager URLs must be unique')
      .default([`http://${DEFAULT_LISTEN.alertmanager}`]),
    /** Alert routers (`gpuwatch router`) sharing the router's database. */
    routers: z
      .number({ invalid_type_error: 'expected a whole number of routers, at least 1' })
      .int('expected a whole number of routers')
      .min(1, 'at least 1 router')
      .default(1),
    /** The host every generated process listens on (one machine; on several, edit topology.json's addresses). */
    listenHost: z.string().min(1).default('127.0.0.1'),
    /** The first generated process's port; the others follow consecutively. */
    basePort: portNumber.default(19500),
  })
  .strict()
  .superRefine((s, ctx) => {
    const last = s.basePort + scalePortCount(s) - 1;
    if (last > 65535) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['basePort'],
        message: `the topology needs ${scalePortCount(s)} ports from ${s.basePort}, past 65535; lower basePort`,
      });
    }
  });

/** Ports the generated processes take from basePort: the store, vmalert, the routers, the Alertmanagers' gossip, the shards, the layout constants. */
export function scalePortCount(s: { shards: number; routers: number; alertmanagers: readonly string[] }): number {
  return 2 + s.routers + s.alertmanagers.length + s.shards + 1;
}

export type ScaleConfig = z.output<typeof scaleSchema>;
