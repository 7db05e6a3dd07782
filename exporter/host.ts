/**
 * Host metrics through systeminformation: CPU, memory, file systems (NFS shares included) and
 * network. Never its GPU query: that one runs nvidia-smi synchronously and would block the event loop.
 *
 * systeminformation reads fixed paths (/proc, /sys, `df`), so the readings enter through
 * `HostSource`: the real one asks systeminformation, a test one reads a recorded tree.
 */
import si, { type Systeminformation } from 'systeminformation';

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

/** The parts of systeminformation's answers that the host metrics use. */
export interface HostSource {
  currentLoad(): Promise<Pick<Systeminformation.CurrentLoadData, 'currentLoad' | 'avgLoad'>>;
  mem(): Promise<Pick<Systeminformation.MemData, 'total' | 'available'>>;
  fsSize(): Promise<Pick<Systeminformation.FsSizeData, 'fs' | 'type' | 'size' | 'available' | 'mount'>[]>;
  networkStats(): Promise<Pick<Systeminformation.NetworkStatsData, 'iface' | 'rx_bytes' | 'tx_bytes'>[]>;
}

/** This machine, as systeminformation reads it. */
export const systemInformation: HostSource = {
  currentLoad: () => si.currentLoad(),
  mem: () => si.mem(),
  fsSize: () => si.fsSize(),
  networkStats: () => si.networkStats('*'),
};

/** Pseudo file systems that say nothing about capacity. */
const IGNORED_FSTYPES = new Set(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'nsfs']);

export async function readHost(source: HostSource = systemInformation): Promise<HostReading> {
  const [load, mem, fs, net] = await Promise.all([source.currentLoad(), source.mem(), source.fsSize(), source.networkStats()]);
  return {
    cpuUtilizationRatio: finite(load.currentLoad / 100),
    load1: finite(load.avgLoad),
    memoryTotalBytes: finite(mem.total),
    memoryAvailableBytes: finite(mem.available),
    filesystems: fs
      .filter((f) => !IGNORED_FSTYPES.has(f.type) && f.size > 0)
      .map((f) => ({ mountpoint: f.mount, fstype: f.type, device: f.fs, sizeBytes: f.size, availableBytes: f.available })),
    network: net.filter((n) => n.iface !== 'lo').map((n) => ({ interface: n.iface, receiveBytes: n.rx_bytes, transmitBytes: n.tx_bytes })),
  };
}

function finite(n: number): number | undefined {
  return Number.isFinite(n) ? n : undefined;
}
