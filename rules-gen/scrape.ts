/**
 * prometheus/scrape.yml: a scrape config snippet with every layout.yaml worker's exporter as a static
 * target, labelled with its cluster and node. This is where every gpuwatch series gets `cluster`.
 *
 * honor_labels keeps the exporter's own labels (node, and the OpenPAI `job` of attribution series);
 * the metric relabeling then drops the scrape job's name from all other series, so `job` on a
 * gpuwatch series always means an OpenPAI job (`up` keeps job="gpuwatch").
 */
import { ms } from './promql.js';
import { SCRAPE_JOB, type GenContext } from './context.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

const DEFAULT_SCRAPE_TIMEOUT_MS = 10_000;

type Worker = GenContext['workers'][number];

/**
 * The scrape job as an object. `target` gives each worker's address: its layout `hostip:port` by
 * default; `gpuwatch stack` points the same job at its local replay exporters.
 */
export function scrapeJob(ctx: GenContext, target: (w: Worker) => string = (w) => w.instance) {
  const interval = ctx.loaded.config.exporter.interval;
  const timeoutTooLong = DEFAULT_SCRAPE_TIMEOUT_MS > ms(interval);
  return {
    job_name: SCRAPE_JOB,
    honor_labels: true,
    scrape_interval: interval,
    ...(timeoutTooLong ? { scrape_timeout: interval } : {}),
    static_configs: ctx.workers.map((w) => ({ targets: [target(w)], labels: { cluster: w.cluster, node: w.node } })),
    metric_relabel_configs: [{ source_labels: ['job'], regex: SCRAPE_JOB, target_label: 'job', replacement: '' }],
  };
}

export function scrapeYaml(ctx: GenContext): string {
  return yamlText(
    { scrape_configs: [scrapeJob(ctx)] },
    `${GENERATED_HEADER}\nAdd this job to scrape_configs in prometheus.yml.`,
  );
}
