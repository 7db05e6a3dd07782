/*
 * A stand-in for libnvidia-ml.so.1, for tests on machines without a GPU.
 *
 * It exports the NVML C functions the exporter's NVML backend calls, with the layouts and
 * return codes of NVIDIA's nvml.h, and answers with the values recorded from a real
 * NVIDIA H100 80GB HBM3 on driver 580.159.04 (test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580:
 * q-busy.xml for the busy snapshot, nvml.txt for what only NVML reports).
 *
 * Configuration, read from the environment at every nvmlInit_v2 (so a test sets the variables,
 * opens the backend, and closes it before changing them):
 *   FAKE_NVML_GPUS=N              number of devices (default 1, at most 64); device 0 is the
 *                                 recorded H100, the others copy it with their own uuid and bus id.
 *                                 Also re-read at every nvmlDeviceGetCount_v2, to stand for a GPU
 *                                 that appears or disappears while the library is initialized.
 *   FAKE_NVML_NOT_SUPPORTED=a,b   functions (by name) that answer NVML_ERROR_NOT_SUPPORTED.
 *   FAKE_NVML_FAIL=a:rc,b:rc      functions that answer the given return code.
 *   FAKE_NVML_LOST_GPU=i          device i answers NVML_ERROR_GPU_IS_LOST to every call.
 *   FAKE_NVML_GPU_RC=i:rc         device i answers rc to every call but its identity (uuid, name,
 *                                 PCI info), as a GPU that needs a reset (16) or is not ready (27).
 *   FAKE_NVML_INIT_RC=rc          nvmlInit_v2 answers rc (e.g. 9, DRIVER_NOT_LOADED).
 *   FAKE_NVML_ECC_UNCORRECTED=n   uncorrected ECC count, volatile and aggregate (default 0).
 *   FAKE_NVML_RETIRED_PAGES=s,d,p retired pages (single-bit, double-bit, pending 0/1); unset: the
 *                                 H100's answer, NVML_ERROR_NOT_SUPPORTED.
 *   FAKE_NVML_HANG=a:ms,b:ms      device functions that sleep ms milliseconds before answering, as
 *                                 a driver stuck inside a call would. Also re-read at every
 *                                 nvmlDeviceGetCount_v2, so a test can end the hang later.
 *   FAKE_NVML_XID=xid             every event wait delivers one XID critical-error event with
 *                                 this code after FAKE_NVML_XID_INTERVAL_MS (default 50, capped by
 *                                 the wait's timeout), for device FAKE_NVML_XID_GPU (default 0).
 *   FAKE_NVML_GRAPHICS_PROCESS=pid:mib  device 0 also lists this graphics process.
 *   FAKE_NVML_NVLINKS=n           every device has n active NVLinks (the recorded H100 has none:
 *                                 NOT_SUPPORTED); link l counts replay l+1, recovery 0, CRC flit 2,
 *                                 CRC data 3 errors and (l+1)*1000 KiB sent, (l+1)*2000 received.
 *   FAKE_NVML_MIG=gi:ci:total:used,...  device 0 is in MIG mode with these MIG devices (GPU and
 *                                 compute instance ids, memory total and used in MiB); its
 *                                 utilization answers NOT_SUPPORTED, as in MIG mode, and the
 *                                 recorded process runs in the first instance. Constructed from
 *                                 nvml.h's MIG API, not recorded: no MIG GPU was at hand. Also
 *                                 re-read at every nvmlDeviceGetCount_v2 (instances created or
 *                                 destroyed while the library is initialized).
 *   FAKE_NVML_GPM, FAKE_NVML_MIG_UTIL  GPM support and per-instance utilization: see fake_gpm.c.
 * Without FAKE_NVML_XID an event wait sleeps its whole timeout and answers NVML_ERROR_TIMEOUT.
 *
 * Built with -DFAKE_NVML_OLD_DRIVER it leaves out the symbols that R510 and newer drivers added
 * (nvmlDeviceGetTemperatureV, nvmlDeviceGetMemoryInfo_v2, nvmlDeviceGetCurrentClocksEventReasons,
 * the *RunningProcesses_v3 calls), as an R470 libnvidia-ml.so.1 would. With
 * -DFAKE_NVML_PROCESS_V1_ONLY it also lacks the *RunningProcesses_v2 calls (drivers before R450):
 * only the unversioned calls with the 16-byte nvmlProcessInfo_v1_t are left. An old driver also
 * lacks the GPM calls (R520 and newer).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int nvmlReturn_t;
enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_TIMEOUT = 10,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_RESET_REQUIRED = 16,
  NVML_ERROR_MEMORY = 20,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_NOT_READY = 27,
  NVML_ERROR_UNKNOWN = 999
};

#define MAX_DEVICES 64
#define MAX_MIG 7
#define MIB (1024ULL * 1024ULL)
#define EVENT_TYPE_XID_CRITICAL_ERROR 0x8ULL
#define NO_INSTANCE 0xFFFFFFFFu
#define STRUCT_VERSION(type, ver) ((unsigned int)(sizeof(type) | ((unsigned int)(ver) << 24)))

struct fake_device {
  unsigned int index; /* the GPU's index (for a MIG device: its parent GPU's) */
  int mig;            /* -1 for a whole GPU, else the MIG device's index on its parent */
};
typedef struct fake_device *nvmlDevice_t;

