import { describe, expect, it } from 'vitest';
import type { ProcessFacts } from './identity.js';
import { buildAttribution, type GpuWithProcesses } from './join.js';
import type { PodGpu } from './pod-resources.js';

const G0 = 'GPU-0a0a0a0a-1111-4222-8333-444444444444';
const G1 = 'GPU-1b1b1b1b-1111-4222-8333-444444444444';
const G2 = 'GPU-2c2c2c2c-1111-4222-8333-444444444444';
const CID_A = 'a'.repeat(64);
const CID_B = 'b'.repeat(64);
const CID_C = 'c'.repeat(64);
const UID_A = '11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const UID_B = '22222222-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

const gpu = (index: number, uuid: string, pids: number[] = []): GpuWithProcesses => ({
  index,
  uuid,
  processes: pids.map((pid) => ({ pid, usedMemoryBytes: pid * 1024 })),
});

const podGpu = (namespace: string, pod: string, container: string, deviceId: string): PodGpu => ({
  namespace,
  pod,
  container,
  deviceId,
  resourceName: 'nvidia.com/gpu',
});

const paiFacts = (podUid: string, containerId: string, start: number): ProcessFacts => ({
  cgroup: { podUid, containerId, runtime: 'containerd', qos: 'burstable' },
  openPai: { job: 'alice~train', user: 'alice', vc: 'vc1' },
  startTimeSeconds: start,
});

