/**
 * Which firing alerts count as GPU health alerts on the overview. Prometheus exposes firing alerts
 * as the `ALERTS` series; the generated health alerts (ECC, row remapping, retired pages, XID,
 * thermal/power slowdown, temperature, HBM temperature, PCIe replays, slow performance state, memory
 * held with no process, a GPU needing a reset) and a GPU missing from a node are selected by name. Job
 * alerts (`GpuJob…`, `GpuExternalProcess`) are not health alerts. rules-gen/generate.test.ts checks
 * this regex against the names the generator writes.
 */
export const GPU_HEALTH_ALERT_NAMES =
  'Gpu(Ecc|RowRemap|RetiredPages|Xid|Thermal|Power|Temperature|MemoryTemperature|PcieReplays|LowPerformanceState|MemoryWithoutProcess|ResetRequired).*|NodeGpusMissing';