struct fake_event_set {
  unsigned long long registered[MAX_DEVICES];
};
typedef struct fake_event_set *nvmlEventSet_t;

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

typedef struct {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;

typedef struct {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_v2_t;

typedef struct {
  unsigned int version;
  int sensorType;
  int temperature;
} nvmlTemperature_v1_t;

typedef struct {
  char busIdLegacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;
  unsigned int pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;

typedef union {
  double dVal;
  int siVal;
  unsigned int uiVal;
  unsigned long ulVal;
  unsigned long long ullVal;
  signed long long sllVal;
  unsigned short usVal;
} nvmlValue_t;

typedef struct {
  unsigned int fieldId;
  unsigned int scopeId;
  long long timestamp;
  long long latencyUsec;
  int valueType;
  nvmlReturn_t nvmlReturn;
  nvmlValue_t value;
} nvmlFieldValue_t;

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
  nvmlDevice_t device;
  unsigned long long eventType;
  unsigned long long eventData;
  unsigned int gpuInstanceId;
  unsigned int computeInstanceId;
} nvmlEventData_t;

/* Layouts as in nvml.h on x86-64 / aarch64. */
_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t");
_Static_assert(sizeof(nvmlTemperature_v1_t) == 12, "nvmlTemperature_v1_t");
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t");
_Static_assert(sizeof(nvmlFieldValue_t) == 40, "nvmlFieldValue_t");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t");
_Static_assert(sizeof(nvmlEventData_t) == 32, "nvmlEventData_t");

/* The recorded H100 (q-busy.xml, nvml.txt). */
#define H100_NAME "NVIDIA H100 80GB HBM3"
#define H100_UUID "GPU-46c48243-40b2-7121-5852-ddeebd67760c"
#define H100_DRIVER "580.159.04"
#define H100_PCI_DEVICE_ID 0x233010DEu
#define H100_PCI_SUBSYSTEM_ID 0x16C110DEu
#define H100_UTIL_GPU 100
#define H100_UTIL_MEMORY 33
#define H100_MEM_TOTAL_MIB 81559ULL
#define H100_MEM_RESERVED_MIB 480ULL
#define H100_MEM_USED_MIB 20213ULL
#define H100_MEM_FREE_MIB 60867ULL
#define H100_TEMP_GPU 55
#define H100_TEMP_MEMORY 46
#define H100_POWER_MW 699500u
#define H100_POWER_LIMIT_MW 700000u
#define H100_ENERGY_MJ 2465456ULL
#define H100_CLOCK_GRAPHICS_MHZ 1350u
#define H100_CLOCK_SM_MHZ 1350u
#define H100_CLOCK_MEM_MHZ 2619u
#define H100_CLOCK_VIDEO_MHZ 1365u
#define H100_PSTATE 0
#define H100_CLOCK_EVENT_REASONS 0x4ULL /* sw_power_cap Active, all others Not Active */
#define H100_PROCESS_PID 633u
#define H100_PROCESS_NAME "python3"
#define H100_PROCESS_MEMORY_MIB 20204ULL

static struct {
  int init_count;
  unsigned int gpus;
  char not_supported[2048];
  char fail[2048];
  char hang[2048];
  int lost_gpu;
  int state_gpu;
  int state_rc;
  unsigned long long ecc_uncorrected;
  int retired_supported;
  unsigned int retired_sbe, retired_dbe, retired_pending;
  unsigned long long xid;
  unsigned int xid_interval_ms;
  unsigned int xid_gpu;
  unsigned int nvlinks;
} config;

/* Whole GPUs first, then MAX_MIG MIG device slots per GPU. */
static struct fake_device devices[MAX_DEVICES * (1 + MAX_MIG)];
#define MIG_HANDLE(gpu, slot) (&devices[MAX_DEVICES + (gpu) * MAX_MIG + (slot)])

/* FAKE_NVML_MIG: GPU 0 in MIG mode with these instances. */
static struct {
  unsigned int count;
  unsigned int gi[MAX_MIG], ci[MAX_MIG];
  unsigned long long total_mib[MAX_MIG], used_mib[MAX_MIG];
} mig;

/* FAKE_NVML_GRAPHICS_PROCESS: one graphics process on GPU 0. */
static struct {
  unsigned int pid;
  unsigned long long mib;
} graphics;

static void read_mig_config(void);
static void read_graphics_config(void);
static void read_gpm_config(void);

static unsigned long env_number(const char *name, unsigned long fallback) {
  const char *text = getenv(name);
  return text && *text ? strtoul(text, NULL, 10) : fallback;
}

static void env_copy(const char *name, char *target, size_t size) {
  const char *text = getenv(name);
  snprintf(target, size, "%s", text ? text : "");
}

static unsigned int gpu_count_from_env(void) {
  unsigned long n = env_number("FAKE_NVML_GPUS", 1);
  return n > MAX_DEVICES ? MAX_DEVICES : (unsigned int)n;
}

static void read_config(void) {
  config.gpus = gpu_count_from_env();
  env_copy("FAKE_NVML_NOT_SUPPORTED", config.not_supported, sizeof config.not_supported);
  env_copy("FAKE_NVML_FAIL", config.fail, sizeof config.fail);
  env_copy("FAKE_NVML_HANG", config.hang, sizeof config.hang);
  config.lost_gpu = getenv("FAKE_NVML_LOST_GPU") ? (int)env_number("FAKE_NVML_LOST_GPU", 0) : -1;
  const char *state = getenv("FAKE_NVML_GPU_RC");
  if (!state || sscanf(state, "%d:%d", &config.state_gpu, &config.state_rc) != 2) config.state_gpu = -1;
  config.ecc_uncorrected = env_number("FAKE_NVML_ECC_UNCORRECTED", 0);
  const char *retired = getenv("FAKE_NVML_RETIRED_PAGES");
  config.retired_supported =
      retired && sscanf(retired, "%u,%u,%u", &config.retired_sbe, &config.retired_dbe,
                        &config.retired_pending) == 3;
  config.xid = env_number("FAKE_NVML_XID", 0);
  config.xid_interval_ms = (unsigned int)env_number("FAKE_NVML_XID_INTERVAL_MS", 50);
  config.xid_gpu = (unsigned int)env_number("FAKE_NVML_XID_GPU", 0);
  config.nvlinks = (unsigned int)env_number("FAKE_NVML_NVLINKS", 0);
  for (unsigned int i = 0; i < MAX_DEVICES; i++) {
    devices[i].index = i;
    devices[i].mig = -1;
    for (int slot = 0; slot < MAX_MIG; slot++) {
      MIG_HANDLE(i, slot)->index = i;
      MIG_HANDLE(i, slot)->mig = slot;
    }
  }
  read_mig_config();
  read_graphics_config();
  read_gpm_config();
}

/* Looks `name` up in a comma-separated list of `name` or `name:rc` entries; returns the entry's
 * rc (or `plain` for an entry without one), or -1 when the name is not listed. */
static int listed(const char *list, const char *name, int plain) {
  size_t length = strlen(name);
  for (const char *entry = list; *entry;) {
    const char *end = strchr(entry, ',');
    size_t entry_length = end ? (size_t)(end - entry) : strlen(entry);
    if (entry_length >= length && strncmp(entry, name, length) == 0) {
      if (entry_length == length) return plain;
      if (entry[length] == ':') return (int)strtol(entry + length + 1, NULL, 10);
    }
    if (!end) break;
    entry = end + 1;
  }
  return -1;
}

static nvmlReturn_t forced_answer(const char *function) {
  int rc = listed(config.fail, function, NVML_ERROR_UNKNOWN);
  if (rc >= 0) return rc;
  rc = listed(config.not_supported, function, NVML_ERROR_NOT_SUPPORTED);
  return rc >= 0 ? rc : NVML_SUCCESS;
}

static void sleep_ms(unsigned int ms) {
  struct timespec wait = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&wait, &wait) != 0) {
  }
}

