/**
 * Job identities and how two views of the same job are combined.
 *
 * Precedence for a process: OpenPAI environment (`user~job`) > Kubernetes pod (`namespace/pod`,
 * or `pod/<uid>` while the pod's name is unknown) > bare container (`container/<short id>`).
 */

import type { CgroupInfo } from './cgroup.js';
import type { JobIdentity } from './types.js';

/** The pod a cgroup pod UID was matched to through the pod-resources list. */
export interface PodName {
  namespace: string;
  pod: string;
  /** Set only when the pod has a single GPU container, so a process cannot be in another one. */
  container?: string;
}

/** What was read from /proc for one process. */
export interface ProcessFacts {
  cgroup: CgroupInfo;
  openPai?: Partial<JobIdentity>;
  startTimeSeconds?: number;
}

/** Docker's short form of a container id. */
export function shortContainerId(containerId: string): string {
  return containerId.slice(0, 12);
}

/** True when the process runs in a container or pod; false for a host process. */
export function isContained(cgroup: CgroupInfo): boolean {
  return cgroup.containerId !== undefined || cgroup.podUid !== undefined;
}

export function podIdentity(pod: PodName): JobIdentity {
  const identity: JobIdentity = { job: `${pod.namespace}/${pod.pod}`, pod: pod.pod, namespace: pod.namespace };
  if (pod.container !== undefined && pod.container !== '') identity.container = pod.container;
  return identity;
}

/** The identity of a contained process; undefined for a host process. */
export function processIdentity(facts: ProcessFacts, pod: PodName | undefined): JobIdentity | undefined {
  const { cgroup, openPai } = facts;
  if (!isContained(cgroup)) return undefined;
  let identity: JobIdentity;
  if (pod !== undefined) identity = podIdentity(pod);
  else if (cgroup.podUid !== undefined) identity = { job: `pod/${cgroup.podUid}` };
  else {
    const short = shortContainerId(cgroup.containerId ?? '');
    identity = { job: `container/${short}`, container: short };
  }
  if (openPai?.job !== undefined) identity = mergeIdentities({ ...openPai, job: openPai.job }, identity);
  if (facts.startTimeSeconds !== undefined) identity.startTimeSeconds = facts.startTimeSeconds;
  return identity;
}

/**
 * One identity from two views of the same job: `primary`'s job and fields win, `secondary`
 * fills the gaps; the start time is the earlier one.
 */
export function mergeIdentities(primary: JobIdentity, secondary: JobIdentity): JobIdentity {
  const merged: JobIdentity = { ...primary };
  for (const key of ['user', 'vc', 'priority', 'pod', 'namespace', 'container'] as const) {
    const value = primary[key] ?? secondary[key];
    if (value !== undefined) merged[key] = value;
  }
  const starts = [primary.startTimeSeconds, secondary.startTimeSeconds].filter((s): s is number => s !== undefined);
  if (starts.length > 0) merged.startTimeSeconds = Math.min(...starts);
  return merged;
}
