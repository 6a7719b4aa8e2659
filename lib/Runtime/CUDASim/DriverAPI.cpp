//===- DriverAPI.cpp - The CUDA driver API on the PTX simulator -----------===//
//
// The part of the CUDA driver API slr's host code uses (cuda.h signatures
// and names, so that libslr_cuda_sim.so also stands in for libcuda.so.1),
// over the simulator: one device, every call synchronous in issue order
// (streams and events keep that order trivially), module images must be
// PTX. Failures return the CUresult a driver would, and cuGetErrorString
// gives the simulator's one-line account of the last failure with that
// code. A kernel fault is sticky, as on a GPU: later calls return it too.
// Event times are host times of the simulation, not GPU timings.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/CUDADriver.h"
#include "slr/Runtime/CUDASim/Simulator.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

using namespace slr::cuda;
using slr::sim::Simulator;

namespace {

// CUresult values (cuda.h).
constexpr CUresult kInvalidValue = 1;
constexpr CUresult kOutOfMemory = 2;
constexpr CUresult kInvalidDevice = 101;
constexpr CUresult kInvalidHandle = 400;

struct Event {
  std::chrono::steady_clock::time_point time;
  bool recorded = false;
};
struct Stream {};

struct DriverState {
  std::mutex mutex;
  CUresult sticky = 0;
  std::string stickyMessage;
  std::map<CUresult, std::string> lastMessage;
  std::map<const void *, int> dynamicSharedLimit; // per function, opted in
  bool timingNoted = false;
};

DriverState &driverState() {
  static DriverState *state = new DriverState; // never destroyed (see above)
  return *state;
}

Simulator &sim() { return Simulator::instance(); }

CUresult fail(CUresult code, const std::string &message) {
  DriverState &s = driverState();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.lastMessage[code] = message;
  return code;
}

CUresult report(const slr::sim::Status &status, bool sticky = false) {
  if (status)
    return 0;
  if (sticky) {
    DriverState &s = driverState();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.sticky = status.code;
    s.stickyMessage = status.error;
  }
  return fail(status.code, status.error);
}

/// Non-zero once a kernel faulted: the context is unusable from then on.
CUresult stickyError() {
  DriverState &s = driverState();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.sticky)
    s.lastMessage[s.sticky] = s.stickyMessage;
  return s.sticky;
}

#define SLR_STICKY()                                                           \
  if (CUresult sticky = stickyError())                                         \
  return sticky

const char *standardText(CUresult code) {
  switch (code) {
  case 0:
    return "no error";
  case 1:
    return "invalid argument";
  case 2:
    return "out of memory";
  case 3:
    return "initialization error";
  case 101:
    return "invalid device ordinal";
  case 200:
    return "device kernel image is invalid";
  case 209:
    return "no kernel image is available for execution on the device";
  case 218:
    return "a PTX JIT compilation failed";
  case 400:
    return "invalid resource handle";
  case 500:
    return "named symbol not found";
  case 700:
    return "an illegal memory access was encountered";
  case 702:
    return "the launch timed out and was terminated";
  case 715:
    return "an illegal instruction was encountered";
  case 716:
    return "misaligned address";
  case 719:
    return "unspecified launch failure";
  case 801:
    return "operation not supported";
  }
  return "unknown error";
}

void *asPointer(CUdeviceptr p) { return reinterpret_cast<void *>(p); }

} // namespace