/* The answer every device call starts with: initialized, a handle of ours, not lost, not forced.
 * A function listed in FAKE_NVML_HANG sleeps first. */
static nvmlReturn_t device_answer(nvmlDevice_t device, const char *function) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (device < devices || device >= devices + MAX_DEVICES * (1 + MAX_MIG) || device->index >= config.gpus)
    return NVML_ERROR_INVALID_ARGUMENT;
  if (device->mig >= 0 && (device->index != 0 || device->mig >= (int)mig.count))
    return NVML_ERROR_INVALID_ARGUMENT;
  int hang_ms = listed(config.hang, function, 0);
  if (hang_ms > 0) sleep_ms((unsigned int)hang_ms);
  if ((int)device->index == config.lost_gpu) return NVML_ERROR_GPU_IS_LOST;
  if ((int)device->index == config.state_gpu && strcmp(function, "nvmlDeviceGetUUID") != 0 &&
      strcmp(function, "nvmlDeviceGetName") != 0 && strcmp(function, "nvmlDeviceGetPciInfo_v3") != 0)
    return config.state_rc;
  return forced_answer(function);
}

#define CHECK_DEVICE(device)                                    \
  do {                                                          \
    nvmlReturn_t check_rc = device_answer((device), __func__);  \
    if (check_rc != NVML_SUCCESS) return check_rc;              \
  } while (0)

