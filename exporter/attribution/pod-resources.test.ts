import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PodResourcesCache, podGpusFromReply, podResourcesListerClass, resolveDeviceId } from './pod-resources.js';

const UUID0 = 'GPU-5b4f6c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';
const UUID1 = 'GPU-9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b';

/** A kubelet List reply in the shape proto-loader decodes it, with GPU, MIG, CPU-only and other-vendor pods. */
const REPLY = {
  pod_resources: [
    {
      name: 'trainer-0',
      namespace: 'pai',
      containers: [
        {
          name: 'main',
          devices: [
            { resource_name: 'nvidia.com/gpu', device_ids: [UUID0, UUID1], topology: { nodes: [{ ID: '0' }] } },
            { resource_name: 'example.com/nic', device_ids: ['nic0'] },
          ],
          cpu_ids: ['2', '3'],
        },
        { name: 'sidecar', devices: [], cpu_ids: [] },
      ],
    },
    {
      name: 'notebook',
      namespace: 'research',
      containers: [{ name: 'jupyter', devices: [{ resource_name: 'nvidia.com/mig-1g.10gb', device_ids: ['MIG-11111111-2222-4333-8444-555555555555'] }] }],
    },
    { name: 'web', namespace: 'default', containers: [{ name: 'nginx', devices: [], cpu_ids: [] }] },
  ],
};

describe('podGpusFromReply', () => {
  it('keeps only nvidia.com/ resources, one entry per container and device', () => {
    expect(podGpusFromReply(REPLY)).toEqual([
      { namespace: 'pai', pod: 'trainer-0', container: 'main', deviceId: UUID0, resourceName: 'nvidia.com/gpu' },
      { namespace: 'pai', pod: 'trainer-0', container: 'main', deviceId: UUID1, resourceName: 'nvidia.com/gpu' },
      {
        namespace: 'research',
        pod: 'notebook',
        container: 'jupyter',
        deviceId: 'MIG-11111111-2222-4333-8444-555555555555',
        resourceName: 'nvidia.com/mig-1g.10gb',
      },
    ]);
  });

  it('accepts an empty reply', () => {
    expect(podGpusFromReply({})).toEqual([]);
  });
});

describe('resolveDeviceId', () => {
  const gpus = [
    { index: 0, uuid: UUID0 },
    { index: 1, uuid: UUID1 },
  ];
  it.each([
    [UUID0, UUID0],
    [UUID1.toUpperCase(), UUID1],
    ['GPU-00000000-0000-4000-8000-000000000000', 'GPU-00000000-0000-4000-8000-000000000000'],
    [`${UUID1}::3`, UUID1],
    [`${UUID0}::0`, UUID0],
    ['1', UUID1],
    ['nvidia0', UUID0],
    ['7', undefined],
    ['nvidia7', undefined],
    ['MIG-11111111-2222-4333-8444-555555555555', undefined],
    [`MIG-${UUID0}/1/0`, undefined],
    ['0:1', undefined],
    ['', undefined],
  ])('%s -> %s', (id, expected) => {
    expect(resolveDeviceId(id, gpus)).toBe(expected);
  });

  it('resolves a MIG id the GPU list carries', () => {
    const mig = 'MIG-11111111-2222-4333-8444-555555555555';
    expect(resolveDeviceId(mig, [...gpus, { index: 2, uuid: mig }])).toBe(mig);
  });
});

