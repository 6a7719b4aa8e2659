//===- CUDADriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "slr/Runtime/CUDADriver.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include <mutex>

using namespace slr::cuda;

namespace {

struct LoadedDriver {
  DriverAPI api{};
  CUcontext context = nullptr;
  CUdevice device = 0;
  std::string error; // empty when usable
};

int requestedDevice = 0;

template <typename Function>
bool lookup(void *library, const char *name, Function &function,
            std::string &error) {
  function = reinterpret_cast<Function>(dlsym(library, name));
  if (!function && error.empty())
    error = std::string("the CUDA driver lacks ") + name +
            " (driver too old for this runtime?)";
  return function != nullptr;
}

void load(LoadedDriver &driver) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    driver.error = "cannot load the CUDA driver (libcuda.so.1): no NVIDIA "
                   "driver on this machine?";
    return;
  }
  DriverAPI &d = driver.api;
  std::string &e = driver.error;
  lookup(library, "cuGetErrorString", d.cuGetErrorString, e);
  lookup(library, "cuInit", d.cuInit, e);
  lookup(library, "cuDeviceGetCount", d.cuDeviceGetCount, e);
  lookup(library, "cuDeviceGet", d.cuDeviceGet, e);
  lookup(library, "cuDeviceGetName", d.cuDeviceGetName, e);
  lookup(library, "cuDeviceGetAttribute", d.cuDeviceGetAttribute, e);
  lookup(library, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain, e);
  lookup(library, "cuCtxSetCurrent", d.cuCtxSetCurrent, e);
  lookup(library, "cuModuleLoadData", d.cuModuleLoadData, e);
  lookup(library, "cuModuleLoadDataEx", d.cuModuleLoadDataEx, e);
  lookup(library, "cuModuleUnload", d.cuModuleUnload, e);
  lookup(library, "cuModuleGetFunction", d.cuModuleGetFunction, e);
  lookup(library, "cuFuncSetAttribute", d.cuFuncSetAttribute, e);
  lookup(library, "cuLaunchKernel", d.cuLaunchKernel, e);
  lookup(library, "cuStreamCreate", d.cuStreamCreate, e);
  lookup(library, "cuStreamDestroy_v2", d.cuStreamDestroy, e);
  lookup(library, "cuStreamSynchronize", d.cuStreamSynchronize, e);
  lookup(library, "cuStreamWaitEvent", d.cuStreamWaitEvent, e);
  lookup(library, "cuEventCreate", d.cuEventCreate, e);
  lookup(library, "cuEventDestroy_v2", d.cuEventDestroy, e);
  lookup(library, "cuEventRecord", d.cuEventRecord, e);
  lookup(library, "cuEventSynchronize", d.cuEventSynchronize, e);
  lookup(library, "cuEventElapsedTime", d.cuEventElapsedTime, e);
  lookup(library, "cuMemAlloc_v2", d.cuMemAlloc, e);
  lookup(library, "cuMemFree_v2", d.cuMemFree, e);
  lookup(library, "cuMemAllocAsync", d.cuMemAllocAsync, e);
  lookup(library, "cuMemFreeAsync", d.cuMemFreeAsync, e);
  lookup(library, "cuMemAllocManaged", d.cuMemAllocManaged, e);
  lookup(library, "cuMemcpyAsync", d.cuMemcpyAsync, e);
  lookup(library, "cuMemsetD32Async", d.cuMemsetD32Async, e);
  lookup(library, "cuMemsetD16Async", d.cuMemsetD16Async, e);
  if (!e.empty())
    return;

  CUresult result = d.cuInit(0);
  if (result != kSuccess) {
    e = describeError(d, "cuInit", result);
    return;
  }
  int count = 0;
  result = d.cuDeviceGetCount(&count);
  if (result != kSuccess) {
    e = describeError(d, "cuDeviceGetCount", result);
    return;
  }
  if (requestedDevice < 0 || requestedDevice >= count) {
    e = "CUDA device " + std::to_string(requestedDevice) +
        " requested, but the driver reports " + std::to_string(count) +
        " device(s)";
    return;
  }
  if ((result = d.cuDeviceGet(&driver.device, requestedDevice)) != kSuccess) {
    e = describeError(d, "cuDeviceGet", result);
    return;
  }
  // The primary context is shared with any CUDA runtime API user in the
  // process and lives as long as the process.
  if ((result = d.cuDevicePrimaryCtxRetain(&driver.context, driver.device)) !=
      kSuccess)
    e = describeError(d, "cuDevicePrimaryCtxRetain", result);
}

LoadedDriver &loadedDriver() {
  static LoadedDriver driver;
  static std::once_flag once;
  std::call_once(once, [] { load(driver); });
  return driver;
}

} // namespace

const DriverAPI *slr::cuda::getDriver(std::string *error) {
  LoadedDriver &driver = loadedDriver();
  if (!driver.error.empty()) {
    if (error)
      *error = driver.error;
    return nullptr;
  }
  // Driver calls act on the calling thread's current context.
  thread_local bool current = false;
  if (!current) {
    CUresult result = driver.api.cuCtxSetCurrent(driver.context);
    if (result != kSuccess) {
      if (error)
        *error = describeError(driver.api, "cuCtxSetCurrent", result);
      return nullptr;
    }
    current = true;
  }
  return &driver.api;
}

void slr::cuda::setDevice(int ordinal) { requestedDevice = ordinal; }

CUdevice slr::cuda::currentDevice() { return loadedDriver().device; }

std::string slr::cuda::describeError(const DriverAPI &driver, const char *call,
                                     CUresult result) {
  const char *text = nullptr;
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  return std::string(call) + ": " + (text ? text : "unknown error") + " (" +
         std::to_string(result) + ")";
}

void slr::cuda::exitWithError(const char *prefix, const std::string &message) {
  std::fprintf(stderr, "%s%s\n", prefix, message.c_str());
  std::fflush(stderr);
  std::exit(1);
}

const DriverAPI &slr::cuda::requireDriver(const char *prefix) {
  std::string error;
  const DriverAPI *api = getDriver(&error);
  if (!api)
    exitWithError(prefix, error);
  return *api;
}

void slr::cuda::requireSuccess(CUresult result, const char *call,
                               const char *prefix) {
  if (result != kSuccess)
    exitWithError(prefix, describeError(requireDriver(prefix), call, result));
}
