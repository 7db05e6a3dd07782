/*
 * The GPM (GPU Performance Monitoring) part of the fake libnvidia-ml: nvml.h's nvmlGpm* calls
 * (R520 and newer drivers, Hopper and newer GPUs), with nvml.h's layouts, version numbers and
 * metric ids. Included by fake_nvml.c, whose device table, MIG instances and forced answers it
 * shares. Constructed from nvml.h, not recorded: no MIG GPU was at hand.
 *
 * Configuration (read at nvmlInit_v2, with the rest):
 *   FAKE_NVML_GPM=0               no device supports GPM (nvmlGpmQueryDeviceSupport says so);
 *                                 by default every device does, as the recorded H100 would.
 *   FAKE_NVML_MIG_UTIL=gi:busy:sm,...  per GPU instance of device 0 (FAKE_NVML_MIG), the percent
 *                                 NVML_GPM_METRIC_GRAPHICS_UTIL (busy time) and
 *                                 NVML_GPM_METRIC_SM_UTIL (SMs busy) report between two of its
 *                                 samples; an instance not listed reports 0 and 0.
 *   FAKE_NVML_GPM_MAX_SAMPLES=n   nvmlGpmSampleAlloc answers NVML_ERROR_MEMORY while n samples are
 *                                 allocated and not freed, so a caller that leaks samples shows.
 * Like FAKE_NVML_MIG, these are also re-read at every nvmlDeviceGetCount_v2, to stand for MIG
 * instances created or destroyed while the library is initialized.
 * A sample records the instance and a sequence number; nvmlGpmMetricsGet answers only for two
 * samples of the same instance taken in order (sample1 first), else NVML_ERROR_INVALID_ARGUMENT.
 */
#include <stddef.h>

#define NVML_GPM_METRICS_GET_VERSION 1
#define NVML_GPM_SUPPORT_VERSION 1
#define NVML_GPM_METRIC_GRAPHICS_UTIL 1
#define NVML_GPM_METRIC_SM_UTIL 2
#define GPM_SAMPLE_MAGIC 0x47504d31u

struct fake_gpm_sample {
  unsigned int magic;
  int taken;
  unsigned int gpu;
  unsigned int gpu_instance; /* NO_INSTANCE for a whole-GPU sample */
  unsigned long long sequence;
};
typedef struct fake_gpm_sample *nvmlGpmSample_t;

typedef struct {
  unsigned int version;
  unsigned int isSupportedDevice;
} nvmlGpmSupport_t;

typedef struct {
  unsigned int metricId;
  nvmlReturn_t nvmlReturn;
  double value;
  struct {
    char *shortName;
    char *longName;
    char *unit;
  } metricInfo;
} nvmlGpmMetric_t;

/* nvml.h sizes metrics[] with NVML_GPM_METRIC_MAX, which grows between releases; only the first
 * numMetrics entries are read or written, so the fake takes any length. */
typedef struct {
  unsigned int version;
  unsigned int numMetrics;
  nvmlGpmSample_t sample1;
  nvmlGpmSample_t sample2;
  nvmlGpmMetric_t metrics[];
} nvmlGpmMetricsGet_t;

_Static_assert(sizeof(nvmlGpmSupport_t) == 8, "nvmlGpmSupport_t");
_Static_assert(sizeof(nvmlGpmMetric_t) == 40, "nvmlGpmMetric_t");
_Static_assert(offsetof(nvmlGpmMetricsGet_t, metrics) == 24, "nvmlGpmMetricsGet_t");

static struct {
  int supported;
  unsigned int count;
  unsigned int gi[MAX_MIG];
  double busy[MAX_MIG], sm[MAX_MIG];
  unsigned long long sequence;
  unsigned long max_samples; /* 0: no limit */
  unsigned long live_samples;
} gpm;

/* "gi:busy:sm,..." */
static void read_gpm_config(void) {
  gpm.supported = (int)env_number("FAKE_NVML_GPM", 1) != 0;
  gpm.max_samples = env_number("FAKE_NVML_GPM_MAX_SAMPLES", 0);
  gpm.count = 0;
  const char *text = getenv("FAKE_NVML_MIG_UTIL");
  while (text && *text && gpm.count < MAX_MIG) {
    unsigned int n = gpm.count;
    if (sscanf(text, "%u:%lf:%lf", &gpm.gi[n], &gpm.busy[n], &gpm.sm[n]) != 3) break;
    gpm.count++;
    text = strchr(text, ',');
    if (text) text++;
  }
}