extern "C" {

CUresult cuGetErrorString(CUresult code, const char **text) {
  DriverState &s = driverState();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.lastMessage.find(code);
  if (it != s.lastMessage.end()) {
    // "standard text: detail", kept alive in the map.
    static thread_local std::string combined;
    combined = std::string(standardText(code)) + ": " + it->second;
    *text = combined.c_str();
  } else {
    *text = standardText(code);
  }
  return 0;
}

CUresult cuGetErrorName(CUresult code, const char **text) {
  *text = standardText(code);
  return 0;
}

CUresult cuInit(unsigned) { return 0; }

CUresult cuDriverGetVersion(int *version) {
  *version = 13000;
  return 0;
}

CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return 0;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0)
    return fail(kInvalidDevice, "the simulator has one device, ordinal 0");
  *device = 0;
  return 0;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice) {
  if (!name || length <= 0)
    return kInvalidValue;
  std::snprintf(name, static_cast<size_t>(length), "%s",
                sim().properties().name);
  return 0;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice) {
  const slr::sim::DeviceProperties &p = sim().properties();
  switch (attribute) {
  case 1: // MAX_THREADS_PER_BLOCK
    *value = p.maxThreadsPerBlock;
    return 0;
  case 2: // MAX_BLOCK_DIM_X
  case 3:
    *value = 1024;
    return 0;
  case 4:
    *value = 64;
    return 0;
  case 5: // MAX_GRID_DIM_X
    *value = 0x7fffffff;
    return 0;
  case 6:
  case 7:
    *value = 65535;
    return 0;
  case 8: // MAX_SHARED_MEMORY_PER_BLOCK
    *value = static_cast<int>(p.sharedPerBlock);
    return 0;
  case 10: // WARP_SIZE
    *value = 32;
    return 0;
  case 12: // MAX_REGISTERS_PER_BLOCK
    *value = 65536;
    return 0;
  case 13: // CLOCK_RATE (kHz): the simulator has no clock
  case 36: // MEMORY_CLOCK_RATE
    *value = 0;
    return 0;
  case 38: // L2_CACHE_SIZE: none modelled
    *value = 0;
    return 0;
  case 16: // MULTIPROCESSOR_COUNT
    *value = p.multiprocessors;
    return 0;
  case 39: // MAX_THREADS_PER_MULTIPROCESSOR
    *value = 2048;
    return 0;
  case 75: // COMPUTE_CAPABILITY_MAJOR
    *value = p.computeMajor;
    return 0;
  case 76:
    *value = p.computeMinor;
    return 0;
  case 81: // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
    *value = 228 * 1024;
    return 0;
  case 97: // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
    *value = static_cast<int>(p.sharedPerBlockOptIn);
    return 0;
  }
  return fail(kInvalidValue, "device attribute " + std::to_string(attribute) +
                                 " is not modelled by the simulator");
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice) {
  static int token;
  *context = reinterpret_cast<CUcontext>(&token);
  return 0;
}

CUresult cuCtxSetCurrent(CUcontext) { return 0; }

CUresult cuCtxSynchronize() {
  SLR_STICKY();
  return 0;
}

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  SLR_STICKY();
  slr::sim::Module *m = nullptr;
  // A PTX image is NUL-terminated; binary images are recognised by their
  // magic in the first bytes.
  const char *text = static_cast<const char *>(image);
  size_t size = text ? std::strlen(text) : 0;
  if (text && size < 4)
    size = 4;
  CUresult result = report(sim().loadModule(text, size, m));
  *module = reinterpret_cast<CUmodule>(m);
  return result;
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned count,
                            int *options, void **values) {
  CUresult result = cuModuleLoadData(module, image);
  if (result != 0) {
    // Fill the JIT error log the caller asked for, as the driver does.
    char *log = nullptr;
    size_t logSize = 0;
    for (unsigned i = 0; i < count; ++i) {
      if (options[i] == kJitErrorLogBuffer)
        log = static_cast<char *>(values[i]);
      if (options[i] == kJitErrorLogBufferSizeBytes)
        logSize = reinterpret_cast<size_t>(values[i]);
    }
    if (log && logSize)
      log[0] = 0;
  }
  return result;
}

CUresult cuModuleUnload(CUmodule module) {
  sim().unloadModule(reinterpret_cast<slr::sim::Module *>(module));
  return 0;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  SLR_STICKY();
  if (!module)
    return fail(kInvalidHandle, "null module");
  slr::sim::Function *f = nullptr;
  CUresult result = report(
      sim().getFunction(reinterpret_cast<slr::sim::Module *>(module), name, f));
  *function = reinterpret_cast<CUfunction>(f);
  return result;
}

