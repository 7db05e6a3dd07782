/** The router's /metrics, registered with prom-client from the catalog's ROUTER_METRICS. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ROUTER_METRICS } from '../src/catalog/metrics.js';

export type OpenIncidentCounter = () => Promise<{ cluster: string; severity: number; count: number }[]>;

export class RouterMetrics {
  readonly registry = new Registry();
  readonly incidentsOpen: Gauge<'cluster' | 'severity'>;
  readonly timeToAck: Histogram<'cluster' | 'severity'>;
  readonly slaBreaches: Counter<'cluster' | 'severity' | 'kind'>;
  readonly escalations: Counter<'cluster' | 'severity' | 'tier'>;
  readonly notifications: Counter<'channel' | 'result'>;
  readonly actions: Counter<'action' | 'result'>;

  /** @param countOpen read at every scrape, so every replica reports the shared database's state. */
  constructor(countOpen: OpenIncidentCounter) {
    const m = ROUTER_METRICS;
    const registers = [this.registry];
    this.incidentsOpen = new Gauge({
      name: m.incidentsOpen.name,
      help: m.incidentsOpen.help,
      labelNames: m.incidentsOpen.labels as ['cluster', 'severity'],
      registers,
      async collect() {
        const rows = await countOpen();
        this.reset();
        for (const r of rows) this.set({ cluster: r.cluster, severity: String(r.severity) }, r.count);
      },
    });
    this.timeToAck = new Histogram({
      name: m.timeToAck.name,
      help: m.timeToAck.help,
      labelNames: m.timeToAck.labels as ['cluster', 'severity'],
      buckets: [60, 300, 900, 1_800, 3_600, 7_200, 14_400, 28_800, 86_400, 259_200],
      registers,
    });
    this.slaBreaches = new Counter({
      name: m.slaBreaches.name,
      help: m.slaBreaches.help,
      labelNames: m.slaBreaches.labels as ['cluster', 'severity', 'kind'],
      registers,
    });
    this.escalations = new Counter({
      name: m.escalations.name,
      help: m.escalations.help,
      labelNames: m.escalations.labels as ['cluster', 'severity', 'tier'],
      registers,
    });
    this.notifications = new Counter({
      name: m.notifications.name,
      help: m.notifications.help,
      labelNames: m.notifications.labels as ['channel', 'result'],
      registers,
    });
    this.actions = new Counter({ name: m.actions.name, help: m.actions.help, labelNames: m.actions.labels as ['action', 'result'], registers });
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
