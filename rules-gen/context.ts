/**
 * What every policy generator reads: the policies, the clusters and their layouts, and the concrete
 * label values the generated unit tests use (real clusters and workers of the config).
 */
import type { LoadedConfig } from '../src/config/load.js';
import type { Policies } from '../src/config/policies.js';

/** A worker the tests put their series on. */
export interface TestTarget {
  cluster: string;
  node: string;
  /** `hostip:port`, as the scrape config sets it. */
  instance: string;
  expectedGpus: number;
}

export interface GenContext {
  loaded: LoadedConfig;
  policies: Policies;
  monitoringCluster: string;
  /** The exporters' scrape job (`scrape.jobName`): `up{job=...}`, in the scrape config and the ServiceMonitors alike. */
  scrapeJobName: string;
  runbookUrl(alert: string): string;
  /** The worker of `cluster` used in tests (its first GPU worker, else a made-up one). */
  targetIn(cluster: string): TestTarget;
  /** Candidate label values for tests, configured clusters first. */
  candidates: {
    cluster: string[];
    vc: string[];
    user: string[];
    priority: string[];
  };
  /** Layout workers per cluster (the scrape targets). */
  workers: { cluster: string; node: string; instance: string; expectedGpus: number }[];
}

export function createContext(loaded: LoadedConfig): GenContext {
  const { config } = loaded;
  const workers = loaded.clusters.flatMap((c) =>
    c.layoutData.nodes
      .filter((n) => n.isWorker)
      .map((n) => ({ cluster: c.name, node: n.hostname, instance: `${n.hostip}:${c.exporterPort}`, expectedGpus: n.expectedGpus })),
  );
  const clusterNames = loaded.clusters.map((c) => c.name);
  const base = config.runbookBaseUrl;
  return {
    loaded,
    policies: config.policies,
    monitoringCluster: config.monitoringCluster ?? clusterNames[0] ?? 'default',
    scrapeJobName: config.scrape.jobName,
    runbookUrl: (alert) => `${base}#${alert.toLowerCase()}`,
    targetIn: (cluster) => {
      const inCluster = workers.filter((w) => w.cluster === cluster);
      const w = inCluster.find((x) => x.expectedGpus > 0) ?? inCluster[0];
      return w ?? { cluster, node: 'test-node', instance: '192.0.2.1:9445', expectedGpus: 8 };
    },
    candidates: {
      cluster: [...clusterNames, 'test-cluster', 'other-cluster'],
      vc: ['default', 'research', 'nlp', 'cv', 'test-vc'],
      user: ['alice', 'bob', 'carol', 'dave', 'test-user'],
      priority: ['test', 'prod', 'default', 'oppo'],
    },
    workers,
  };
}
