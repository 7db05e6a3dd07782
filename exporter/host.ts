/**
 * Host metrics through systeminformation: CPU, memory, file systems (NFS shares included) and
 * network. Never its GPU query: that one runs nvidia-smi synchronously and would block the event loop.
 */
import si from 'systeminformation';

export interface FilesystemReading {
  mountpoint: string;
  fstype: string;
  device: string;
  sizeBytes: number;
  availableBytes: number;
}

export interface NetworkReading {
  interface: string;
  receiveBytes: number;
  transmitBytes: number;
}

export interface HostReading {
  cpuUtilizationRatio?: number;
  load1?: number;
  memoryTotalBytes?: number;
  memoryAvailableBytes?: number;
  filesystems: FilesystemReading[];
  network: NetworkReading[];
}

/** Pseudo file systems that say nothing about capacity. */
const IGNORED_FSTYPES = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'nsfs']);

export async function readHost(): Promise<HostReading> {
  const [load, mem, fs, net] = await Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats('*')]);
  return {
    cpuUtilizationRatio: finite(load.currentLoad / 100),
    load1: finite(load.avgLoad),
    memoryTotalBytes: finite(mem.total),
    memoryAvailableBytes: finite(mem.available),
    filesystems: fs
      .filter((f) => !IGNORED_FSTYPES.has(f.type) && f.size > 0)
      .map((f) => ({ mountpoint: f.mount, fstype: f.type, device: f.fs, sizeBytes: f.size, availableBytes: f.available })),
    network: net
      .filter((n) => n.iface !== 'lo')
      .map((n) => ({ interface: n.iface, receiveBytes: n.rx_bytes, transmitBytes: n.tx_bytes })),
  };
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}