#define CHECK_OUT(pointer) \
  if (!(pointer)) return NVML_ERROR_INVALID_ARGUMENT

static nvmlReturn_t copy_text(char *target, unsigned int length, const char *text) {
  if (!target) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(text) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(target, text, strlen(text) + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
  read_config();
  nvmlReturn_t rc = (nvmlReturn_t)env_number("FAKE_NVML_INIT_RC", NVML_SUCCESS);
  if (rc != NVML_SUCCESS) return rc;
  config.init_count++;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  config.init_count--;
  return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t rc) {
  switch (rc) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires reset";
    case NVML_ERROR_MEMORY: return "Insufficient Memory";
    case NVML_ERROR_NOT_READY: return "System is not ready for the request";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  nvmlReturn_t rc = forced_answer(__func__);
  return rc != NVML_SUCCESS ? rc : copy_text(version, length, H100_DRIVER);
}

nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char *name, unsigned int length) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  nvmlReturn_t rc = forced_answer(__func__);
  if (rc != NVML_SUCCESS) return rc;
  if (pid != H100_PROCESS_PID) return NVML_ERROR_NOT_FOUND;
  return copy_text(name, length, H100_PROCESS_NAME);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  CHECK_OUT(count);
  config.gpus = gpu_count_from_env();
  env_copy("FAKE_NVML_HANG", config.hang, sizeof config.hang);
  read_mig_config();
  read_gpm_config();
  *count = config.gpus;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  CHECK_OUT(device);
  if (index >= config.gpus) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &devices[index];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
  CHECK_DEVICE(device);
  return copy_text(name, length, H100_NAME);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
  CHECK_DEVICE(device);
  if (device->mig >= 0) {
    char text[64];
    snprintf(text, sizeof text, "MIG-0c8e6a4b-5c3d-5f1e-9a2b-00000000%02x%02x", device->index, device->mig);
    return copy_text(uuid, length, text);
  }
  if (device->index == 0) return copy_text(uuid, length, H100_UUID);
  char text[64];
  snprintf(text, sizeof text, "GPU-46c48243-40b2-7121-5852-0000000000%02x", device->index);
  return copy_text(uuid, length, text);
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
  CHECK_DEVICE(device);
  CHECK_OUT(pci);
  /* Device 0 sits at 00000000:00:06.0 as recorded; the others on buses of their own. */
  unsigned int bus = device->index;
  memset(pci, 0, sizeof *pci);
  pci->domain = 0;
  pci->bus = bus;
  pci->device = 6;
  pci->pciDeviceId = H100_PCI_DEVICE_ID;
  pci->pciSubSystemId = H100_PCI_SUBSYSTEM_ID;
  snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02X:06.0", bus);
  snprintf(pci->busId, sizeof pci->busId, "00000000:%02X:06.0", bus);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
  CHECK_DEVICE(device);
  CHECK_OUT(utilization);
  if (device->index == 0 && mig.count > 0) return NVML_ERROR_NOT_SUPPORTED; /* as in MIG mode */
  utilization->gpu = H100_UTIL_GPU;
  utilization->memory = H100_UTIL_MEMORY;
  return NVML_SUCCESS;
}