/** A kubelet stand-in: the same proto, served by grpc-js on a unix socket in a temp dir. */
class FakeKubelet {
  calls = 0;
  reply: unknown = REPLY;
  private server: grpc.Server | undefined;

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    const server = new grpc.Server();
    server.addService(podResourcesListerClass().service, {
      List: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        this.calls += 1;
        callback(null, this.reply);
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

describe('PodResourcesCache against a gRPC server', () => {
  let dir: string;
  let kubelet: FakeKubelet;
  let cache: PodResourcesCache | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gpuwatch-podres-'));
    kubelet = new FakeKubelet(join(dir, 'kubelet.sock'));
    await kubelet.start();
  });

  afterEach(() => {
    vi.useRealTimers();
    cache?.stop();
    cache = undefined;
    kubelet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills from List, then keeps the last good answer when the kubelet goes away', async () => {
    const errors: Array<[string, string]> = [];
    cache = new PodResourcesCache({
      socketPath: kubelet.socketPath,
      refreshMs: 60_000,
      timeoutMs: 5_000, // generous: a live or a gone kubelet answers at once, a loaded machine must not turn that into "timeout"
      onError: (reason, message) => errors.push([reason, message]),
    });
    expect(cache.current()).toEqual([]);
    cache.start();
    await cache.refresh();
    expect(cache.current().map((g) => g.deviceId)).toEqual([UUID0, UUID1, 'MIG-11111111-2222-4333-8444-555555555555']);
    const filledAt = cache.lastSuccessMs();
    expect(filledAt).toBeTypeOf('number');

    kubelet.stop();
    await cache.refresh();
    expect(errors.length).toBe(1);
    expect(errors[0]?.[0]).toBe('unavailable');
    expect(cache.current().map((g) => g.pod)).toEqual(['trainer-0', 'trainer-0', 'notebook']);
    expect(cache.lastSuccessMs()).toBe(filledAt);
  });

  it('takes a new answer on the next successful call', async () => {
    cache = new PodResourcesCache({ socketPath: kubelet.socketPath, refreshMs: 60_000 });
    cache.start();
    await cache.refresh();
    expect(cache.current()).toHaveLength(3);
    kubelet.reply = { pod_resources: [] };
    await cache.refresh();
    expect(cache.current()).toEqual([]);
  });

  it('reports a timeout when the kubelet does not answer within the deadline', async () => {
    kubelet.stop();
    // A server that accepts the call and never answers.
    const silent = new grpc.Server();
    silent.addService(podResourcesListerClass().service, { List: () => undefined });
    const socketPath = join(dir, 'silent.sock');
    await new Promise<void>((resolve, reject) =>
      silent.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    const reasons: string[] = [];
    cache = new PodResourcesCache({ socketPath, refreshMs: 60_000, timeoutMs: 150, onError: (r) => reasons.push(r) });
    cache.start();
    // The server never answers: refresh() ends only because the call's deadline ran out.
    await cache.refresh();
    silent.forceShutdown();
    expect(reasons).toEqual(['timeout']);
    expect(cache.current()).toEqual([]);
  });

  /** The refresh timer runs on a fake clock; the gRPC calls themselves stay real. */
  const fakeRefreshTimer = () => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });

  it('calls List on its timer only, however often current() is read', async () => {
    fakeRefreshTimer();
    cache = new PodResourcesCache({ socketPath: kubelet.socketPath, refreshMs: 100 });
    cache.start();
    await cache.refresh();
    expect(cache.current()).toHaveLength(3);
    expect(kubelet.calls).toBe(1);
    let reads = 0;
    for (let round = 1; round <= 10; round++) {
      for (let i = 0; i < 100; i++) if (cache.current().length === 3) reads += 1;
      vi.advanceTimersByTime(100);
      // The call the timer just started; any call a read had started went out before it, on the
      // same connection, so the kubelet has counted it by the time this one is answered.
      await cache.refresh();
      expect(kubelet.calls).toBe(round + 1);
    }
    expect(reads).toBe(1000);
  });

  it('stops calling after stop()', async () => {
    fakeRefreshTimer();
    cache = new PodResourcesCache({ socketPath: kubelet.socketPath, refreshMs: 50 });
    cache.start();
    await cache.refresh();
    vi.advanceTimersByTime(50);
    await cache.refresh();
    expect(kubelet.calls).toBe(2);
    cache.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(500);
    await cache.refresh();
    expect(kubelet.calls).toBe(2);
  });
});
