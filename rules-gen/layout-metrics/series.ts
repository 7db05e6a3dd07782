/**
 * layout.yaml as scraped series, for the VictoriaMetrics topology: the same
 * `gpuwatch:node_gpus_expected:layout` and `gpuwatch:cluster_gpus_expected:sum` that the
 * `gpuwatch-layout` recording group writes for one Prometheus (rules-gen/recording.ts), as
 * exposition text. vmalert sends one query per rule to the store, and that group has one rule per
 * worker: 12,501 queries an iteration at 12,500 nodes, which starve every other group of the
 * store's query slots. Scraped from `gpuwatch layout-metrics`, the constants cost one scrape.
 */
import { Gauge, Registry } from 'prom-client';
import type { GenContext } from '../context.js';
import { layoutConstants } from '../recording.js';

const HELP = 'A layout.yaml constant: what the gpuwatch-layout recording group records for one Prometheus.';

/** A registry holding every layout constant, with the labels and values the recording rules give them. */
export function layoutRegistry(ctx: GenContext): Registry {
  const registry = new Registry();
  const gauges = new Map<string, Gauge>();
  for (const c of layoutConstants(ctx)) {
    let gauge = gauges.get(c.record);
    if (!gauge) {
      gauge = new Gauge({ name: c.record, help: HELP, labelNames: Object.keys(c.labels), registers: [registry] });
      gauges.set(c.record, gauge);
    }
    gauge.set(c.labels, c.value);
  }
  return registry;
}
