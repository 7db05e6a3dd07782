/**
 * alertmanager/alertmanager.yml: every alert goes to its cluster's gpuwatch router (webhook, with
 * resolutions), grouped and timed per severity; inhibitions keep one cause from paging many times.
 * The Watchdog has a route of its own, sent every minute, and no inhibition touches it.
 */
import type { SeverityTiming } from '../src/config/delivery.js';
import type { GenContext } from './context.js';
import { scaleTopology } from './scale/topology.js';
import { WATCHDOG_ALERT, WATCHDOG_LABEL } from './policies/watchdog.js';
import { quote } from './promql.js';
import { GENERATED_HEADER, yamlText } from './yaml-text.js';

const SEVERITIES = ['0', '1', '2', '3'] as const;

export const receiverName = (cluster: string) => `gpuwatch-router-${cluster}`;

/** Alerts about a node's GPUs, exporter and resources, which a NodeDown of the same node explains. */
export const NODE_SCOPED_ALERTS = 'Gpu.*|NodeGpusMissing|NodeDiskFull|NodeMemoryPressure|ExporterDown|ExporterCollectionFailing|ExporterStale';

/**
 * Alerts a cluster-wide (severity 0) alert does not explain, so it never silences them: a node
 * down, a full file system, and the monitoring pipeline's own health (which on-call needs most
 * while the cluster is down).
 */
export const NEVER_INHIBITED_BY_CLUSTER_ALERTS = 'NodeDown|NodeDiskFull|SharedFilesystemFull|Exporter.*|Prometheus.*|Alertmanager.*';

const timing = (t: SeverityTiming) => ({ group_wait: t.groupWait, group_interval: t.groupInterval, repeat_interval: t.repeatInterval });

/**
 * The bearer token Alertmanager sends with every webhook: the router's own `webhookToken`, or its
 * `webhookTokenFile` as a path that Alertmanager reads (relative paths: from alertmanager.yml's
 * folder). Without either the router takes unsigned webhooks, which it allows only in dry run.
 */
function routerAuthorization(ctx: GenContext): { http_config?: { authorization: Record<string, string> } } {
  const router = ctx.loaded.config.router;
  if (router?.webhookToken !== undefined) return { http_config: { authorization: { type: 'Bearer', credentials: router.webhookToken } } };
  if (router?.webhookTokenFile !== undefined) return { http_config: { authorization: { type: 'Bearer', credentials_file: router.webhookTokenFile } } };
  return {};
}

const NOT_WATCHDOG = `${WATCHDOG_LABEL}!="true"`;

/** The Watchdog arrives every minute: the router pages when it stops. */
const watchdogRoute = {
  matchers: [`alertname=${quote(WATCHDOG_ALERT)}`, `${WATCHDOG_LABEL}="true"`],
  group_by: ['cluster', 'alertname'],
  group_wait: '0s',
  group_interval: '1m',
  repeat_interval: '1m',
};

function inhibitRules() {
  return [
    {
      // A node that is down explains its GPU, exporter and resource alerts.
      source_matchers: ['alertname="NodeDown"'],
      target_matchers: [`alertname=~${quote(NODE_SCOPED_ALERTS)}`, NOT_WATCHDOG],
      equal: ['cluster', 'node'],
    },
    {
      // A cluster-wide outage (severity 0) silences the lesser alerts of the same cluster it explains.
      source_matchers: ['severity="0"', NOT_WATCHDOG],
      target_matchers: ['severity=~"1|2|3"', `alertname!~${quote(NEVER_INHIBITED_BY_CLUSTER_ALERTS)}`, NOT_WATCHDOG],
      equal: ['cluster'],
    },
  ];
}

/**
 * The webhook URLs of a cluster's router: its `router` URL, or with a `scale:` section that URL's
 * path on every router of the topology. Alertmanager sends each notification to all of them; the
 * routers share one database, so a replica that is down costs nothing and the others page once.
 */
export function routerWebhookUrls(ctx: GenContext, clusterRouter: string): string[] {
  const scale = ctx.loaded.config.scale;
  if (!scale) return [clusterRouter];
  const { pathname, search } = new URL(clusterRouter);
  return scaleTopology(ctx, scale)
    .processes.filter((p) => p.role === 'router')
    .map((p) => `http://${p.listen}${pathname}${search}`);
}

export function alertmanagerYaml(ctx: GenContext): string {
  const am = ctx.loaded.config.alertmanager;
  const severityRoutes = SEVERITIES.map((sev) => ({ matchers: [`severity=${quote(sev)}`], ...timing(am.severities[sev]) }));
  const config = {
    route: {
      receiver: receiverName(ctx.monitoringCluster),
      group_by: am.groupBy,
      ...timing(am.severities['3']),
      routes: ctx.loaded.clusters.map((c) => ({
        receiver: receiverName(c.name),
        matchers: [`cluster=${quote(c.name)}`],
        routes: [watchdogRoute, ...severityRoutes],
      })),
    },
    receivers: ctx.loaded.clusters.map((c) => ({
      name: receiverName(c.name),
      webhook_configs: routerWebhookUrls(ctx, c.router).map((url) => ({ url, send_resolved: true, max_alerts: am.maxAlerts, ...routerAuthorization(ctx) })),
    })),
    inhibit_rules: inhibitRules(),
  };
  return yamlText(config, `${GENERATED_HEADER}\nCheck: amtool check-config alertmanager.yml`);
}
