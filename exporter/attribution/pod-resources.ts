/**
 * Which pod holds which GPU, from the kubelet's pod-resources API (v1, gRPC on a unix socket).
 *
 * The kubelet rate-limits this API for all of its clients together (100 calls/s), so the list
 * is fetched on a timer and scrapes read the cached copy; a failed call keeps the last good
 * answer, because a briefly unreachable kubelet does not free any GPU.
 *
 * The proto is read at run time from `pod-resources.proto` next to this module: a build must
 * ship that file beside the compiled JavaScript.
 */

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export { resolveDeviceId, type KnownGpu } from './device-id.js';

export const DEFAULT_POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

/** One GPU (or GPU slice) device that the kubelet assigned to a container. */
export interface PodGpu {
  namespace: string;
  pod: string;
  container: string;
  /** The device plugin's id: `GPU-<uuid>`, `GPU-<uuid>::N`, `MIG-<uuid>`, `0`, … */
  deviceId: string;
  /** `nvidia.com/gpu`, or e.g. `nvidia.com/mig-1g.10gb`. */
  resourceName: string;
}

/** The List reply as proto-loader decodes it (keepCase, arrays and defaults filled in). */
interface ListReply {
  pod_resources?: Array<{
    name?: string;
    namespace?: string;
    containers?: Array<{
      name?: string;
      devices?: Array<{ resource_name?: string; device_ids?: string[] }>;
    }>;
  }>;
}

const NVIDIA_RESOURCE_PREFIX = 'nvidia.com/';

/** The NVIDIA devices in a List reply, one entry per (container, device id). */
export function podGpusFromReply(reply: ListReply): PodGpu[] {
  const out: PodGpu[] = [];
  for (const pod of reply.pod_resources ?? []) {
    for (const container of pod.containers ?? []) {
      for (const devices of container.devices ?? []) {
        const resourceName = devices.resource_name ?? '';
        if (!resourceName.startsWith(NVIDIA_RESOURCE_PREFIX)) continue;
        for (const deviceId of devices.device_ids ?? []) {
          out.push({
            namespace: pod.namespace ?? '',
            pod: pod.name ?? '',
            container: container.name ?? '',
            deviceId,
            resourceName,
          });
        }
      }
    }
  }
  return out;
}

let lister: grpc.ServiceClientConstructor | undefined;

/** The generated client class of `v1.PodResourcesLister`; its `.service` can back a server too. */
export function podResourcesListerClass(): grpc.ServiceClientConstructor {
  if (lister !== undefined) return lister;
  const protoPath = fileURLToPath(new URL('./pod-resources.proto', import.meta.url));
  const definition = protoLoader.loadSync(protoPath, {
    keepCase: true,
    longs: String,
    defaults: true,
    arrays: true,
  });
  const v1 = grpc.loadPackageDefinition(definition)['v1'] as grpc.GrpcObject;
  lister = v1['PodResourcesLister'] as grpc.ServiceClientConstructor;
  return lister;
}

export type PodResourcesErrorReason = 'timeout' | 'unavailable' | 'io';

function reasonOf(err: grpc.ServiceError): PodResourcesErrorReason {
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'timeout';
  // UNIMPLEMENTED: a kubelet older than 1.20, without the v1 API.
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.UNIMPLEMENTED) return 'unavailable';
  return 'io';
}

export interface PodResourcesCacheOptions {
  socketPath?: string;
  refreshMs?: number;
  /** Deadline of each List call. */
  timeoutMs?: number;
  onError?: (reason: PodResourcesErrorReason, message: string) => void;
}

/** Kubelet replies on big nodes can pass grpc-js's 4 MiB default. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export class PodResourcesCache {
  private readonly socketPath: string;
  private readonly refreshMs: number;
  private readonly timeoutMs: number;
  private readonly onError: PodResourcesCacheOptions['onError'];
  private client: grpc.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private gpus: readonly PodGpu[] = [];
  private lastSuccess: number | undefined;

  constructor(opts: PodResourcesCacheOptions = {}) {
    this.socketPath = opts.socketPath ?? DEFAULT_POD_RESOURCES_SOCKET;
    this.refreshMs = opts.refreshMs ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.onError = opts.onError;
  }

  /** Fetches now, then every `refreshMs`. The timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    this.client = new (podResourcesListerClass())(`unix:${this.socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_REPLY_BYTES,
    });
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.client?.close();
    this.client = undefined;
  }

  /** The devices of the last successful List; empty until the first one succeeds. */
  current(): readonly PodGpu[] {
    return this.gpus;
  }

  /** When the last List succeeded (ms since the epoch), to tell a stale answer from a fresh one. */
  lastSuccessMs(): number | undefined {
    return this.lastSuccess;
  }

  /**
   * One List call, unless one is already under way (then that one is awaited). Never rejects;
   * does nothing before start() or after stop().
   */
  refresh(): Promise<void> {
    this.inFlight ??= this.list().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private list(): Promise<void> {
    const client = this.client as (grpc.Client & { List?: ListMethod }) | undefined;
    const callList = client?.List?.bind(client);
    if (callList === undefined) return Promise.resolve();
    const deadline = Date.now() + this.timeoutMs;
    return new Promise((resolve) => {
      callList({}, { deadline }, (err, reply) => {
        try {
          if (err !== null) {
            this.onError?.(reasonOf(err), `pod-resources List: ${err.message}`);
          } else {
            this.gpus = podGpusFromReply(reply ?? {});
            this.lastSuccess = Date.now();
          }
        } finally {
          resolve();
        }
      });
    });
  }
}

type ListMethod = (
  request: Record<string, never>,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, reply?: ListReply) => void,
) => grpc.ClientUnaryCall;