/* Version 1 counts reserved memory as used, as the real library does. */
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
  CHECK_DEVICE(device);
  CHECK_OUT(memory);
  if (device->mig >= 0) {
    memory->total = mig.total_mib[device->mig] * MIB;
    memory->used = mig.used_mib[device->mig] * MIB;
    memory->free = memory->total - memory->used;
    return NVML_SUCCESS;
  }
  memory->total = H100_MEM_TOTAL_MIB * MIB;
  memory->free = H100_MEM_FREE_MIB * MIB;
  memory->used = memory->total - memory->free;
  return NVML_SUCCESS;
}

#ifndef FAKE_NVML_OLD_DRIVER
nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
  CHECK_DEVICE(device);
  CHECK_OUT(memory);
  if (memory->version != STRUCT_VERSION(nvmlMemory_v2_t, 2))
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (device->mig >= 0) {
    memory->total = mig.total_mib[device->mig] * MIB;
    memory->reserved = 0;
    memory->used = mig.used_mib[device->mig] * MIB;
    memory->free = memory->total - memory->used;
    return NVML_SUCCESS;
  }
  memory->total = H100_MEM_TOTAL_MIB * MIB;
  memory->reserved = H100_MEM_RESERVED_MIB * MIB;
  memory->free = H100_MEM_FREE_MIB * MIB;
  memory->used = H100_MEM_USED_MIB * MIB;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, nvmlTemperature_v1_t *temperature) {
  CHECK_DEVICE(device);
  CHECK_OUT(temperature);
  if (temperature->version != STRUCT_VERSION(nvmlTemperature_v1_t, 1))
    return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  if (temperature->sensorType != 0) return NVML_ERROR_INVALID_ARGUMENT;
  temperature->temperature = H100_TEMP_GPU;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                    unsigned long long *reasons) {
  CHECK_DEVICE(device);
  CHECK_OUT(reasons);
  *reasons = H100_CLOCK_EVENT_REASONS;
  return NVML_SUCCESS;
}
#endif

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *temperature) {
  CHECK_DEVICE(device);
  CHECK_OUT(temperature);
  if (sensor != 0) return NVML_ERROR_INVALID_ARGUMENT;
  *temperature = H100_TEMP_GPU;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                       unsigned long long *reasons) {
  CHECK_DEVICE(device);
  CHECK_OUT(reasons);
  *reasons = H100_CLOCK_EVENT_REASONS;
  return NVML_SUCCESS;
}

/* Only NVML_FI_DEV_MEMORY_TEMP (82) is known; other fields answer NOT_SUPPORTED per field. */
nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count, nvmlFieldValue_t *values) {
  CHECK_DEVICE(device);
  if (count < 0 || (count > 0 && !values)) return NVML_ERROR_INVALID_ARGUMENT;
  for (int i = 0; i < count; i++) {
    nvmlFieldValue_t *field = &values[i];
    field->timestamp = 0;
    field->latencyUsec = 0;
    if ((field->fieldId == 138 || field->fieldId == 139) && field->scopeId < config.nvlinks) {
      field->valueType = 3; /* NVML_VALUE_TYPE_UNSIGNED_LONG_LONG, KiB */
      field->nvmlReturn = NVML_SUCCESS;
      field->value.ullVal = (field->scopeId + 1ULL) * (field->fieldId == 138 ? 1000ULL : 2000ULL);
    } else if (field->fieldId == 82 && forced_answer("NVML_FI_DEV_MEMORY_TEMP") == NVML_SUCCESS) {
      field->valueType = 1; /* NVML_VALUE_TYPE_UNSIGNED_INT */
      field->nvmlReturn = NVML_SUCCESS;
      field->value.ullVal = 0;
      field->value.uiVal = H100_TEMP_MEMORY;
    } else {
      field->nvmlReturn = field->fieldId == 82 ? forced_answer("NVML_FI_DEV_MEMORY_TEMP")
                                               : NVML_ERROR_NOT_SUPPORTED;
    }
  }
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *milliwatts) {
  CHECK_DEVICE(device);
  CHECK_OUT(milliwatts);
  *milliwatts = H100_POWER_MW;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *milliwatts) {
  CHECK_DEVICE(device);
  CHECK_OUT(milliwatts);
  *milliwatts = H100_POWER_LIMIT_MW;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                 unsigned long long *millijoules) {
  CHECK_DEVICE(device);
  CHECK_OUT(millijoules);
  *millijoules = H100_ENERGY_MJ;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *mhz) {
  CHECK_DEVICE(device);
  CHECK_OUT(mhz);
  switch (type) {
    case 0: *mhz = H100_CLOCK_GRAPHICS_MHZ; return NVML_SUCCESS;
    case 1: *mhz = H100_CLOCK_SM_MHZ; return NVML_SUCCESS;
    case 2: *mhz = H100_CLOCK_MEM_MHZ; return NVML_SUCCESS;
    case 3: *mhz = H100_CLOCK_VIDEO_MHZ; return NVML_SUCCESS;
    default: return NVML_ERROR_INVALID_ARGUMENT;
  }
}

nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, int *pstate) {
  CHECK_DEVICE(device);
  CHECK_OUT(pstate);
  *pstate = H100_PSTATE;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int error_type, int counter_type,
                                         unsigned long long *count) {
  CHECK_DEVICE(device);
  CHECK_OUT(count);
  if ((error_type != 0 && error_type != 1) || (counter_type != 0 && counter_type != 1))
    return NVML_ERROR_INVALID_ARGUMENT;
  *count = error_type == 1 ? config.ecc_uncorrected : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t device, unsigned int *correctable,
                                       unsigned int *uncorrectable, unsigned int *pending,
                                       unsigned int *failure) {
  CHECK_DEVICE(device);
  if (!correctable || !uncorrectable || !pending || !failure) return NVML_ERROR_INVALID_ARGUMENT;
  *correctable = 0;
  *uncorrectable = 0;
  *pending = 0;
  *failure = 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t device, int cause, unsigned int *count,
                                       unsigned long long *addresses) {
  CHECK_DEVICE(device);
  CHECK_OUT(count);
  if (!config.retired_supported) return NVML_ERROR_NOT_SUPPORTED;
  if (cause != 0 && cause != 1) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int retired = cause == 0 ? config.retired_sbe : config.retired_dbe;
  unsigned int room = *count;
  *count = retired;
  if (room < retired) return NVML_ERROR_INSUFFICIENT_SIZE;
  for (unsigned int i = 0; i < retired && addresses; i++) addresses[i] = 0x1000ULL * (i + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t device, int *pending) {
  CHECK_DEVICE(device);
  CHECK_OUT(pending);
  if (!config.retired_supported) return NVML_ERROR_NOT_SUPPORTED;
  *pending = config.retired_pending ? 1 : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPcieReplayCounter(nvmlDevice_t device, unsigned int *value) {
  CHECK_DEVICE(device);
  CHECK_OUT(value);
  *value = 0;
  return NVML_SUCCESS;
}

/* Video engines, fan, PCIe link and power-limit bounds as recorded (q-busy.xml, query-gpu-busy). */
static nvmlReturn_t video_utilization(nvmlDevice_t device, const char *function, unsigned int *percent,
                                      unsigned int *period_us) {
  nvmlReturn_t rc = device_answer(device, function);
  if (rc != NVML_SUCCESS) return rc;
  CHECK_OUT(percent);
  CHECK_OUT(period_us);
  *percent = 0;
  *period_us = 167000;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *percent, unsigned int *period_us) {
  return video_utilization(device, __func__, percent, period_us);
}

nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *percent, unsigned int *period_us) {
  return video_utilization(device, __func__, percent, period_us);
}

/* The recorded H100 is passively cooled: fan speed N/A. */
nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed) {
  CHECK_DEVICE(device);
  CHECK_OUT(speed);
  return NVML_ERROR_NOT_SUPPORTED;
}

#define UINT_ANSWER(name, value)                          \
  nvmlReturn_t name(nvmlDevice_t device, unsigned int *out) { \
    CHECK_DEVICE(device);                                 \
    CHECK_OUT(out);                                       \
    *out = (value);                                       \
    return NVML_SUCCESS;                                  \
  }

