/**
 * Parsing of /proc/<pid>/cgroup: which container (and which Kubernetes pod) a process runs in.
 *
 * The file has one line per hierarchy, `hierarchy-id:controllers:path`. cgroup v1 has many
 * lines (`4:cpu,cpuacct:/docker/<id>`), cgroup v2 one (`0::/kubepods.slice/...`), hybrid
 * systems both. Every line is parsed and the most informative one wins, because on hybrid
 * systems the v2 line of a v1 container is often just `/` or a systemd service.
 *
 * Paths are matched segment by segment, not as a whole, so the same rules work for absolute
 * paths and for the relative ones a reader inside its own cgroup namespace sees
 * (`/../../kubepods.slice/...`).
 */

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o';
export type PodQos = 'guaranteed' | 'burstable' | 'besteffort';

export interface CgroupInfo {
  /** The runtime's 64-hex container id; absent for host processes. */
  containerId?: string;
  /** Kubernetes pod UID with dashes (or the 32-hex config hash of a static pod). */
  podUid?: string;
  /**
   * Absent when the path does not say: a bare 64-hex segment under a cgroupfs-driver
   * `kubepods` tree looks the same for containerd and for the old dockershim.
   */
  runtime?: ContainerRuntime;
  qos?: PodQos;
}

const CONTAINER_ID = '[0-9a-f]{64}';
/** Systemd-driver scope units, `<prefix>-<id>.scope`. */
const SCOPE_PATTERNS: ReadonlyArray<[RegExp, ContainerRuntime | undefined]> = [
  [new RegExp(`^docker-(${CONTAINER_ID})\\.scope$`), 'docker'],
  [new RegExp(`^cri-containerd-(${CONTAINER_ID})\\.scope$`), 'containerd'],
  // CRI-O uses `crio-<id>.scope` (systemd) or `crio-<id>` (cgroupfs); `crio-conmon-<id>` is the
  // monitor process of that container, not the container, and does not match `crio-<hex>`.
  [new RegExp(`^crio-(${CONTAINER_ID})(?:\\.scope)?$`), 'cri-o'],
  // Podman: a container, but of no runtime the output type names.
  [new RegExp(`^libpod-(${CONTAINER_ID})\\.scope$`), undefined],
];
const BARE_ID = new RegExp(`^(${CONTAINER_ID})$`);

const UID_DASHED = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UID_UNDERSCORED = '[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}';
/** Static (mirror) pods use a 32-hex config hash as their UID. */
const UID_STATIC = '[0-9a-f]{32}';
/** cgroupfs driver: `pod<uid>` below `kubepods`, `kubepods/burstable` or `kubepods/besteffort`. */
const CGROUPFS_POD = new RegExp(`^pod(${UID_DASHED}|${UID_STATIC})$`);
/** systemd driver: `kubepods-pod<uid>.slice` (guaranteed) or `kubepods-<qos>-pod<uid>.slice`. */
const SYSTEMD_POD = new RegExp(`^kubepods(?:-(burstable|besteffort))?-pod(${UID_UNDERSCORED}|${UID_STATIC})\\.slice$`);

interface ContainerMatch {
  id: string;
  runtime?: ContainerRuntime;
}

function matchContainer(segment: string, parent: string | undefined): ContainerMatch | undefined {
  for (const [pattern, runtime] of SCOPE_PATTERNS) {
    const id = pattern.exec(segment)?.[1];
    if (id !== undefined) return runtime === undefined ? { id } : { id, runtime };
  }
  const bare = BARE_ID.exec(segment)?.[1];
  if (bare === undefined) return undefined;
  // `/docker/<id>` is plain Docker's cgroupfs layout; elsewhere (kubepods cgroupfs) it is ambiguous.
  return parent === 'docker' ? { id: bare, runtime: 'docker' } : { id: bare };
}

interface PodMatch {
  uid: string;
  qos?: PodQos;
}

function qosOfCgroupfsParent(parent: string | undefined): PodQos | undefined {
  if (parent === 'burstable' || parent === 'besteffort') return parent;
  // Guaranteed pods sit directly below the kubepods root.
  if (parent === 'kubepods') return 'guaranteed';
  return undefined; // e.g. `..`: the reader's cgroup namespace hides the parent
}

function matchPod(segment: string, parent: string | undefined): PodMatch | undefined {
  const systemd = SYSTEMD_POD.exec(segment);
  if (systemd?.[2] !== undefined) {
    const qos = (systemd[1] as PodQos | undefined) ?? 'guaranteed';
    return { uid: systemd[2].replaceAll('_', '-'), qos };
  }
  const cgroupfs = CGROUPFS_POD.exec(segment)?.[1];
  if (cgroupfs === undefined) return undefined;
  const qos = qosOfCgroupfsParent(parent);
  return qos === undefined ? { uid: cgroupfs } : { uid: cgroupfs, qos };
}

/** Parses one cgroup path. The outermost container wins: it is the one the host's runtime knows. */
export function parseCgroupPath(path: string): CgroupInfo {
  const info: CgroupInfo = {};
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  segments.forEach((segment, i) => {
    const parent = segments[i - 1];
    if (info.podUid === undefined) {
      const pod = matchPod(segment, parent);
      if (pod !== undefined) {
        info.podUid = pod.uid;
        if (pod.qos !== undefined) info.qos = pod.qos;
        return;
      }
    }
    if (info.containerId === undefined) {
      const container = matchContainer(segment, parent);
      if (container !== undefined) {
        info.containerId = container.id;
        if (container.runtime !== undefined) info.runtime = container.runtime;
      }
    }
  });
  return info;
}

function score(info: CgroupInfo): number {
  return (info.containerId !== undefined ? 2 : 0) + (info.podUid !== undefined ? 1 : 0);
}

/**
 * Parses the contents of /proc/<pid>/cgroup. A host process (`/user.slice/...`,
 * `/system.slice/sshd.service`, `/`) yields `{}`: no container.
 */
export function parseCgroupFile(text: string): CgroupInfo {
  let best: CgroupInfo = {};
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const info = parseCgroupPath(line.slice(second + 1).trim());
    if (score(info) > score(best)) best = info;
  }
  return best;
}
