//===- CUDARuntime.cpp - slr's CUDA host runtime --------------------------===//
//
// The mgpu* entry points of MLIR's GPU host lowering on the CUDA driver API.
// Every driver error ends the process with a message naming the call (the
// ABI has no error results, and results of a kernel that did not run must
// not be used).
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/CUDARuntime.h"
#include "slr/Runtime/CUDADriver.h"

#include <map>
#include <mutex>
#include <string>
#include <utility>

using namespace slr::cuda;

static const char *errorPrefix() {
  static const std::string prefix = std::string(runtimeName()) + ": ";
  return prefix.c_str();
}

[[noreturn]] static void fail(const std::string &message) {
  exitWithError(errorPrefix(), message);
}

static const DriverAPI &driver() { return requireDriver(errorPrefix()); }

static void check(CUresult result, const char *call) {
  requireSuccess(result, call, errorPrefix());
}

#define SLR_CU(call, ...) check(driver().call(__VA_ARGS__), #call)

static CUstream asStream(void *stream) { return static_cast<CUstream>(stream); }
static CUdeviceptr asDevice(void *pointer) {
  return reinterpret_cast<CUdeviceptr>(pointer);
}

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  SLR_CU(cuModuleLoadData, &module, data);
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  // PTX: the driver compiles it for the device; keep its error log.
  char log[8192] = {0};
  int options[] = {kJitOptimizationLevel, kJitErrorLogBuffer,
                   kJitErrorLogBufferSizeBytes};
  void *values[] = {reinterpret_cast<void *>(static_cast<intptr_t>(optLevel)),
                    log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module = nullptr;
  CUresult result =
      driver().cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != kSuccess)
    fail(describeError(driver(), "cuModuleLoadDataEx", result) +
         (log[0] ? std::string("\n") + log : std::string()));
  return module;
}

void mgpuModuleUnload(void *module) {
  // From a module destructor at exit: nothing to unload when the load
  // failed (and the process is already exiting with that error).
  if (!module || !getDriver())
    return;
  SLR_CU(cuModuleUnload, static_cast<CUmodule>(module));
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  CUfunction function = nullptr;
  CUresult result = driver().cuModuleGetFunction(
      &function, static_cast<CUmodule>(module), name);
  if (result != kSuccess)
    fail(describeError(driver(), "cuModuleGetFunction", result) +
         " for kernel '" + name + "'");
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  const DriverAPI &d = driver();
  auto kernel = static_cast<CUfunction>(function);
  // Beyond 48 KiB a kernel must opt in to dynamic shared memory.
  if (sharedMemBytes > 48 * 1024) {
    int limit = 0;
    SLR_CU(cuDeviceGetAttribute, &limit,
           kDeviceAttributeMaxSharedMemoryPerBlockOptin, currentDevice());
    if (sharedMemBytes > limit)
      fail("kernel needs " + std::to_string(sharedMemBytes) +
           " bytes of shared memory; the device allows " +
           std::to_string(limit) +
           " per block (use smaller tiles or fewer "
           "stages)");
    SLR_CU(cuFuncSetAttribute, kernel, kFuncAttributeMaxDynamicSharedSizeBytes,
           sharedMemBytes);
  }
  check(d.cuLaunchKernel(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ,
                         sharedMemBytes, asStream(stream), params, extra),
        "cuLaunchKernel");
}

void *mgpuStreamCreate() {
  CUstream stream = nullptr;
  SLR_CU(cuStreamCreate, &stream, kStreamNonBlocking);
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  SLR_CU(cuStreamDestroy, asStream(stream));
}

void mgpuStreamSynchronize(void *stream) {
  // Asynchronous kernel faults surface here.
  SLR_CU(cuStreamSynchronize, asStream(stream));
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  SLR_CU(cuStreamWaitEvent, asStream(stream), static_cast<CUevent>(event), 0);
}

void *mgpuEventCreate() {
  CUevent event = nullptr;
  SLR_CU(cuEventCreate, &event, 0);
  return event;
}

void mgpuEventDestroy(void *event) {
  SLR_CU(cuEventDestroy, static_cast<CUevent>(event));
}

void mgpuEventSynchronize(void *event) {
  SLR_CU(cuEventSynchronize, static_cast<CUevent>(event));
}

void mgpuEventRecord(void *event, void *stream) {
  SLR_CU(cuEventRecord, static_cast<CUevent>(event), asStream(stream));
}