UINT_ANSWER(nvmlDeviceGetCurrPcieLinkGeneration, 5)
UINT_ANSWER(nvmlDeviceGetMaxPcieLinkGeneration, 5)
UINT_ANSWER(nvmlDeviceGetCurrPcieLinkWidth, 16)
UINT_ANSWER(nvmlDeviceGetMaxPcieLinkWidth, 16)
UINT_ANSWER(nvmlDeviceGetPowerManagementDefaultLimit, 700000u)

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int *min_mw,
                                                          unsigned int *max_mw) {
  CHECK_DEVICE(device);
  CHECK_OUT(min_mw);
  CHECK_OUT(max_mw);
  *min_mw = 200000u;
  *max_mw = 700000u;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, int *active) {
  CHECK_DEVICE(device);
  CHECK_OUT(active);
  if (config.nvlinks == 0) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= config.nvlinks) return NVML_ERROR_INVALID_ARGUMENT;
  *active = 1;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t device, unsigned int link, int counter,
                                             unsigned long long *value) {
  CHECK_DEVICE(device);
  CHECK_OUT(value);
  if (config.nvlinks == 0) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= config.nvlinks || counter < 0 || counter > 3) return NVML_ERROR_INVALID_ARGUMENT;
  static const unsigned long long fixed[4] = {0, 0, 2, 3};
  *value = counter == 0 ? link + 1ULL : fixed[counter];
  return NVML_SUCCESS;
}

typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;
_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t");

enum process_kind { COMPUTE, GRAPHICS, MPS };

/* The processes of one kind on a GPU: the recorded compute process on device 0 (in the first MIG
 * instance when MIG is on), the configured graphics process on device 0, no MPS processes. */
static unsigned int process_list(nvmlDevice_t device, enum process_kind kind, nvmlProcessInfo_t *out) {
  if (device->index != 0 || device->mig >= 0) return 0;
  if (kind == COMPUTE) {
    out->pid = H100_PROCESS_PID;
    out->usedGpuMemory = H100_PROCESS_MEMORY_MIB * MIB;
    out->gpuInstanceId = mig.count > 0 ? mig.gi[0] : NO_INSTANCE;
    out->computeInstanceId = mig.count > 0 ? mig.ci[0] : NO_INSTANCE;
    return 1;
  }
  if (kind == GRAPHICS && graphics.pid != 0) {
    out->pid = graphics.pid;
    out->usedGpuMemory = graphics.mib * MIB;
    out->gpuInstanceId = NO_INSTANCE;
    out->computeInstanceId = NO_INSTANCE;
    return 1;
  }
  return 0;
}

/* The shared body of every *RunningProcesses call; `v1` fills the 16-byte struct. */
static nvmlReturn_t running_processes(nvmlDevice_t device, const char *function, enum process_kind kind,
                                      unsigned int *count, void *infos, int v1) {
  nvmlReturn_t rc = device_answer(device, function);
  if (rc != NVML_SUCCESS) return rc;
  CHECK_OUT(count);
  nvmlProcessInfo_t found;
  unsigned int running = process_list(device, kind, &found);
  unsigned int room = *count;
  *count = running;
  if (room < running) return NVML_ERROR_INSUFFICIENT_SIZE;
  if (running == 0) return NVML_SUCCESS;
  CHECK_OUT(infos);
  if (v1) {
    nvmlProcessInfo_v1_t *list = infos;
    list[0].pid = found.pid;
    list[0].usedGpuMemory = found.usedGpuMemory;
  } else {
    ((nvmlProcessInfo_t *)infos)[0] = found;
  }
  return NVML_SUCCESS;
}

