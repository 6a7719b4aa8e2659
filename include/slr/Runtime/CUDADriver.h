//===- CUDADriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The part of the CUDA driver API that slr's host code uses, resolved with
// dlopen/dlsym from libcuda.so.1 on first use. Nothing here needs the CUDA
// toolkit's headers or libraries to build, so the runtime and the GPU
// benchmark's host side build on machines without CUDA, and fail there with
// a clear message instead of a link or load error.
//
// The declarations follow the driver's stable C ABI (cuda.h); versioned
// entry points are looked up under their versioned names (cuMemFree_v2...).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_RUNTIME_CUDADRIVER_H
#define SLR_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace slr::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

inline constexpr CUresult kSuccess = 0;
// Enumerators of cuda.h used here.
inline constexpr int kDeviceAttributeClockRate = 13;
inline constexpr int kDeviceAttributeMultiprocessorCount = 16;
inline constexpr int kDeviceAttributeMemoryClockRate = 36;
inline constexpr int kDeviceAttributeL2CacheSize = 38;
inline constexpr int kDeviceAttributeComputeCapabilityMajor = 75;
inline constexpr int kDeviceAttributeComputeCapabilityMinor = 76;
inline constexpr int kDeviceAttributeMaxSharedMemoryPerBlockOptin = 97;
inline constexpr int kFuncAttributeMaxDynamicSharedSizeBytes = 8;
inline constexpr int kJitErrorLogBuffer = 5;
inline constexpr int kJitErrorLogBufferSizeBytes = 6;
inline constexpr int kJitOptimizationLevel = 7;
inline constexpr unsigned kStreamNonBlocking = 1;
inline constexpr unsigned kMemAttachGlobal = 1;
inline constexpr int kPointerAttributeMemoryType = 2;
inline constexpr unsigned kMemoryTypeDevice = 2;
inline constexpr unsigned kMemoryTypeUnified = 4;

/// Function pointers into libcuda.so.1.
struct DriverAPI {
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuPointerGetAttribute)(void *, int, CUdeviceptr);
  CUresult (*cuTensorMapEncodeTiled)(void *, int, uint32_t, void *,
                                     const uint64_t *, const uint64_t *,
                                     const uint32_t *, const uint32_t *, int,
                                     int, int, int);
};

/// The entry points DriverAPI holds: (field, exported symbol of the driver).
#define SLR_CUDA_DRIVER_ENTRY_POINTS(X)                                        \
  X(cuGetErrorString, cuGetErrorString)                                        \
  X(cuInit, cuInit)                                                            \
  X(cuDeviceGetCount, cuDeviceGetCount)                                        \
  X(cuDeviceGet, cuDeviceGet)                                                  \
  X(cuDeviceGetName, cuDeviceGetName)                                          \
  X(cuDeviceGetAttribute, cuDeviceGetAttribute)                                \
  X(cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)                        \
  X(cuCtxSetCurrent, cuCtxSetCurrent)                                          \
  X(cuModuleLoadData, cuModuleLoadData)                                        \
  X(cuModuleLoadDataEx, cuModuleLoadDataEx)                                    \
  X(cuModuleUnload, cuModuleUnload)                                            \
  X(cuModuleGetFunction, cuModuleGetFunction)                                  \
  X(cuFuncSetAttribute, cuFuncSetAttribute)                                    \
  X(cuLaunchKernel, cuLaunchKernel)                                            \
  X(cuStreamCreate, cuStreamCreate)                                            \
  X(cuStreamDestroy, cuStreamDestroy_v2)                                       \
  X(cuStreamSynchronize, cuStreamSynchronize)                                  \
  X(cuStreamWaitEvent, cuStreamWaitEvent)                                      \
  X(cuEventCreate, cuEventCreate)                                              \
  X(cuEventDestroy, cuEventDestroy_v2)                                         \
  X(cuEventRecord, cuEventRecord)                                              \
  X(cuEventSynchronize, cuEventSynchronize)                                    \
  X(cuEventElapsedTime, cuEventElapsedTime)                                    \
  X(cuMemAlloc, cuMemAlloc_v2)                                                 \
  X(cuMemFree, cuMemFree_v2)                                                   \
  X(cuMemAllocAsync, cuMemAllocAsync)                                          \
  X(cuMemFreeAsync, cuMemFreeAsync)                                            \
  X(cuMemAllocManaged, cuMemAllocManaged)                                      \
  X(cuMemcpyAsync, cuMemcpyAsync)                                              \
  X(cuMemsetD32Async, cuMemsetD32Async)                                        \
  X(cuMemsetD16Async, cuMemsetD16Async)                                        \
  X(cuPointerGetAttribute, cuPointerGetAttribute)                              \
  X(cuTensorMapEncodeTiled, cuTensorMapEncodeTiled)

/// Fills `api` from the driver the linking library provides: the CUDA
/// driver loaded with dlopen (libslr_cuda_runtime, CUDADriverLoader.cpp)
/// or the PTX simulator (libslr_cuda_sim). False, with `error`, if none.
bool loadDriverAPI(DriverAPI &api, std::string &error);

/// The library's name for its messages: "slr_cuda_runtime" or
/// "slr_cuda_sim".
const char *runtimeName();

/// The process's driver: loaded, initialised and with the chosen device's
/// primary context made current on the calling thread. Null (with `error`
/// describing why) when there is no driver or no device.
const DriverAPI *getDriver(std::string *error = nullptr);

/// Chooses the device getDriver() initialises (before its first call).
void setDevice(int ordinal);
/// The device in use (after a successful getDriver()).
CUdevice currentDevice();

/// "cuMemAlloc_v2: out of memory (2)"-style text for a failed call.
std::string describeError(const DriverAPI &driver, const char *call,
                          CUresult result);

/// For programs that cannot go on without the driver: prints
/// "<prefix><message>" on stderr and exits with status 1.
[[noreturn]] void exitWithError(const char *prefix, const std::string &message);
/// getDriver(), or exitWithError(prefix, why not).
const DriverAPI &requireDriver(const char *prefix);
/// exitWithError(prefix, describeError(...)) unless `result` is success.
void requireSuccess(CUresult result, const char *call, const char *prefix);

} // namespace slr::cuda

#endif // SLR_RUNTIME_CUDADRIVER_H
