/**
 * Mapping of kubelet device ids (as the NVIDIA device plugin names them) to GPU uuids.
 *
 * - `GPU-<uuid>`: the plugin's default `uuid` id strategy; returned as is (in the GPU list's
 *   spelling when the list has it).
 * - `N` or `nvidiaN`: the `index` id strategy and older plugins; the uuid of GPU index N.
 * - `<id>::N`: replica N of a time-sliced GPU; the suffix is dropped.
 * - `MIG-…`: a MIG instance. The exporter reads whole GPUs, so a MIG id resolves only when the
 *   GPU list itself carries that MIG uuid; otherwise it is unresolved (undefined) and the
 *   allocation is not reported, rather than guessed onto a parent GPU.
 */

export interface KnownGpu {
  index: number;
  uuid: string;
}

const REPLICA_SUFFIX = /::\d+$/;
const INDEX_ID = /^(?:nvidia)?(\d+)$/;

function findUuid(id: string, gpus: readonly KnownGpu[]): string | undefined {
  const wanted = id.toLowerCase();
  return gpus.find((g) => g.uuid.toLowerCase() === wanted)?.uuid;
}

export function resolveDeviceId(deviceId: string, gpus: readonly KnownGpu[]): string | undefined {
  const id = deviceId.trim().replace(REPLICA_SUFFIX, '');
  if (/^GPU-/i.test(id)) return findUuid(id, gpus) ?? id;
  if (/^MIG-/i.test(id)) return findUuid(id, gpus);
  const index = INDEX_ID.exec(id)?.[1];
  if (index === undefined) return undefined;
  return gpus.find((g) => g.index === Number(index))?.uuid;
}
