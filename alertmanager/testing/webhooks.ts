/** Alertmanager webhook (v4) bodies for tests, shaped like the ones Alertmanager 0.25+ sends. */
import { createHash } from 'node:crypto';
import type { WebhookPayload } from '../intake/webhook-schema.js';

export interface TestAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  status?: 'firing' | 'resolved';
  startsAt: string | number;
  endsAt?: string | number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager's fingerprint is a hash of the label set; any stable hash will do here. */
export function fingerprintOf(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const iso = (t: string | number) => (typeof t === 'number' ? new Date(t).toISOString() : t);

export function webhook(alerts: TestAlert[], extra: Record<string, unknown> = {}): WebhookPayload & Record<string, unknown> {
  const rendered = alerts.map((a) => ({
    status: a.status ?? 'firing',
    labels: a.labels,
    annotations: a.annotations ?? {},
    startsAt: iso(a.startsAt),
    endsAt: a.endsAt === undefined ? ZERO_TIME : iso(a.endsAt),
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
    fingerprint: fingerprintOf(a.labels),
  }));
  const common = alerts[0]?.labels ?? {};
  return {
    receiver: 'gpuwatch\\-router',
    status: rendered.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: rendered,
    groupLabels: { alertname: common.alertname ?? '' },
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey: `{}:{alertname="${common.alertname ?? ''}"}`,
    truncatedAlerts: 0,
    ...extra,
  };
}

/** A GPU alert on a node of a cluster. */
export function gpuAlert(
  node: string,
  options: { alertname?: string; severity?: string; cluster?: string; gpu?: string; startsAt: string | number; summary?: string },
): TestAlert {
  const gpu = options.gpu ?? '0';
  return {
    labels: {
      alertname: options.alertname ?? 'GpuXidErrors',
      severity: options.severity ?? '1',
      cluster: options.cluster ?? 'prod-a',
      node,
      gpu,
      uuid: `GPU-${node}-${gpu}`,
    },
    annotations: {
      summary: options.summary ?? `XID errors on ${node} GPU ${gpu}`,
      description: 'The driver reported XID errors.',
      runbook_url: 'https://runbooks.example/gpu-xid',
    },
    startsAt: options.startsAt,
  };
}
