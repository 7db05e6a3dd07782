/**
 * Job attribution: which job uses which GPU.
 *
 * GPU process → /proc/<pid>/cgroup → container and pod UID → OpenPAI identity from the
 * process's environment; plus, from the kubelet's pod-resources list, which pod holds which GPU
 * even before any process runs on it. See join.ts for how the two are combined.
 *
 * All /proc reads go through `procRoot`, so a DaemonSet that mounts the host's /proc at e.g.
 * /host/proc can read the host's processes (it also needs the host PID namespace for the
 * driver's pids to mean anything there).
 */

import { buildAttribution, type GpuWithProcesses } from './join.js';
import type { PodResourcesCache } from './pod-resources.js';
import { ProcessFactsReader } from './process-facts.js';
import type { Attribution } from './types.js';

export type { GpuWithProcesses } from './join.js';

export interface AttributorOptions {
  procRoot?: string;
  /** Started by the caller; only its cached list is read here, never the kubelet itself. */
  podResources?: PodResourcesCache;
  now?: () => number;
  /** How many processes' facts are kept between scrapes. */
  cacheSize?: number;
  /** How long a process's facts are trusted before they are read again. */
  cacheMaxAgeMs?: number;
}

export class Attributor {
  private readonly facts: ProcessFactsReader;
  private readonly podResources: PodResourcesCache | undefined;

  constructor(opts: AttributorOptions = {}) {
    this.podResources = opts.podResources;
    this.facts = new ProcessFactsReader({
      procRoot: opts.procRoot ?? '/proc',
      now: opts.now ?? Date.now,
      ...(opts.cacheSize !== undefined ? { maxEntries: opts.cacheSize } : {}),
      ...(opts.cacheMaxAgeMs !== undefined ? { maxAgeMs: opts.cacheMaxAgeMs } : {}),
    });
  }

  /** Never rejects for a process that exits or cannot be read: that process is left out. */
  async attribute(gpus: readonly GpuWithProcesses[]): Promise<Attribution> {
    const pids = gpus.flatMap((g) => (g.processes ?? []).map((p) => p.pid));
    const facts = await this.facts.read(pids);
    return buildAttribution(gpus, facts, this.podResources?.current() ?? []);
  }
}
