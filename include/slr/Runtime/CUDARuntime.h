//===- CUDARuntime.h - slr's CUDA host runtime (C ABI) ----------*- C++ -*-===//
//
// The host functions that MLIR's `gpu-to-llvm` lowering and the `gpu.binary`
// translation call (module load, kernel launch, streams, device memory),
// implemented on the CUDA driver API. Debian's MLIR ships no CUDA runtime
// wrappers, so `slr-opt --slr-gpu-pipeline` output links against this library
// (`libslr_cuda_runtime.so`, e.g. `mlir-runner -shared-libs=`).
//
// The driver (libcuda.so.1) is loaded with dlopen on first use, so the
// library builds, links and loads on machines without a GPU or CUDA toolkit;
// there the first call reports that no driver was found. These functions have
// no error results: any driver error is reported on stderr, with the failing
// call, and the process exits with status 1 (a kernel that did not run must
// not let the program go on with garbage).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_RUNTIME_CUDARUNTIME_H
#define SLR_RUNTIME_CUDARUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {
// Modules and kernels.
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);

// Streams and events.
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate();
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

// Device memory (stream-ordered).
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool hostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);

/// A device copy of `bytes` of constant host data at `host`, uploaded on the
/// first call for this (host, bytes) and kept for the life of the process:
/// the launchers of --slr-gpu-pipeline keep a model's weights resident this
/// way, so that a call moves only its activations. The data must not change
/// after the first call.
void *slrGpuResidentCopy(void *host, uint64_t bytes);

/// Activations of a launcher call. A pointer the driver knows as device (or
/// managed) memory is used as it is, so that a caller that keeps its
/// activations on the device moves nothing; host memory is staged:
/// slrGpuStageInput returns a device copy of `bytes` at `data`,
/// slrGpuStageOutput uninitialised device memory for a result, and
/// slrGpuUnstage(data, staged, bytes, copyBack) copies a staged result back
/// to `data` (copyBack) and frees the staging memory; each returns after its
/// copies completed. For the same pointer in and out nothing is done.
void *slrGpuStageInput(void *data, uint64_t bytes);
void *slrGpuStageOutput(void *data, uint64_t bytes);
void slrGpuUnstage(void *data, void *staged, uint64_t bytes, bool copyBack);

/// Encodes (cuTensorMapEncodeTiled) the 2-D tiled TMA map of the row-major
/// [rows, cols] device tensor at `global` (CUtensorMapDataType `dataType`)
/// with boxes of boxRows x boxCols and CUtensorMapSwizzle `swizzle`, zeros
/// out of bounds, into the 128 bytes of slot `slot` of `maps` (64-byte
/// aligned host memory). The wgmma_sp_sm90a launchers copy the maps to the
/// device and pass them to the kernel.
void slrGpuEncodeTensorMap2D(void *maps, uint64_t slot, void *global,
                             uint64_t dataType, uint64_t rows, uint64_t cols,
                             uint64_t boxRows, uint64_t boxCols,
                             uint64_t swizzle);

/// Selects the device later calls use (default 0); must precede the first
/// other call.
void mgpuSetDefaultDevice(int32_t device);

/// Whether a CUDA driver and at least one device can be used, without
/// reporting an error or exiting when not (for tests and tools that want to
/// skip GPU work).
bool slrCudaRuntimeIsUsable();
}

#endif // SLR_RUNTIME_CUDARUNTIME_H
