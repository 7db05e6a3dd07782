/**
 * Combines what /proc says about GPU processes with what the kubelet says about GPU
 * allocations into one Attribution.
 *
 * The kubelet's pod-resources list names pods (`namespace/pod`); a process's cgroup gives only
 * the pod's UID. Nothing on the node maps one to the other without the API server, so they are
 * joined through the GPU: when exactly one pod holds a GPU and the processes on it all belong
 * to one pod UID, that UID is that pod (a GPU the device plugin assigned is the pod's alone).
 * A UID matched to two different pods, or a pod to two UIDs, is left unmatched. Time-sliced
 * GPUs (several pods per GPU) therefore stay unmatched: their processes are reported as
 * `pod/<uid>` and their allocations as `namespace/pod`.
 *
 * A matched pod's allocations take the identity of its processes (OpenPAI when the environment
 * says so), also on its GPUs where no process runs yet.
 */

import { resolveDeviceId, type KnownGpu } from './device-id.js';
import { mergeIdentities, podIdentity, processIdentity, type PodName, type ProcessFacts } from './identity.js';
import type { PodGpu } from './pod-resources.js';
import type { AttributedProcess, Attribution, GpuAllocation, JobIdentity, MigInstance } from './types.js';

export interface GpuWithProcesses extends KnownGpu {
  processes?: ReadonlyArray<{ pid: number; usedMemoryBytes?: number; gpuInstanceId?: number; computeInstanceId?: number }>;
}

/** The MIG instance a driver's process entry names, when it names both ids. */
function instanceOf(p: { gpuInstanceId?: number; computeInstanceId?: number }): { instance?: MigInstance } {
  return p.gpuInstanceId !== undefined && p.computeInstanceId !== undefined
    ? { instance: { gpuInstanceId: p.gpuInstanceId, computeInstanceId: p.computeInstanceId } }
    : {};
}

const podKey = (p: { namespace: string; pod: string }): string => `${p.namespace}/${p.pod}`;

/** The pod-resources devices per GPU uuid; devices that resolve to no known GPU are dropped. */
function podsByGpu(podGpus: readonly PodGpu[], gpus: readonly KnownGpu[]): Map<string, PodGpu[]> {
  const byUuid = new Map<string, PodGpu[]>();
  for (const device of podGpus) {
    const uuid = resolveDeviceId(device.deviceId, gpus);
    if (uuid === undefined) continue;
    byUuid.set(uuid, [...(byUuid.get(uuid) ?? []), device]);
  }
  return byUuid;
}

/** A pod's name with its container, when all its GPU devices belong to one container. */
function podNameOf(devices: readonly PodGpu[], key: string): PodName | undefined {
  const own = devices.filter((d) => podKey(d) === key);
  const first = own[0];
  if (first === undefined) return undefined;
  const containers = new Set(own.map((d) => d.container));
  const name: PodName = { namespace: first.namespace, pod: first.pod };
  if (containers.size === 1 && first.container !== '') name.container = first.container;
  return name;
}

/** Pod UID → pod name, through GPUs held by exactly one pod and used by exactly one pod UID. */
function matchPodUids(
  gpus: readonly GpuWithProcesses[],
  facts: ReadonlyMap<number, ProcessFacts>,
  pods: ReadonlyMap<string, PodGpu[]>,
  allPodGpus: readonly PodGpu[],
): Map<string, PodName> {
  const candidates = new Map<string, Set<string>>(); // uid → pod keys
  const uidsOfPod = new Map<string, Set<string>>(); // pod key → uids
  for (const gpu of gpus) {
    const podKeys = new Set((pods.get(gpu.uuid) ?? []).map(podKey));
    const uids = new Set<string>();
    for (const p of gpu.processes ?? []) {
      const uid = facts.get(p.pid)?.cgroup.podUid;
      if (uid !== undefined) uids.add(uid);
    }
    const [uid] = uids;
    const [key] = podKeys;
    if (podKeys.size !== 1 || uids.size !== 1 || uid === undefined || key === undefined) continue;
    candidates.set(uid, (candidates.get(uid) ?? new Set()).add(key));
    uidsOfPod.set(key, (uidsOfPod.get(key) ?? new Set()).add(uid));
  }
  const matched = new Map<string, PodName>();
  for (const [uid, keys] of candidates) {
    const [key] = keys;
    if (keys.size !== 1 || key === undefined || uidsOfPod.get(key)?.size !== 1) continue;
    const name = podNameOf(allPodGpus, key);
    if (name !== undefined) matched.set(uid, name);
  }
  return matched;
}

