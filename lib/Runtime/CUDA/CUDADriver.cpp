//===- CUDADriver.cpp - The process's CUDA driver -------------------------===//
//
// Initialises the driver that loadDriverAPI() provides (the real one or the
// simulator) once per process and makes its primary context current on each
// calling thread.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/CUDADriver.h"

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

void load(LoadedDriver &driver) {
  DriverAPI &d = driver.api;
  std::string &e = driver.error;
  if (!loadDriverAPI(d, e))
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
  // Never destroyed: generated module-unload destructors call the driver
  // at exit, after function-local statics are gone.
  static LoadedDriver *driver = new LoadedDriver;
  static std::once_flag once;
  std::call_once(once, [] { load(*driver); });
  return *driver;
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