CUresult cuTensorMapEncodeTiled(void *tensorMap, int dataType, uint32_t rank,
                                void *globalAddress, const uint64_t *globalDim,
                                const uint64_t *globalStrides,
                                const uint32_t *boxDim,
                                const uint32_t *elementStrides, int interleave,
                                int swizzle, int l2Promotion, int oobFill) {
  // Host-side: no context needed, no sticky error.
  return report(slr::sim::encodeTensorMapTiled(
      tensorMap, dataType, rank, globalAddress, globalDim, globalStrides,
      boxDim, elementStrides, interleave, swizzle, l2Promotion, oobFill));
}

CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  SLR_STICKY();
  if (!function)
    return fail(kInvalidHandle, "null function");
  if (attribute != kFuncAttributeMaxDynamicSharedSizeBytes)
    return fail(kInvalidValue, "function attribute " +
                                   std::to_string(attribute) +
                                   " is not modelled by the simulator");
  auto *f = reinterpret_cast<slr::sim::Function *>(function);
  uint64_t limit =
      sim().properties().sharedPerBlockOptIn - sim().staticSharedBytes(f);
  if (value < 0 || static_cast<uint64_t>(value) > limit)
    return fail(kInvalidValue, "MAX_DYNAMIC_SHARED_SIZE_BYTES " +
                                   std::to_string(value) + " exceeds the " +
                                   std::to_string(limit) +
                                   " bytes the device allows this kernel");
  DriverState &s = driverState();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.dynamicSharedLimit[f] = value;
  return 0;
}

CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CUstream,
                        void **params, void **extra) {
  SLR_STICKY();
  if (!function)
    return fail(kInvalidHandle, "launch of a null function");
  if (extra)
    return fail(kInvalidValue,
                "the simulator takes kernel parameters only through the "
                "params array (extra is not supported)");
  // Beyond 48 KiB of dynamic shared memory a kernel must have opted in.
  if (sharedBytes > sim().properties().sharedPerBlock) {
    DriverState &s = driverState();
    int limit = 0;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      auto it = s.dynamicSharedLimit.find(function);
      limit = it == s.dynamicSharedLimit.end() ? 0 : it->second;
    }
    if (sharedBytes > static_cast<unsigned>(limit))
      return fail(kInvalidValue,
                  "launch with " + std::to_string(sharedBytes) +
                      " bytes of dynamic shared memory; above " +
                      std::to_string(sim().properties().sharedPerBlock) +
                      " a kernel must opt in with cuFuncSetAttribute("
                      "MAX_DYNAMIC_SHARED_SIZE_BYTES), here " +
                      std::to_string(limit));
  }
  slr::sim::LaunchConfig config;
  config.grid[0] = gridX;
  config.grid[1] = gridY;
  config.grid[2] = gridZ;
  config.block[0] = blockX;
  config.block[1] = blockY;
  config.block[2] = blockZ;
  config.dynamicSharedBytes = sharedBytes;
  slr::sim::Status status = sim().launch(
      reinterpret_cast<slr::sim::Function *>(function), config, params);
  // Argument errors are not sticky; faults inside the kernel are.
  return report(status, status.code != kInvalidValue);
}

CUresult cuStreamCreate(CUstream *stream, unsigned) {
  SLR_STICKY();
  *stream = reinterpret_cast<CUstream>(new Stream);
  return 0;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  delete reinterpret_cast<Stream *>(stream);
  return 0;
}

CUresult cuStreamSynchronize(CUstream) {
  SLR_STICKY();
  return 0; // every call already completed
}

CUresult cuStreamWaitEvent(CUstream, CUevent, unsigned) {
  SLR_STICKY();
  return 0;
}

