import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attributor } from './index.js';
import { PodResourcesCache, podResourcesListerClass } from './pod-resources.js';

const BOOT = 1_718_000_000;
const G0 = 'GPU-5b4f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';
const G1 = 'GPU-9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b';
const G2 = 'GPU-0f1e2d3c-4b5a-4968-8776-655443322110';
const PAI_CID = '3f4b7c2a9e1d8f6b5a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a';
const POD_CID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const DOCKER_CID = '9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b';
const PAI_UID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const POD_UID = '0b7a2c61-93f2-4d4b-a3e5-6c1f2e9d8a77';

const systemdPodCgroup = (uid: string, cid: string): string =>
  `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${cid}.scope\n`;

interface FakeProcess {
  cgroup?: string;
  environ?: Record<string, string>;
  startTicks?: number;
}

/** A /proc tree in a temp dir: <root>/stat and <root>/<pid>/{stat,cgroup,environ}. */
class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'gpuwatch-proc-'));

  constructor(bootTime = BOOT) {
    writeFileSync(join(this.root, 'stat'), `cpu  1 2 3 4 5 6 7 0 0 0\nctxt 99\nbtime ${bootTime}\nprocesses 9\n`);
  }

  add(pid: number, p: FakeProcess): void {
    const dir = join(this.root, String(pid));
    mkdirSync(dir, { recursive: true });
    if (p.startTicks !== undefined) {
      const fields = Array.from({ length: 50 }, (_, i) => (i === 22 - 3 ? String(p.startTicks) : '0'));
      fields[0] = 'S';
      writeFileSync(join(dir, 'stat'), `${pid} (python3 train.py) ${fields.join(' ')}\n`);
    }
    if (p.cgroup !== undefined) writeFileSync(join(dir, 'cgroup'), p.cgroup);
    if (p.environ !== undefined) {
      const entries = Object.entries(p.environ).map(([k, v]) => `${k}=${v}\0`);
      writeFileSync(join(dir, 'environ'), entries.join(''));
    }
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

const PAI_ENV = {
  PATH: '/usr/local/bin:/usr/bin',
  PAI_JOB_NAME: 'alice~resnet',
  PAI_USER_NAME: 'alice',
  PAI_VIRTUAL_CLUSTER: 'vision',
  PAI_JOB_PRIORITY: 'prod',
};

describe('Attributor over a /proc tree', () => {
  let proc: FakeProc;
  beforeEach(() => {
    proc = new FakeProc();
  });
  afterEach(() => proc.remove());

  it('attributes OpenPAI, plain pod, bare container and host processes; marks vanished ones unresolved', async () => {
    proc.add(1001, { cgroup: systemdPodCgroup(PAI_UID, PAI_CID), environ: PAI_ENV, startTicks: 250_000 });
    proc.add(1002, { cgroup: systemdPodCgroup(PAI_UID, PAI_CID), environ: PAI_ENV, startTicks: 120_000 });
    proc.add(2001, { cgroup: systemdPodCgroup(POD_UID, POD_CID), environ: { HOSTNAME: 'notebook' }, startTicks: 500 });
    proc.add(3001, { cgroup: `11:memory:/docker/${DOCKER_CID}\n3:cpu,cpuacct:/docker/${DOCKER_CID}\n`, startTicks: 700 });
    proc.add(4001, { cgroup: '0::/user.slice/user-1000.slice/session-3.scope\n', environ: PAI_ENV, startTicks: 900 });
    proc.add(5001, { startTicks: 950 }); // exited between its stat and cgroup reads

    const attributor = new Attributor({ procRoot: proc.root });
    const a = await attributor.attribute([
      { index: 0, uuid: G0, processes: [{ pid: 1001, usedMemoryBytes: 40e9 }, { pid: 4001 }, { pid: 6001 }] },
      { index: 1, uuid: G1, processes: [{ pid: 1002 }, { pid: 2001 }, { pid: 3001 }, { pid: 5001 }] },
      { index: 2, uuid: G2 },
    ]);

    const pai = {
      job: 'alice~resnet',
      user: 'alice',
      vc: 'vision',
      priority: 'prod',
      startTimeSeconds: BOOT + 1_200, // the earlier of its two processes
    };
    expect(a.processes).toEqual([
      { pid: 1001, uuid: G0, usedMemoryBytes: 40e9, identity: pai, containerId: PAI_CID },
      { pid: 4001, uuid: G0 },
      { pid: 6001, uuid: G0, unresolved: true },
      { pid: 1002, uuid: G1, identity: pai, containerId: PAI_CID },
      { pid: 2001, uuid: G1, identity: { job: `pod/${POD_UID}`, startTimeSeconds: BOOT + 5 }, containerId: POD_CID },
      {
        pid: 3001,
        uuid: G1,
        identity: { job: `container/${DOCKER_CID.slice(0, 12)}`, container: DOCKER_CID.slice(0, 12), startTimeSeconds: BOOT + 7 },
        containerId: DOCKER_CID,
      },
      { pid: 5001, uuid: G1, unresolved: true },
    ]);
    expect(a.allocations.map((x) => `${x.uuid} ${x.identity.job}`)).toEqual([
      `${G0} alice~resnet`,
      `${G1} alice~resnet`,
      `${G1} pod/${POD_UID}`,
      `${G1} container/${DOCKER_CID.slice(0, 12)}`,
    ]);
  });

  it('falls back to the pod when the environment cannot be read', async () => {
    proc.add(1001, { cgroup: systemdPodCgroup(PAI_UID, PAI_CID), startTicks: 1 });
    mkdirSync(join(proc.root, '1001', 'environ')); // EISDIR, as EACCES would fail
    const a = await new Attributor({ procRoot: proc.root }).attribute([{ index: 0, uuid: G0, processes: [{ pid: 1001 }] }]);
    expect(a.processes[0]?.identity?.job).toBe(`pod/${PAI_UID}`);
  });

  it('works without /proc/stat, leaving start times out', async () => {
    rmSync(join(proc.root, 'stat'));
    proc.add(3001, { cgroup: `0::/docker/${DOCKER_CID}\n`, startTicks: 1 });
    const a = await new Attributor({ procRoot: proc.root }).attribute([{ index: 0, uuid: G0, processes: [{ pid: 3001 }] }]);
    expect(a.processes[0]?.identity).toEqual({ job: `container/${DOCKER_CID.slice(0, 12)}`, container: DOCKER_CID.slice(0, 12) });
  });

  it('does not throw when the whole /proc tree is missing', async () => {
    const a = await new Attributor({ procRoot: join(proc.root, 'nope') }).attribute([{ index: 0, uuid: G0, processes: [{ pid: 1 }] }]);
    expect(a).toEqual({ allocations: [], processes: [{ pid: 1, uuid: G0, unresolved: true }] });
  });

  it('reads a long-lived process once, reads a reused pid again, and re-reads after the age limit', async () => {
    let now = 0;
    const attributor = new Attributor({ procRoot: proc.root, now: () => now, cacheMaxAgeMs: 60_000 });
    const gpus = [{ index: 0, uuid: G0, processes: [{ pid: 1001 }] }];
    proc.add(1001, { cgroup: systemdPodCgroup(PAI_UID, PAI_CID), environ: PAI_ENV, startTicks: 100 });
    expect((await attributor.attribute(gpus)).processes[0]?.identity?.job).toBe('alice~resnet');

    // Same pid, same start: the cached facts stand even though the files changed.
    proc.add(1001, { cgroup: `0::/docker/${DOCKER_CID}\n`, environ: {}, startTicks: 100 });
    expect((await attributor.attribute(gpus)).processes[0]?.identity?.job).toBe('alice~resnet');

    // Past the age limit the files are read again.
    now = 60_001;
    expect((await attributor.attribute(gpus)).processes[0]?.identity?.job).toBe(`container/${DOCKER_CID.slice(0, 12)}`);

    // The pid is reused by a host process: another start time, so no stale identity.
    proc.add(1001, { cgroup: '0::/user.slice/user-0.slice/session-1.scope\n', startTicks: 99_999 });
    const reused = (await attributor.attribute(gpus)).processes[0];
    expect(reused).toEqual({ pid: 1001, uuid: G0 });
  });

  it('keeps its cache bounded', async () => {
    const attributor = new Attributor({ procRoot: proc.root, cacheSize: 2 });
    for (const pid of [1, 2, 3]) proc.add(pid, { cgroup: `0::/docker/${DOCKER_CID}\n`, startTicks: pid });
    await attributor.attribute([{ index: 0, uuid: G0, processes: [{ pid: 1 }, { pid: 2 }, { pid: 3 }] }]);
    // pid 1 was evicted: its changed cgroup is read again, while pid 3's is still cached.
    proc.add(1, { cgroup: '0::/system.slice/sshd.service\n', startTicks: 1 });
    proc.add(3, { cgroup: '0::/system.slice/sshd.service\n', startTicks: 3 });
    const a = await attributor.attribute([{ index: 0, uuid: G0, processes: [{ pid: 1 }, { pid: 3 }] }]);
    expect(a.processes.map((p) => p.identity !== undefined)).toEqual([false, true]);
  });
});

describe('Attributor with the kubelet pod-resources list', () => {
  let proc: FakeProc;
  let dir: string;
  let server: grpc.Server;
  let cache: PodResourcesCache;

  beforeEach(async () => {
    proc = new FakeProc();
    dir = mkdtempSync(join(tmpdir(), 'gpuwatch-kubelet-'));
    const socket = join(dir, 'kubelet.sock');
    server = new grpc.Server();
    server.addService(podResourcesListerClass().service, {
      List: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback(null, {
          pod_resources: [
            {
              name: 'alice-resnet-worker-0',
              namespace: 'pai',
              containers: [{ name: 'worker', devices: [{ resource_name: 'nvidia.com/gpu', device_ids: [G0, G2] }] }],
            },
            {
              name: 'notebook',
              namespace: 'research',
              containers: [{ name: 'jupyter', devices: [{ resource_name: 'nvidia.com/gpu', device_ids: [G1] }] }],
            },
          ],
        }),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    cache = new PodResourcesCache({ socketPath: socket, refreshMs: 60_000 });
    cache.start();
    await cache.refresh();
  });

  afterEach(() => {
    cache.stop();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
    proc.remove();
  });

  it('names pods, and gives the OpenPAI identity to the pod’s GPU that has no process yet', async () => {
    proc.add(1001, { cgroup: systemdPodCgroup(PAI_UID, PAI_CID), environ: PAI_ENV, startTicks: 1_000 });
    proc.add(2001, { cgroup: systemdPodCgroup(POD_UID, POD_CID), startTicks: 2_000 });
    const a = await new Attributor({ procRoot: proc.root, podResources: cache }).attribute([
      { index: 0, uuid: G0, processes: [{ pid: 1001 }] },
      { index: 1, uuid: G1, processes: [{ pid: 2001 }] },
      { index: 2, uuid: G2, processes: [] },
    ]);
    const pai = {
      job: 'alice~resnet',
      user: 'alice',
      vc: 'vision',
      priority: 'prod',
      pod: 'alice-resnet-worker-0',
      namespace: 'pai',
      container: 'worker',
      startTimeSeconds: BOOT + 10,
    };
    const notebook = {
      job: 'research/notebook',
      pod: 'notebook',
      namespace: 'research',
      container: 'jupyter',
      startTimeSeconds: BOOT + 20,
    };
    expect(a.processes.map((p) => p.identity)).toEqual([pai, notebook]);
    expect(a.allocations).toEqual([
      { uuid: G0, identity: pai },
      { uuid: G1, identity: notebook },
      { uuid: G2, identity: pai },
    ]);
  });

  it('reports kubelet allocations when no process runs at all', async () => {
    const a = await new Attributor({ procRoot: proc.root, podResources: cache }).attribute([
      { index: 0, uuid: G0 },
      { index: 1, uuid: G1 },
      { index: 2, uuid: G2 },
    ]);
    expect(a.processes).toEqual([]);
    expect(a.allocations.map((x) => `${x.uuid} ${x.identity.job}`)).toEqual([
      `${G0} pai/alice-resnet-worker-0`,
      `${G2} pai/alice-resnet-worker-0`,
      `${G1} research/notebook`,
    ]);
  });
});