void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool hostShared) {
  CUdeviceptr pointer = 0;
  if (sizeBytes == 0)
    return nullptr;
  if (hostShared)
    SLR_CU(cuMemAllocManaged, &pointer, sizeBytes, kMemAttachGlobal);
  else
    SLR_CU(cuMemAllocAsync, &pointer, sizeBytes, asStream(stream));
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *ptr, void *stream) {
  if (ptr)
    SLR_CU(cuMemFreeAsync, asDevice(ptr), asStream(stream));
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  if (sizeBytes)
    SLR_CU(cuMemcpyAsync, asDevice(dst), asDevice(src), sizeBytes,
           asStream(stream));
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  if (count)
    SLR_CU(cuMemsetD32Async, asDevice(dst), value, count, asStream(stream));
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  if (count)
    SLR_CU(cuMemsetD16Async, asDevice(dst), value, count, asStream(stream));
}

void *slrGpuResidentCopy(void *host, uint64_t bytes) {
  if (!bytes)
    return nullptr;
  // Never destroyed: resident weights live as long as the process.
  static auto *copies = new std::map<std::pair<void *, uint64_t>, CUdeviceptr>;
  static std::mutex *mutex = new std::mutex;
  std::lock_guard<std::mutex> lock(*mutex);
  CUdeviceptr &device = (*copies)[{host, bytes}];
  if (!device) {
    SLR_CU(cuMemAlloc, &device, bytes);
    // On the null stream, then wait: the launchers' streams do not
    // synchronise with it.
    SLR_CU(cuMemcpyAsync, device, reinterpret_cast<CUdeviceptr>(host), bytes,
           nullptr);
    SLR_CU(cuStreamSynchronize, nullptr);
  }
  return reinterpret_cast<void *>(device);
}

/// Memory a kernel can read through `pointer` as it is: device or managed
/// memory. The driver answers "invalid value" for memory it did not
/// allocate (plain host memory).
static bool isDeviceMemory(const void *pointer) {
  unsigned type = 0;
  CUresult result =
      driver().cuPointerGetAttribute(&type, kPointerAttributeMemoryType,
                                     reinterpret_cast<CUdeviceptr>(pointer));
  return result == kSuccess &&
         (type == kMemoryTypeDevice || type == kMemoryTypeUnified);
}

/// Stream-ordered on the null stream, then waited for: the launchers'
/// streams do not synchronise with it.
static CUdeviceptr allocateStaging(uint64_t bytes) {
  CUdeviceptr device = 0;
  SLR_CU(cuMemAllocAsync, &device, bytes, nullptr);
  return device;
}

void *slrGpuStageInput(void *data, uint64_t bytes) {
  if (!bytes || isDeviceMemory(data))
    return data;
  CUdeviceptr device = allocateStaging(bytes);
  SLR_CU(cuMemcpyAsync, device, reinterpret_cast<CUdeviceptr>(data), bytes,
         nullptr);
  SLR_CU(cuStreamSynchronize, nullptr);
  return reinterpret_cast<void *>(device);
}

void *slrGpuStageOutput(void *data, uint64_t bytes) {
  if (!bytes || isDeviceMemory(data))
    return data;
  CUdeviceptr device = allocateStaging(bytes);
  SLR_CU(cuStreamSynchronize, nullptr);
  return reinterpret_cast<void *>(device);
}

void slrGpuUnstage(void *data, void *staged, uint64_t bytes, bool copyBack) {
  if (staged == data)
    return;
  if (copyBack)
    SLR_CU(cuMemcpyAsync, reinterpret_cast<CUdeviceptr>(data), asDevice(staged),
           bytes, nullptr);
  SLR_CU(cuMemFreeAsync, asDevice(staged), nullptr);
  SLR_CU(cuStreamSynchronize, nullptr);
}

void slrGpuEncodeTensorMap2D(void *maps, uint64_t slot, void *global,
                             uint64_t dataType, uint64_t rows, uint64_t cols,
                             uint64_t boxRows, uint64_t boxCols,
                             uint64_t swizzle) {
  // Element bytes of the CUtensorMapDataType values the launchers use.
  uint64_t elementBytes = dataType == 6 || dataType == 9 ? 2 : 4;
  const uint64_t dims[2] = {cols, rows};
  const uint64_t strides[1] = {cols * elementBytes};
  const uint32_t box[2] = {static_cast<uint32_t>(boxCols),
                           static_cast<uint32_t>(boxRows)};
  const uint32_t elementStrides[2] = {1, 1};
  void *map = static_cast<char *>(maps) + 128 * slot;
  // Interleave none, L2 promotion 128B, out-of-bound elements zero.
  SLR_CU(cuTensorMapEncodeTiled, map, static_cast<int>(dataType), 2, global,
         dims, strides, box, elementStrides, 0, static_cast<int>(swizzle), 2,
         0);
}

void mgpuSetDefaultDevice(int32_t device) { setDevice(device); }

bool slrCudaRuntimeIsUsable() { return getDriver() != nullptr; }

} // extern "C"
