/** Who uses a GPU: the result of job attribution. */

/** The OpenPAI / Kubernetes identity of a workload. Empty strings are never used: absent is undefined. */
export interface JobIdentity {
  /** OpenPAI job id `user~jobname` (PAI_JOB_NAME), else `namespace/pod` for a plain Kubernetes pod. */
  job: string;
  user?: string;
  vc?: string;
  /** prod | test | default | oppo, when known. */
  priority?: string;
  pod?: string;
  namespace?: string;
  container?: string;
  /** Unix seconds when the job's container (or first process seen) started, when known. */
  startTimeSeconds?: number;
}

/** MIG: the GPU instance and compute instance a process runs in. */
export interface MigInstance {
  gpuInstanceId: number;
  computeInstanceId: number;
}

/**
 * One (job, GPU) pair: the job holds this GPU (allocated by the kubelet, or seen running on it);
 * on a MIG GPU, one pair per instance the job's processes run in.
 */
export interface GpuAllocation {
  uuid: string;
  identity: JobIdentity;
  /** The MIG instance, where the job's processes tell it. */
  instance?: MigInstance;
}

/** One GPU process, with the job it belongs to, or `external` when it runs outside any container. */
export interface AttributedProcess {
  pid: number;
  uuid: string;
  usedMemoryBytes?: number;
  /** The MIG instance the process runs in, on a GPU in MIG mode. */
  instance?: MigInstance;
  /** undefined when the process is outside any container (a host process: an `external` user of the GPU) or unresolved. */
  identity?: JobIdentity;
  /** The container runtime's id for the process's container, when the process is in one. */
  containerId?: string;
  /**
   * The driver lists the process but /proc could not be read (it exited, or the exporter cannot
   * see the host's processes): neither a job nor external.
   */
  unresolved?: boolean;
}

export interface Attribution {
  allocations: GpuAllocation[];
  processes: AttributedProcess[];
}
