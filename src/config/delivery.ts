/**
 * Where generated artifacts deliver alerts: Alertmanager's grouping and timing per severity, and the
 * Kubernetes namespace and labels of the generated manifests.
 */
import { z } from 'zod';
import { duration } from './duration-field.js';
import { DEFAULT_LISTEN, listenAddressField } from './listen-address.js';
import { section } from './policy-fields.js';

const timing = (d: { groupWait: string; groupInterval: string; repeatInterval: string }) =>
  section(
    z
      .object({
        /** How long Alertmanager waits to batch the first alerts of a new group. */
        groupWait: duration.default(d.groupWait),
        /** How long it waits before sending alerts that joined an existing group. */
        groupInterval: duration.default(d.groupInterval),
        /** How often an unchanged firing group is sent again (the router dedups; this is its heartbeat). */
        repeatInterval: duration.default(d.repeatInterval),
      })
      .strict(),
  );

export const alertmanagerSchema = z
  .object({
    /** Labels that make one notification group. */
    groupBy: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a label name'))
      .min(1)
      .default(['cluster', 'alertname']),
    /** Most alerts one webhook carries (Alertmanager's `max_alerts`; the router accepts truncated groups); 0: no cap. */
    maxAlerts: z.number().int().nonnegative().default(1000),
    /** Per severity (keys 0-3). Severity 0 pages within seconds; severity 3 can wait. */
    severities: section(
      z
        .object({
          '0': timing({ groupWait: '10s', groupInterval: '1m', repeatInterval: '30m' }),
          '1': timing({ groupWait: '30s', groupInterval: '2m', repeatInterval: '1h' }),
          '2': timing({ groupWait: '1m', groupInterval: '5m', repeatInterval: '4h' }),
          '3': timing({ groupWait: '5m', groupInterval: '15m', repeatInterval: '24h' }),
        })
        .strict(),
    ),
  })
  .strict();

export const kubernetesSchema = z
  .object({
    /** Namespace of the generated PrometheusRule and dashboards ConfigMap. */
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes namespace name')
      .default('monitoring'),
    /** Extra labels on the PrometheusRule, e.g. the `release` label a Prometheus Operator's ruleSelector matches. */
    ruleLabels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const targets = z.array(listenAddressField('10.0.0.5:9460')).optional();

/**
 * What Prometheus scrapes, for the generated scrape config and ServiceMonitors. The exporters'
 * targets come from the layout files; these are the job name every exporter series is scraped
 * under, and the addresses of the services gpuwatch's dashboards and self-checks read.
 */
export const scrapeSchema = z
  .object({
    /** The `job` label of the exporters' `up` series (scrape config and ServiceMonitor alike). */
    jobName: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'a scrape job name')
      .default('gpuwatch'),
    /** The alert router(s). Default: the host:port of each cluster's `router` webhook URL. */
    router: targets,
    /** The rule service. Default: `ruleService.listen` when that section is set, else none. */
    ruleService: targets,
    /** Prometheus itself. */
    prometheus: z.array(listenAddressField(DEFAULT_LISTEN.prometheus)).default([DEFAULT_LISTEN.prometheus]),
    /** Alertmanager. */
    alertmanager: z.array(listenAddressField(DEFAULT_LISTEN.alertmanager)).default([DEFAULT_LISTEN.alertmanager]),
  })
  .strict();

export type ScrapeConfig = z.output<typeof scrapeSchema>;
export type AlertmanagerConfig = z.output<typeof alertmanagerSchema>;
export type KubernetesConfig = z.output<typeof kubernetesSchema>;
export type SeverityTiming = AlertmanagerConfig['severities']['0'];