CUresult cuEventCreate(CUevent *event, unsigned) {
  SLR_STICKY();
  *event = reinterpret_cast<CUevent>(new Event);
  return 0;
}

CUresult cuEventDestroy_v2(CUevent event) {
  delete reinterpret_cast<Event *>(event);
  return 0;
}

CUresult cuEventRecord(CUevent event, CUstream) {
  SLR_STICKY();
  if (!event)
    return fail(kInvalidHandle, "null event");
  auto *e = reinterpret_cast<Event *>(event);
  e->time = std::chrono::steady_clock::now();
  e->recorded = true;
  return 0;
}

CUresult cuEventSynchronize(CUevent) {
  SLR_STICKY();
  return 0;
}

CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent stop) {
  SLR_STICKY();
  auto *a = reinterpret_cast<Event *>(start);
  auto *b = reinterpret_cast<Event *>(stop);
  if (!a || !b || !a->recorded || !b->recorded)
    return fail(kInvalidHandle, "event not recorded");
  DriverState &s = driverState();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.timingNoted) {
      s.timingNoted = true;
      std::fprintf(stderr, "slr_cuda_sim: note: event times are host times "
                           "of the simulation, not GPU timings\n");
    }
  }
  *ms = std::chrono::duration<float, std::milli>(b->time - a->time).count();
  return 0;
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  SLR_STICKY();
  if (bytes == 0)
    return fail(kInvalidValue, "cuMemAlloc of 0 bytes");
  void *p = sim().allocate(bytes);
  if (!p)
    return fail(kOutOfMemory, "host out of memory for a " +
                                  std::to_string(bytes) +
                                  "-byte device allocation");
  *pointer = reinterpret_cast<CUdeviceptr>(p);
  return 0;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  SLR_STICKY();
  return report(sim().free(asPointer(pointer)));
}

CUresult cuMemAllocAsync(CUdeviceptr *pointer, size_t bytes, CUstream) {
  return cuMemAlloc_v2(pointer, bytes);
}

CUresult cuMemFreeAsync(CUdeviceptr pointer, CUstream) {
  return cuMemFree_v2(pointer);
}

CUresult cuMemAllocManaged(CUdeviceptr *pointer, size_t bytes, unsigned) {
  return cuMemAlloc_v2(pointer, bytes);
}

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       CUstream) {
  SLR_STICKY();
  return report(sim().copy(asPointer(dst), asPointer(src), bytes));
}

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  return cuMemcpyAsync(dst, src, bytes, nullptr);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  return cuMemcpyAsync(dst, reinterpret_cast<CUdeviceptr>(src), bytes, nullptr);
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  return cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst), src, bytes, nullptr);
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count,
                          CUstream) {
  SLR_STICKY();
  return report(sim().fill(asPointer(dst), value, 4, count));
}

CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count,
                          CUstream) {
  SLR_STICKY();
  return report(sim().fill(asPointer(dst), value, 2, count));
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count,
                         CUstream) {
  SLR_STICKY();
  return report(sim().fill(asPointer(dst), value, 1, count));
}

CUresult cuPointerGetAttribute(void *data, int attribute, CUdeviceptr pointer) {
  SLR_STICKY();
  if (!data || attribute != kPointerAttributeMemoryType)
    return fail(kInvalidValue, "cuPointerGetAttribute: only the memory type "
                               "(attribute 2) is simulated");
  // Like the driver: memory it did not allocate is an invalid value.
  if (!sim().isDevicePointer(asPointer(pointer)))
    return kInvalidValue;
  *static_cast<unsigned *>(data) = kMemoryTypeDevice;
  return 0;
}

} // extern "C"

bool slr::cuda::loadDriverAPI(DriverAPI &api, std::string &) {
#define SLR_BIND(field, symbol) api.field = &::symbol;
  SLR_CUDA_DRIVER_ENTRY_POINTS(SLR_BIND)
#undef SLR_BIND
  return true;
}

const char *slr::cuda::runtimeName() { return "slr_cuda_sim"; }