/** Allocations de-duplicated per (job, uuid), merging what each view knows. */
class AllocationSet {
  private readonly byKey = new Map<string, GpuAllocation>();

  add(uuid: string, identity: JobIdentity, instance?: MigInstance): void {
    const where = instance ? `${instance.gpuInstanceId}/${instance.computeInstanceId}` : '';
    const key = `${identity.job}\u0000${uuid}\u0000${where}`;
    const seen = this.byKey.get(key);
    const merged = seen ? mergeIdentities(seen.identity, identity) : { ...identity };
    this.byKey.set(key, { uuid, identity: merged, ...(instance ? { instance } : {}) });
  }

  list(): GpuAllocation[] {
    return [...this.byKey.values()];
  }
}

/** Sets every identity of a job to the job's earliest start. */
function applyJobStartTimes(identities: JobIdentity[]): void {
  const earliest = new Map<string, number>();
  for (const { job, startTimeSeconds: start } of identities) {
    if (start === undefined) continue;
    earliest.set(job, Math.min(start, earliest.get(job) ?? Infinity));
  }
  for (const identity of identities) {
    const start = earliest.get(identity.job);
    if (start !== undefined) identity.startTimeSeconds = start;
  }
}

/**
 * The attribution of `gpus`. A process without facts (it exited, or /proc could not be read)
 * is left out: that is no evidence of an external user.
 */
export function buildAttribution(gpus: readonly GpuWithProcesses[], facts: ReadonlyMap<number, ProcessFacts>, podGpus: readonly PodGpu[]): Attribution {
  const pods = podsByGpu(podGpus, gpus);
  const podOfUid = matchPodUids(gpus, facts, pods, podGpus);

  const processes: AttributedProcess[] = [];
  const identityOfPod = new Map<string, JobIdentity>(); // pod key → identity of its processes
  for (const gpu of gpus) {
    for (const p of gpu.processes ?? []) {
      const f = facts.get(p.pid);
      if (f === undefined) {
        // The driver lists it but /proc cannot say whose it is (exited, or not visible here).
        processes.push({
          pid: p.pid,
          uuid: gpu.uuid,
          unresolved: true,
          ...instanceOf(p),
          ...(p.usedMemoryBytes !== undefined ? { usedMemoryBytes: p.usedMemoryBytes } : {}),
        });
        continue;
      }
      const pod = f.cgroup.podUid === undefined ? undefined : podOfUid.get(f.cgroup.podUid);
      const identity = processIdentity(f, pod);
      const out: AttributedProcess = { pid: p.pid, uuid: gpu.uuid, ...instanceOf(p) };
      if (p.usedMemoryBytes !== undefined) out.usedMemoryBytes = p.usedMemoryBytes;
      if (identity !== undefined) out.identity = identity;
      if (f.cgroup.containerId !== undefined) out.containerId = f.cgroup.containerId;
      processes.push(out);
      if (pod !== undefined && identity !== undefined && !identityOfPod.has(podKey(pod))) {
        identityOfPod.set(podKey(pod), identity);
      }
    }
  }

  const allocations = new AllocationSet();
  for (const p of processes) if (p.identity !== undefined) allocations.add(p.uuid, p.identity, p.instance);
  for (const [uuid, devices] of pods) {
    for (const device of devices) {
      const fromKubelet = podIdentity(device);
      const fromProcesses = identityOfPod.get(podKey(device));
      allocations.add(uuid, fromProcesses ? mergeIdentities(fromProcesses, fromKubelet) : fromKubelet);
    }
  }

  const result: Attribution = { allocations: allocations.list(), processes };
  applyJobStartTimes([...result.processes.flatMap((p) => (p.identity ? [p.identity] : [])), ...result.allocations.map((a) => a.identity)]);
  return result;
}