describe('buildAttribution', () => {
  it('gives a pod its OpenPAI identity on every GPU it holds, also where no process runs yet', () => {
    const a = buildAttribution([gpu(0, G0, [100]), gpu(1, G1)], new Map([[100, paiFacts(UID_A, CID_A, 1_700_000_000)]]), [
      podGpu('pai', 'alice-train-0', 'main', G0),
      podGpu('pai', 'alice-train-0', 'main', G1),
    ]);
    const identity = {
      job: 'alice~train',
      user: 'alice',
      vc: 'vc1',
      pod: 'alice-train-0',
      namespace: 'pai',
      container: 'main',
      startTimeSeconds: 1_700_000_000,
    };
    expect(a.processes).toEqual([{ pid: 100, uuid: G0, usedMemoryBytes: 102_400, identity, containerId: CID_A }]);
    expect(a.allocations).toEqual([
      { uuid: G0, identity },
      { uuid: G1, identity },
    ]);
  });

  it('names a plain pod `namespace/pod` once its UID is matched through the GPU', () => {
    const a = buildAttribution(
      [gpu(0, G0, [200])],
      new Map<number, ProcessFacts>([[200, { cgroup: { podUid: UID_B, containerId: CID_B }, startTimeSeconds: 5 }]]),
      [podGpu('research', 'notebook', 'jupyter', '0')],
    );
    const identity = { job: 'research/notebook', pod: 'notebook', namespace: 'research', container: 'jupyter', startTimeSeconds: 5 };
    expect(a.processes[0]?.identity).toEqual(identity);
    expect(a.allocations).toEqual([{ uuid: G0, identity }]);
  });

  it('leaves time-sliced GPUs unmatched: several pods on one GPU cannot be told apart by UID', () => {
    const a = buildAttribution(
      [gpu(0, G0, [1, 2])],
      new Map<number, ProcessFacts>([
        [1, { cgroup: { podUid: UID_A, containerId: CID_A } }],
        [2, { cgroup: { podUid: UID_B, containerId: CID_B } }],
      ]),
      [podGpu('ns', 'p', 'c', `${G0}::0`), podGpu('ns', 'q', 'c', `${G0}::1`)],
    );
    expect(a.processes.map((p) => p.identity?.job)).toEqual([`pod/${UID_A}`, `pod/${UID_B}`]);
    expect(a.allocations.map((x) => `${x.identity.job} ${x.uuid}`)).toEqual([`pod/${UID_A} ${G0}`, `pod/${UID_B} ${G0}`, `ns/p ${G0}`, `ns/q ${G0}`]);
  });

  it('does not match a pod UID seen on GPUs of two different pods', () => {
    const a = buildAttribution(
      [gpu(0, G0, [1]), gpu(1, G1, [2])],
      new Map<number, ProcessFacts>([
        [1, { cgroup: { podUid: UID_A, containerId: CID_A } }],
        [2, { cgroup: { podUid: UID_A, containerId: CID_A } }],
      ]),
      [podGpu('ns', 'p', 'c', G0), podGpu('ns', 'q', 'c', G1)],
    );
    expect(a.processes.map((p) => p.identity?.job)).toEqual([`pod/${UID_A}`, `pod/${UID_A}`]);
  });

  it('reports allocations of pods without processes, and drops devices that match no GPU', () => {
    const a = buildAttribution([gpu(0, G0), gpu(1, G1)], new Map(), [
      podGpu('ns', 'idle', 'worker', 'nvidia1'),
      { ...podGpu('ns', 'mig', 'w', 'MIG-99999999-1111-4222-8333-444444444444'), resourceName: 'nvidia.com/mig-1g.10gb' },
      podGpu('ns', 'ghost', 'w', '7'),
    ]);
    expect(a.processes).toEqual([]);
    expect(a.allocations).toEqual([{ uuid: G1, identity: { job: 'ns/idle', pod: 'idle', namespace: 'ns', container: 'worker' } }]);
  });

  it('names the container per GPU when a pod has several GPU containers', () => {
    const a = buildAttribution([gpu(0, G0, [1]), gpu(1, G1)], new Map<number, ProcessFacts>([[1, { cgroup: { podUid: UID_A, containerId: CID_A } }]]), [
      podGpu('ns', 'p', 'left', G0),
      podGpu('ns', 'p', 'right', G1),
    ]);
    expect(a.processes[0]?.identity).toEqual({ job: 'ns/p', pod: 'p', namespace: 'ns' });
    expect(a.allocations).toEqual([
      { uuid: G0, identity: { job: 'ns/p', pod: 'p', namespace: 'ns', container: 'left' } },
      { uuid: G1, identity: { job: 'ns/p', pod: 'p', namespace: 'ns', container: 'right' } },
    ]);
  });

  it('marks host processes external, names bare containers, and marks unreadable pids unresolved', () => {
    const a = buildAttribution(
      [gpu(0, G0, [10, 11, 12]), { index: 1, uuid: G1 }],
      new Map<number, ProcessFacts>([
        [10, { cgroup: {}, startTimeSeconds: 1 }],
        [11, { cgroup: { containerId: CID_C, runtime: 'docker' }, startTimeSeconds: 2 }],
      ]),
      [],
    );
    expect(a.processes).toEqual([
      { pid: 10, uuid: G0, usedMemoryBytes: 10_240 },
      {
        pid: 11,
        uuid: G0,
        usedMemoryBytes: 11_264,
        containerId: CID_C,
        identity: { job: 'container/cccccccccccc', container: 'cccccccccccc', startTimeSeconds: 2 },
      },
      { pid: 12, uuid: G0, usedMemoryBytes: 12_288, unresolved: true },
    ]);
    expect(a.allocations).toEqual([{ uuid: G0, identity: { job: 'container/cccccccccccc', container: 'cccccccccccc', startTimeSeconds: 2 } }]);
  });

  it('gives OpenPAI on plain Docker (no pod) its job, with the short container id', () => {
    const a = buildAttribution(
      [gpu(0, G0, [5])],
      new Map<number, ProcessFacts>([[5, { cgroup: { containerId: CID_C, runtime: 'docker' }, openPai: { job: 'bob~old', user: 'bob' } }]]),
      [],
    );
    expect(a.processes[0]?.identity).toEqual({ job: 'bob~old', user: 'bob', container: 'cccccccccccc' });
  });

  it('starts a job at its earliest process, on every GPU of the job', () => {
    const a = buildAttribution(
      [gpu(0, G0, [1]), gpu(1, G1, [2]), gpu(2, G2)],
      new Map([
        [1, paiFacts(UID_A, CID_A, 300)],
        [2, paiFacts(UID_A, CID_B, 200)],
      ]),
      [podGpu('pai', 'w', 'main', G0), podGpu('pai', 'w', 'main', G1), podGpu('pai', 'w', 'main', G2)],
    );
    expect(a.processes.map((p) => p.identity?.startTimeSeconds)).toEqual([200, 200]);
    expect(a.allocations.map((x) => [x.uuid, x.identity.job, x.identity.startTimeSeconds])).toEqual([
      [G0, 'alice~train', 200],
      [G1, 'alice~train', 200],
      [G2, 'alice~train', 200],
    ]);
  });

  it('reports one allocation per (job, GPU) however many processes the job runs there', () => {
    const a = buildAttribution(
      [gpu(0, G0, [1, 2, 3])],
      new Map([
        [1, paiFacts(UID_A, CID_A, 10)],
        [2, paiFacts(UID_A, CID_A, 11)],
        [3, paiFacts(UID_A, CID_A, 12)],
      ]),
      [],
    );
    expect(a.processes).toHaveLength(3);
    expect(a.allocations).toHaveLength(1);
    expect(a.allocations[0]?.identity.job).toBe('alice~train');
  });

  it('returns separate objects, so changing one result does not change another', () => {
    const a = buildAttribution([gpu(0, G0, [1])], new Map([[1, paiFacts(UID_A, CID_A, 10)]]), []);
    expect(a.allocations[0]?.identity).not.toBe(a.processes[0]?.identity);
  });
});