/* An old driver (R470) has no GPM calls. */
#ifndef FAKE_NVML_OLD_DRIVER
static int is_mig_instance(unsigned int gpu, unsigned int gpu_instance) {
  if (gpu != 0) return 0;
  for (unsigned int i = 0; i < mig.count; i++)
    if (mig.gi[i] == gpu_instance) return 1;
  return 0;
}

/* The configured percent of one metric for one instance; whole-GPU samples use the recording. */
static nvmlReturn_t gpm_value(const struct fake_gpm_sample *sample, unsigned int metric, double *value) {
  if (metric != NVML_GPM_METRIC_GRAPHICS_UTIL && metric != NVML_GPM_METRIC_SM_UTIL) return NVML_ERROR_NOT_SUPPORTED;
  if (sample->gpu_instance == NO_INSTANCE) {
    *value = H100_UTIL_GPU;
    return NVML_SUCCESS;
  }
  *value = 0;
  for (unsigned int i = 0; i < gpm.count; i++)
    if (gpm.gi[i] == sample->gpu_instance) *value = metric == NVML_GPM_METRIC_SM_UTIL ? gpm.sm[i] : gpm.busy[i];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmQueryDeviceSupport(nvmlDevice_t device, nvmlGpmSupport_t *support) {
  CHECK_DEVICE(device);
  CHECK_OUT(support);
  if (support->version != NVML_GPM_SUPPORT_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  support->isSupportedDevice = gpm.supported && device->mig < 0 ? 1 : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleAlloc(nvmlGpmSample_t *sample) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  CHECK_OUT(sample);
  nvmlReturn_t rc = forced_answer(__func__);
  if (rc != NVML_SUCCESS) return rc;
  if (gpm.max_samples > 0 && gpm.live_samples >= gpm.max_samples) return NVML_ERROR_MEMORY;
  *sample = calloc(1, sizeof(struct fake_gpm_sample));
  if (!*sample) return NVML_ERROR_MEMORY;
  (*sample)->magic = GPM_SAMPLE_MAGIC;
  gpm.live_samples++;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleFree(nvmlGpmSample_t sample) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (!sample || sample->magic != GPM_SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
  sample->magic = 0;
  free(sample);
  gpm.live_samples--;
  return NVML_SUCCESS;
}

static nvmlReturn_t take_sample(nvmlDevice_t device, unsigned int gpu_instance, nvmlGpmSample_t sample) {
  if (!sample || sample->magic != GPM_SAMPLE_MAGIC || device->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpm.supported) return NVML_ERROR_NOT_SUPPORTED;
  sample->taken = 1;
  sample->gpu = device->index;
  sample->gpu_instance = gpu_instance;
  sample->sequence = ++gpm.sequence;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlGpmSampleGet(nvmlDevice_t device, nvmlGpmSample_t sample) {
  CHECK_DEVICE(device);
  if (device->index == 0 && mig.count > 0) return NVML_ERROR_NOT_SUPPORTED; /* MIG mode: per instance only */
  return take_sample(device, NO_INSTANCE, sample);
}

nvmlReturn_t nvmlGpmMigSampleGet(nvmlDevice_t device, unsigned int gpu_instance, nvmlGpmSample_t sample) {
  CHECK_DEVICE(device);
  if (!is_mig_instance(device->index, gpu_instance)) return NVML_ERROR_INVALID_ARGUMENT;
  return take_sample(device, gpu_instance, sample);
}

nvmlReturn_t nvmlGpmMetricsGet(nvmlGpmMetricsGet_t *request) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  CHECK_OUT(request);
  nvmlReturn_t rc = forced_answer(__func__);
  if (rc != NVML_SUCCESS) return rc;
  if (request->version != NVML_GPM_METRICS_GET_VERSION) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  const struct fake_gpm_sample *first = request->sample1, *second = request->sample2;
  if (!first || !second || first->magic != GPM_SAMPLE_MAGIC || second->magic != GPM_SAMPLE_MAGIC) return NVML_ERROR_INVALID_ARGUMENT;
  if (!first->taken || !second->taken || first->gpu != second->gpu || first->gpu_instance != second->gpu_instance ||
      first->sequence >= second->sequence)
    return NVML_ERROR_INVALID_ARGUMENT;
  for (unsigned int i = 0; i < request->numMetrics; i++) {
    nvmlGpmMetric_t *metric = &request->metrics[i];
    metric->value = 0;
    metric->nvmlReturn = gpm_value(second, metric->metricId, &metric->value);
    metric->metricInfo.shortName = metric->metricInfo.longName = metric->metricInfo.unit = NULL;
  }
  return NVML_SUCCESS;
}
#endif
