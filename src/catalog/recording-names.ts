/**
 * Names of the recording rules gpuwatch generates: the contract between the generated Prometheus
 * rules, the generated dashboards and the alert rules. Every per-GPU join with job attribution is
 * done once here, so dashboards and alerts never recompute it.
 *
 * Every series carries `cluster` (added at scrape time from the generated scrape config).
 */
export const RECORDING = {
  /**
   * Per GPU: utilization with the job that holds the GPU (GPUs no job holds keep job=""). labels: cluster,node,gpu,uuid,job,user,vc,priority.
   * On a GPU in MIG mode one series per GPU instance instead, from gpuwatch_gpu_mig_utilization_ratio, with gpu_instance_id added.
   */
  gpuUtilizationByJob: 'gpuwatch:gpu_utilization:by_job',
  /** Per node: mean GPU utilization. labels: cluster,node */
  nodeUtilization: 'gpuwatch:node_gpu_utilization:avg',
  /** Per job: mean utilization of its GPUs. labels: cluster,job,user,vc,priority */
  jobUtilization: 'gpuwatch:job_gpu_utilization:avg',
  /** Per job: GPUs it holds. labels: cluster,job,user,vc,priority */
  jobGpus: 'gpuwatch:job_gpus:count',
  /** Per VC: mean utilization of its jobs' GPUs. labels: cluster,vc */
  vcUtilization: 'gpuwatch:vc_gpu_utilization:avg',
  /** Per VC: GPUs allocated to its jobs. labels: cluster,vc */
  vcGpus: 'gpuwatch:vc_gpus_allocated:sum',
  /** Per user: mean utilization of the user's GPUs. labels: cluster,user */
  userUtilization: 'gpuwatch:user_gpu_utilization:avg',
  /** Per user: GPUs allocated. labels: cluster,user */
  userGpus: 'gpuwatch:user_gpus_allocated:sum',
  /** Per layout.yaml worker: GPUs its SKU declares (0 for a worker without GPUs); exists even when the node reports nothing. labels: cluster,node */
  layoutNodeGpus: 'gpuwatch:node_gpus_expected:layout',
  /** Per cluster: GPUs layout.yaml says the cluster has. labels: cluster */
  clusterGpusExpected: 'gpuwatch:cluster_gpus_expected:sum',
  /** Per cluster: GPUs the exporters see. labels: cluster */
  clusterGpusSeen: 'gpuwatch:cluster_gpus_seen:sum',
  /** Per cluster: GPUs allocated to jobs. labels: cluster */
  clusterGpusAllocated: 'gpuwatch:cluster_gpus_allocated:sum',
  /** Per cluster: mean GPU utilization. labels: cluster */
  clusterUtilization: 'gpuwatch:cluster_gpu_utilization:avg',
} as const;

export type RecordingName = (typeof RECORDING)[keyof typeof RECORDING];
