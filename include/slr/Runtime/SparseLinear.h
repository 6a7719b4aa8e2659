//===- SparseLinear.h - slr.linear on the packed form (CPU) -----*- C++ -*-===//
//
// y[M, N] = x[M, K]·Sᵀ + (x·Vᵀ)·Uᵀ + bias, reading S in its packed N:M form
// (slr/Sparsity/NMLayout.h) directly: values and positions are streamed once
// per tile of rows of x, nothing is unpacked. Weights are stored as f32, f16
// or bf16; x and y are f32 and every sum is accumulated in f32.
//
// Code paths: a portable scalar one (any supported n:m, positions of 1, 2, 4
// or 8 bytes) and, for 2:4 with one-byte positions, AVX2+FMA and AVX-512
// ones, compiled with function-level target attributes and chosen once at
// run time from the CPU's features. Every output element is computed by one
// thread in an order fixed by K alone, so results do not depend on the
// thread count, on M or on how rows are blocked.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_RUNTIME_SPARSELINEAR_H
#define SLR_RUNTIME_SPARSELINEAR_H

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace slr::runtime {

enum class WeightType { F32, F16, BF16 };

enum class KernelPath { Scalar, AVX2, AVX512 };

const char *kernelPathName(KernelPath path);
std::optional<KernelPath> parseKernelPath(const std::string &name);

/// Whether this CPU can run `path` (Scalar always).
bool isKernelPathSupported(KernelPath path);

/// The path calls use: SLR_CPU_KERNEL (scalar, avx2, avx512) when set and
/// supported, otherwise the best the CPU supports. Read once.
KernelPath defaultKernelPath();

/// Threads calls use: SLR_NUM_THREADS when set, else the hardware's count.
unsigned defaultThreadCount();

/// One call. Row-major operands with the given leading dimensions (in
/// elements); `u`, `v` may be null (rank 0), `bias` may be null. Weights
/// (`values`, `u`, `v`, `bias`) are of `weightType` (f16/bf16 as their 16-bit
/// patterns).
struct SparseLinearProblem {
  int64_t m = 0, n = 0, k = 0, rank = 0;
  unsigned keep = 2, group = 4; // the n:m pattern
  WeightType weightType = WeightType::F32;
  const float *x = nullptr;
  int64_t ldx = 0;
  const void *values = nullptr;    // [n, k/group*keep]
  const void *positions = nullptr; // [n, k/group]
  unsigned positionBytes = 1;      // 1, 2, 4 or 8
  const void *u = nullptr;         // [n, rank]
  const void *v = nullptr;         // [rank, k]
  const void *bias = nullptr;      // [n]
  float *y = nullptr;
  int64_t ldy = 0;
};

/// Why `problem` cannot run (empty when it can).
std::string checkSparseLinearProblem(const SparseLinearProblem &problem);

/// How a call multiplies by S.
enum class SparseStrategy {
  /// The packed kernels of `path`: S streamed once as stored. Bit for bit
  /// independent of M, of a row's place among the rows and of the threads.
  Packed,
  /// Tiles of S decoded to dense f32 rows that stay in L2, each multiplied by
  /// sgemm, then the low-rank term by sgemm: the dense product's FMAs plus one
  /// pass over S, where the packed kernel is bound by one permute per FMA.
  /// Independent of `threads`; rounding as sgemm's order gives.
  DenseTiles,
  /// DenseTiles where prefersDenseTiles says so, Packed elsewhere.
  Auto,
};

/// Auto's choice (docs/BENCHMARKS.md, "dense tiles"). From 512 rows of x the
/// dense tiles' FMAs win on every measured layer; from 128 rows they win on
/// layers whose dense f32 weights fit in 16 MiB, while on larger layers,
/// which stream from memory, the packed kernel's smaller reads still do.
constexpr int64_t kDenseTilesMinRows = 128;
inline bool prefersDenseTiles(int64_t m, int64_t n, int64_t k) {
  return m >= 4 * kDenseTilesMinRows ||
         (m >= kDenseTilesMinRows && n * k <= (int64_t(4) << 20));
}

/// Computes the problem on `path` (falls back to Scalar for patterns or
/// position widths the SIMD paths do not handle; an unsupported path is a
/// programming error) with `threads` threads (0: defaultThreadCount()).
void sparseLinear(const SparseLinearProblem &problem, KernelPath path,
                  unsigned threads = 0,
                  SparseStrategy strategy = SparseStrategy::Auto);

/// The same on defaultKernelPath().
inline void sparseLinear(const SparseLinearProblem &problem) {
  sparseLinear(problem, defaultKernelPath());
}

/// The C ABI entry points of compiled slr.linear ops,
/// `_mlir_ciface_slr_rt_sparse_linear_<f32|f16|bf16>_<i8|i16|i32|i64>` (x,
/// values, positions, u, v, bias, y as strided memrefs, then n and m of the
/// pattern; an absent low-rank part or bias is an empty memref), as (name,
/// address) pairs for a JIT.
std::vector<std::pair<const char *, void *>> sparseLinearSymbols();

} // namespace slr::runtime

#endif // SLR_RUNTIME_SPARSELINEAR_H