#define PROCESS_CALL(name, kind, v1)                                                         \
  nvmlReturn_t name(nvmlDevice_t device, unsigned int *count, void *infos) {                 \
    return running_processes(device, #name, kind, count, infos, v1);                         \
  }

/* Drivers from R510 export the _v3 calls, R450-R470 the _v2 ones, older drivers only the
 * unversioned ones (with the 16-byte nvmlProcessInfo_v1_t). */
#if !defined(FAKE_NVML_OLD_DRIVER) && !defined(FAKE_NVML_PROCESS_V1_ONLY)
PROCESS_CALL(nvmlDeviceGetComputeRunningProcesses_v3, COMPUTE, 0)
PROCESS_CALL(nvmlDeviceGetGraphicsRunningProcesses_v3, GRAPHICS, 0)
PROCESS_CALL(nvmlDeviceGetMPSComputeRunningProcesses_v3, MPS, 0)
#endif
#ifndef FAKE_NVML_PROCESS_V1_ONLY
PROCESS_CALL(nvmlDeviceGetComputeRunningProcesses_v2, COMPUTE, 0)
PROCESS_CALL(nvmlDeviceGetGraphicsRunningProcesses_v2, GRAPHICS, 0)
PROCESS_CALL(nvmlDeviceGetMPSComputeRunningProcesses_v2, MPS, 0)
#endif
PROCESS_CALL(nvmlDeviceGetComputeRunningProcesses, COMPUTE, 1)
PROCESS_CALL(nvmlDeviceGetGraphicsRunningProcesses, GRAPHICS, 1)
PROCESS_CALL(nvmlDeviceGetMPSComputeRunningProcesses, MPS, 1)

static void read_graphics_config(void) {
  const char *text = getenv("FAKE_NVML_GRAPHICS_PROCESS");
  if (!text || sscanf(text, "%u:%llu", &graphics.pid, &graphics.mib) != 2) graphics.pid = 0;
}

/* "gi:ci:totalMiB:usedMiB,..." */
static void read_mig_config(void) {
  mig.count = 0;
  const char *text = getenv("FAKE_NVML_MIG");
  while (text && *text && mig.count < MAX_MIG) {
    unsigned int n = mig.count;
    if (sscanf(text, "%u:%u:%llu:%llu", &mig.gi[n], &mig.ci[n], &mig.total_mib[n], &mig.used_mib[n]) != 4) break;
    mig.count++;
    text = strchr(text, ',');
    if (text) text++;
  }
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int *current, unsigned int *pending) {
  CHECK_DEVICE(device);
  CHECK_OUT(current);
  CHECK_OUT(pending);
  if (device->mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
  *current = *pending = (device->index == 0 && mig.count > 0) ? 1 : 0;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int *count) {
  CHECK_DEVICE(device);
  CHECK_OUT(count);
  if (device->mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
  *count = MAX_MIG; /* an H100 has room for seven */
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index, nvmlDevice_t *out) {
  CHECK_DEVICE(device);
  CHECK_OUT(out);
  if (device->mig >= 0 || index >= MAX_MIG) return NVML_ERROR_INVALID_ARGUMENT;
  if (device->index != 0 || index >= mig.count) return NVML_ERROR_NOT_FOUND;
  *out = MIG_HANDLE(device->index, index);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int *id) {
  CHECK_DEVICE(device);
  CHECK_OUT(id);
  if (device->mig < 0) return NVML_ERROR_INVALID_ARGUMENT;
  *id = mig.gi[device->mig];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int *id) {
  CHECK_DEVICE(device);
  CHECK_OUT(id);
  if (device->mig < 0) return NVML_ERROR_INVALID_ARGUMENT;
  *id = mig.ci[device->mig];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  CHECK_OUT(set);
  nvmlReturn_t rc = forced_answer(__func__);
  if (rc != NVML_SUCCESS) return rc;
  *set = calloc(1, sizeof(struct fake_event_set));
  return *set ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long types,
                                      nvmlEventSet_t set) {
  CHECK_DEVICE(device);
  CHECK_OUT(set);
  set->registered[device->index] |= types;
  return NVML_SUCCESS;
}

/* Runs on a caller's worker thread; reads only what nvmlInit_v2 wrote before. */
nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data,
                                 unsigned int timeout_ms) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  if (!set || !data) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned int gpu = config.xid_gpu;
  int watched = gpu < MAX_DEVICES && (set->registered[gpu] & EVENT_TYPE_XID_CRITICAL_ERROR);
  if (config.xid == 0 || !watched) {
    sleep_ms(timeout_ms);
    return NVML_ERROR_TIMEOUT;
  }
  sleep_ms(config.xid_interval_ms < timeout_ms ? config.xid_interval_ms : timeout_ms);
  data->device = &devices[gpu];
  data->eventType = EVENT_TYPE_XID_CRITICAL_ERROR;
  data->eventData = config.xid;
  data->gpuInstanceId = NO_INSTANCE;
  data->computeInstanceId = NO_INSTANCE;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
  if (config.init_count == 0) return NVML_ERROR_UNINITIALIZED;
  free(set);
  return NVML_SUCCESS;
}

#include "fake_gpm.c"
