/**
 * prometheus/scrape.yml: a scrape config snippet with every layout.yaml worker's exporter as a static
 * target, labelled with its cluster and node (this is where every gpuwatch series gets `cluster`),
 * and the services gpuwatch's on-call dashboard and self-checks read: the alert router, the rule
 * service, Prometheus and Alertmanager.
 *
 * honor_labels keeps the exporter's own labels (node, and the OpenPAI `job` of attribution series);
 * the metric relabeling then drops the scrape job's name from all other series, so `job` on a
 * gpuwatch series always means an OpenPAI job (`up` keeps job=<scrape.jobName>). The generated
 * ServiceMonitors (servicemonitor.ts) set the same labels the same way.
 */
import type { GenContext } from './context.js';
import { ms } from './promql.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;

export type Worker = GenContext['workers'][number];

/** Scrape job names of the services, besides the exporters' `scrape.jobName`. */
export const SERVICE_JOBS = {
  router: 'gpuwatch-router',
  ruleService: 'gpuwatch-rule-service',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
} as const;

export type ServiceTargets = Record<keyof typeof SERVICE_JOBS, string[]>;

/** The exporters' metric relabeling: `job` on a gpuwatch series is the OpenPAI job, never the scrape job. */
export const clearScrapeJob = (ctx: GenContext) => ({ source_labels: ['job'], regex: ctx.scrapeJobName, target_label: 'job', replacement: '' });

/**
 * The scrape job as an object. `target` gives each worker's address: its layout `hostip:port` by
 * default; `gpuwatch stack` points the same job at its local replay exporters.
 */
export function scrapeJob(ctx: GenContext, target: (w: Worker) => string = (w) => w.instance) {
  const interval = ctx.loaded.config.exporter.interval;
  const timeoutTooLong = DEFAULT_SCRAPE_TIMEOUT_MS > ms(interval);
  return {
    job_name: ctx.scrapeJobName,
    honor_labels: true,
    scrape_interval: interval,
    ...(timeoutTooLong ? { scrape_timeout: interval } : {}),
    static_configs: ctx.workers.map((w) => ({ targets: [target(w)], labels: { cluster: w.cluster, node: w.node } })),
    metric_relabel_configs: [clearScrapeJob(ctx)],
  };
}

/** `0.0.0.0:9460`, `[::]:9460` and `:9460` listen on every address; Prometheus reaches them on loopback. */
export function reachable(listen: string): string {
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return host === '' || host === '0.0.0.0' || host === '[::]' ? `127.0.0.1:${port}` : listen;
}

/** host:port of a URL, with the scheme's default port when it names none. */
function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/** The services' targets: `scrape:` where set, else the router webhooks of the clusters and `ruleService.listen`. */
export function serviceTargets(ctx: GenContext): ServiceTargets {
  const { config } = ctx.loaded;
  const routers = [...new Set(config.clusters.map((c) => hostPort(c.router)))];
  return {
    router: config.scrape.router ?? routers,
    ruleService: config.scrape.ruleService ?? (config.ruleService ? [reachable(config.ruleService.listen)] : []),
    prometheus: config.scrape.prometheus,
    alertmanager: config.scrape.alertmanager,
  };
}

/**
 * One job per service with targets, labelled with the monitoring cluster. honor_labels keeps the
 * router's own `cluster` label on its per-cluster series.
 */
export function serviceScrapeJobs(ctx: GenContext, targets: ServiceTargets = serviceTargets(ctx)) {
  return (Object.keys(SERVICE_JOBS) as (keyof typeof SERVICE_JOBS)[])
    .filter((service) => targets[service].length > 0)
    .map((service) => serviceScrapeJob(ctx, SERVICE_JOBS[service], targets[service]));
}

/** One service's job: its targets, labelled with the monitoring cluster, their own labels kept. */
export function serviceScrapeJob(ctx: GenContext, jobName: string, targets: string[]) {
  return { job_name: jobName, honor_labels: true, static_configs: [{ targets, labels: { cluster: ctx.monitoringCluster } }] };
}

export function scrapeYaml(ctx: GenContext): string {
  return yamlText({ scrape_configs: [scrapeJob(ctx), ...serviceScrapeJobs(ctx)] }, `${GENERATED_HEADER}\nAdd these jobs to scrape_configs in prometheus.yml.`);
}
