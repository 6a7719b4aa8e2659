//===- Baselines.h - cuBLAS and cuSPARSELt, loaded at run time --*- C++ -*-===//
//
// The GPU benchmark's peers, loaded with dlopen so that slr-bench-gpu needs
// nothing but the driver to start: cuBLAS (the dense GEMM of W = S + U V)
// and cuSPARSELt (NVIDIA's 2:4 sparse GEMM, on the same S). Both are found
// through an environment variable, the usual sonames, or the CUDA wheels
// PyTorch installs (site-packages/nvidia/cu13/lib and similar).
//
// The few cuSPARSELt declarations used are written from its public header
// (cusparseLt.h of cuSPARSELt 0.10): opaque 512-byte, 16-aligned objects and
// plain enums.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_BENCHMARKS_GPU_BASELINES_H
#define SLR_BENCHMARKS_GPU_BASELINES_H

#include "slr/Runtime/CUDADriver.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slr::bench {

// cudaDataType values (library_types.h).
inline constexpr int kCudaR16F = 2, kCudaR16BF = 14, kCudaR32F = 0;

/// dlopen of the first of `candidates` that loads; `tried` lists them all.
void *openFirstLibrary(const std::vector<std::string> &candidates,
                       std::string &tried);

/// Candidate paths for a CUDA library: the variable `envVar`, the sonames,
/// then `file` in the nvidia/cu*/lib (or nvidia/<package>/lib) folders of
/// every Python site-packages directory found.
std::vector<std::string>
libraryCandidates(const char *envVar, const std::vector<std::string> &sonames,
                  const std::string &file);

class CuBLAS {
public:
  /// False, with `error` naming what was tried, if cuBLAS is not found.
  bool load(std::string &error);
  /// Column-major GEMM C = alpha op(A) op(B) + beta C, 16-bit operands and
  /// result, f32 accumulation.
  void gemm(cuda::CUstream stream, bool transA, bool transB, int m, int n,
            int k, cuda::CUdeviceptr a, int lda, cuda::CUdeviceptr b, int ldb,
            float beta, cuda::CUdeviceptr c, int ldc, int dataType);
  /// y[M, N] = x[M, K] * W[N, K]^T, all row-major.
  void linear(cuda::CUstream stream, int m, int n, int k, cuda::CUdeviceptr x,
              cuda::CUdeviceptr w, cuda::CUdeviceptr y, int dataType);
  std::string path;

private:
  using Handle = struct cublasContext *;
  int (*create)(Handle *) = nullptr;
  int (*setStream)(Handle, cuda::CUstream) = nullptr;
  int (*gemmEx)(Handle, int, int, int, int, int, const void *, const void *,
                int, int, const void *, int, int, const void *, void *, int,
                int, int, int) = nullptr;
  Handle handle = nullptr;
};

/// cuSPARSELt's 2:4 GEMM D[N, M] = S[N, K] x[M, K]^T (row-major; D is y
/// transposed, the layout its sparse-A form produces) for one shape.
class CuSparseLt {
public:
  bool load(std::string &error);
  std::string path;

  struct Plan;
  /// Compresses S (dense [N, K] on the device, 2:4 along K) and plans the
  /// GEMM for `m` rows of x ([m, K] on the device) into d ([N, m]). Null
  /// with `error` if cuSPARSELt refuses the shape.
  std::unique_ptr<Plan, void (*)(Plan *)>
  prepare(cuda::CUstream stream, int m, int n, int k, cuda::CUdeviceptr denseS,
          cuda::CUdeviceptr x, cuda::CUdeviceptr d, int dataType,
          std::string &error);
  /// Runs a prepared GEMM; false with `error` on failure.
  bool run(Plan &plan, cuda::CUstream stream, std::string &error);

private:
  struct API;
  std::shared_ptr<API> api;
};

} // namespace slr::bench

#endif // SLR_BENCHMARKS_GPU_BASELINES_H
