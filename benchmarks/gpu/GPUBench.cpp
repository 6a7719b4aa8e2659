//===- GPUBench.cpp - slr's GPU kernels against cuBLAS --------------------===//
//
// slr-bench-gpu: launches the kernels slr-gpu-kernels generated (fused 2:4
// sparse + low-rank, and sparse only) on random 2:4 weights (and exported
// real layers) for several M, times them with CUDA events against cuBLAS's
// dense GEMM of the same W = S + U V and cuSPARSELt's 2:4 GEMM of the same
// S (alone and with the low-rank term by two more GEMMs), and checks every
// output element of every column against a reference: the host's exact
// result for small problems, cuBLAS's dense result beyond. Each timed call
// follows a write of twice the L2 size (the weights come from memory, not
// L2); the columns are interleaved call by call after a warm-up, and the
// table shows medians. Plain C++ plus the CUDA driver, cuBLAS and
// cuSPARSELt (all dlopen'ed): the GPU machine has no LLVM/MLIR.
//
//   slr-bench-gpu build/gpu-bench/kernels.manifest --m 1,16,128,2048,8192
//
// TFLOP/s are dense-equivalent: 2 M N K / time for every column, so the
// columns compare directly. --check skips the timing (and the peers) and
// compares with the host reference only: the mode for the PTX simulator.
//
//===----------------------------------------------------------------------===//

#include "Baselines.h"
#include "KernelManifest.h"

#include "slr/Conversion/SLRToGPU/LaunchPolicy.h"
#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Conversion/SLRToGPU/WgmmaTensorMaps.h"
#include "slr/Runtime/CUDARuntime.h"
#include "slr/Runtime/CUDADriver.h"
#include "slr/Support/FloatConversion.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace slr;
using namespace slr::bench;
using namespace slr::cuda;

namespace {

constexpr const char *kErrorPrefix = "slr-bench-gpu: error: ";

[[noreturn]] void fail(const std::string &message) {
  exitWithError(kErrorPrefix, message);
}

const DriverAPI &driver() { return requireDriver(kErrorPrefix); }

void check(CUresult result, const char *call) {
  requireSuccess(result, call, kErrorPrefix);
}

//===----------------------------------------------------------------------===//
// Host data
//===----------------------------------------------------------------------===//

uint16_t toBits(float value, bool bf16) {
  return bf16 ? floatToBfloat16(value) : floatToHalf(value);
}
float fromBits(uint16_t bits, bool bf16) {
  return bf16 ? bfloat16ToFloat(bits) : halfToFloat(bits);
}

/// A layer's operands, rounded to the 16-bit type (the float copies hold the
/// rounded values, for the reference).
struct Layer {
  int64_t n, k, rank;
  bool bf16;
  std::vector<float> s, u, v;     // dense S [N, K], U [N, r], V [r, K]
  std::vector<uint16_t> values;   // packed S [N, K/2]
  std::vector<uint8_t> positions; // [N, K/4]
  std::vector<uint32_t> metadata; // mma.sp words
  std::vector<uint16_t> uBits, vBits, dense; // U, V, W = S + U V
  std::vector<uint16_t> sBits;               // S, dense [N, K]
};

/// Builds a layer from packed S (float values [N, K/2], positions [N, K/4]),
/// U and V, rounding everything to the 16-bit type.
Layer layerFromPacked(int64_t n, int64_t k, int64_t rank, bool bf16,
                      const std::vector<float> &values,
                      std::vector<uint8_t> positions,
                      const std::vector<float> &u,
                      const std::vector<float> &v) {
  Layer layer{n, k, rank, bf16, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  auto rounded = [&](float value) {
    return fromBits(toBits(value, bf16), bf16);
  };
  layer.positions = std::move(positions);
  layer.s.assign(n * k, 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t g = 0; g < k / 4; ++g) {
      unsigned nibble = layer.positions[row * (k / 4) + g] & 0xFu;
      for (unsigned t = 0; t < 2; ++t) {
        uint16_t bits = toBits(values[row * (k / 2) + 2 * g + t], bf16);
        layer.values.push_back(bits);
        layer.s[row * k + 4 * g + ((nibble >> (2 * t)) & 3u)] =
            fromBits(bits, bf16);
      }
    }
  layer.metadata.resize(mma::metadataWordCount(n, k));
  int64_t badRow = 0, badGroup = 0;
  if (!mma::reorderMetadata(layer.positions.data(), n, k, layer.metadata.data(),
                            &badRow, &badGroup))
    fail("2:4 group " + std::to_string(badGroup) + " of row " +
         std::to_string(badRow) +
         " does not hold two ascending positions (ordered metadata)");
  for (float value : u) {
    layer.uBits.push_back(toBits(value, bf16));
    layer.u.push_back(rounded(value));
  }
  for (float value : v) {
    layer.vBits.push_back(toBits(value, bf16));
    layer.v.push_back(rounded(value));
  }
  for (float value : layer.s)
    layer.sBits.push_back(toBits(value, bf16));
  layer.dense.resize(n * k);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      double w = layer.s[row * k + col];
      for (int64_t r = 0; r < rank; ++r)
        w +=
            static_cast<double>(layer.u[row * rank + r]) * layer.v[r * k + col];
      layer.dense[row * k + col] = toBits(static_cast<float>(w), bf16);
    }
  return layer;
}

/// Random 2:4 S with values in [-1, 1] and a low-rank part at a third of
/// that scale.
Layer randomLayer(int64_t n, int64_t k, int64_t rank, bool bf16,
                  std::mt19937 &rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_int_distribution<int> pair(0, 5);
  const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  std::vector<float> values(n * k / 2), u(n * rank), v(rank * k);
  std::vector<uint8_t> positions(n * k / 4);
  for (uint8_t &group : positions) {
    const int *p = pairs[pair(rng)];
    group = static_cast<uint8_t>(p[0] | p[1] << 2);
  }
  for (float &value : values)
    value = uniform(rng);
  for (float &value : u)
    value = 0.3f * uniform(rng);
  for (float &value : v)
    value = 0.3f * uniform(rng);
  return layerFromPacked(n, k, rank, bf16, values, std::move(positions), u, v);
}

/// A layer exported by slr-gpu-kernels --model (see KernelManifest.h).
Layer readLayer(const std::string &path, const bench::LayerWeights &w,
                bool bf16) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail("cannot read " + path);
  std::vector<float> values(w.n * w.k / 2), u(w.n * w.rank), v(w.rank * w.k);
  std::vector<uint8_t> positions(w.n * w.k / 4);
  in.read(reinterpret_cast<char *>(values.data()), values.size() * 4);
  in.read(reinterpret_cast<char *>(positions.data()), positions.size());
  in.read(reinterpret_cast<char *>(u.data()), u.size() * 4);
  in.read(reinterpret_cast<char *>(v.data()), v.size() * 4);
  if (!in || in.peek() != std::char_traits<char>::eof())
    fail(path + " does not hold the " + std::to_string(w.n) + " x " +
         std::to_string(w.k) + " rank-" + std::to_string(w.rank) +
         " layer its manifest entry describes");
  return layerFromPacked(w.n, w.k, w.rank, bf16, values, std::move(positions),
                         u, v);
}

//===----------------------------------------------------------------------===//
// Device buffers and kernel arguments
//===----------------------------------------------------------------------===//

struct DeviceBuffer {
  CUdeviceptr pointer = 0;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t size) : bytes(size) {
    check(driver().cuMemAlloc(&pointer, std::max<size_t>(size, 1)),
          "cuMemAlloc");
  }
  template <typename T>
  DeviceBuffer(const std::vector<T> &host)
      : DeviceBuffer(host.size() * sizeof(T)) {
    upload(host.data());
  }
  ~DeviceBuffer() { driver().cuMemFree(pointer); }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  void upload(const void *host) {
    check(driver().cuMemcpyAsync(pointer, reinterpret_cast<CUdeviceptr>(host),
                                 bytes, nullptr),
          "cuMemcpyAsync");
    check(driver().cuStreamSynchronize(nullptr), "cuStreamSynchronize");
  }
  template <typename T> std::vector<T> download() const {
    std::vector<T> host(bytes / sizeof(T));
    check(driver().cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(host.data()),
                                 pointer, bytes, nullptr),
          "cuMemcpyAsync");
    check(driver().cuStreamSynchronize(nullptr), "cuStreamSynchronize");
    return host;
  }
};

/// Kernel parameters: every memref argument is its lowered descriptor
/// (allocated pointer, aligned pointer, offset, sizes, strides), one
/// parameter per field.
class KernelArguments {
public:
  KernelArguments() { fields.reserve(64); }
  void matrix(const DeviceBuffer &buffer, int64_t rows, int64_t cols) {
    add({static_cast<int64_t>(buffer.pointer),
         static_cast<int64_t>(buffer.pointer), 0, rows, cols, cols, 1});
  }
  void vector(const DeviceBuffer &buffer, int64_t size) {
    add({static_cast<int64_t>(buffer.pointer),
         static_cast<int64_t>(buffer.pointer), 0, size, 1});
  }
  void **data() {
    pointers.clear();
    for (int64_t &field : fields)
      pointers.push_back(&field);
    return pointers.data();
  }

private:
  void add(std::initializer_list<int64_t> values) {
    fields.insert(fields.end(), values);
  }
  std::vector<int64_t> fields;
  std::vector<void *> pointers;
};

CUfunction loadKernel(CUmodule module, const std::string &name,
                      int64_t sharedBytes) {
  CUfunction function = nullptr;
  CUresult result =
      driver().cuModuleGetFunction(&function, module, name.c_str());
  if (result != kSuccess)
    fail(describeError(driver(), "cuModuleGetFunction", result) + " for " +
         name);
  if (sharedBytes > 48 * 1024)
    check(driver().cuFuncSetAttribute(function,
                                      kFuncAttributeMaxDynamicSharedSizeBytes,
                                      static_cast<int>(sharedBytes)),
          "cuFuncSetAttribute");
  return function;
}

void launch(CUfunction function, int64_t gx, int64_t gy, int64_t gz,
            int64_t threads, int64_t sharedBytes, CUstream stream,
            KernelArguments &arguments) {
  check(driver().cuLaunchKernel(function, gx, gy, gz, threads, 1, 1,
                                sharedBytes, stream, arguments.data(), nullptr),
        "cuLaunchKernel");
}

/// The TMA tensor maps of a wgmma_sp_sm90a launch: 128 bytes each, in the
/// slots the kernel reads (x, S, metadata words, U, t), encoded as the
/// compiler's launcher encodes them (wgmma::tensorMaps through
/// slrGpuEncodeTensorMap2D).
struct alignas(64) TensorMaps {
  int64_t words[5][16] = {};
};

/// One unit in the last place of the 16-bit type at |v| (its subnormal
/// quantum below the normal range).
double ulpOf(double v, bool bf16) {
  const int mantissaBits = bf16 ? 7 : 10, minExponent = bf16 ? -126 : -14;
  int exponent =
      v == 0 ? minExponent
             : std::max(static_cast<int>(std::floor(std::log2(std::fabs(v)))),
                        minExponent);
  return std::ldexp(1.0, exponent - mantissaBits);
}

/// The worst error over every element of y, in units of its bound.
struct ElementCheck {
  double worst = 0; // max |y - ref| / bound
  int64_t compared = 0, worstRow = -1, worstCol = -1;
  double worstValue = 0, worstReference = 0;

  /// One element with its error in units of its bound (NaN counts as the
  /// worst).
  void record(double error, int64_t row, int64_t col, double value,
              double reference) {
    if (!(error <= worst)) {
      worst = std::isnan(error) ? INFINITY : error;
      worstRow = row;
      worstCol = col;
      worstValue = value;
      worstReference = reference;
    }
    ++compared;
  }
};

/// Compares every element of y [m, n] with the host reference of the
/// kernels' arithmetic: t = x V^T summed in f32 and rounded to the element
/// type, y = x S^T + t U^T summed in f32 and rounded to the element type.
/// The bound per element is one ulp of the element type at the reference,
/// plus the worst-case f32 summation error ((k + r) 2^-24 times the sum of
/// the terms' magnitudes), plus the effect of t moving by one ulp of the
/// element type (its f32 sum may round either way).
ElementCheck checkEveryElement(const std::vector<uint16_t> &y,
                               const Layer &layer, const std::vector<float> &x,
                               int64_t m, bool withLowRank) {
  const int64_t n = layer.n, k = layer.k, r = withLowRank ? layer.rank : 0;
  const bool bf16 = layer.bf16;
  ElementCheck result;
  std::vector<double> t(r), tUlp(r);
  for (int64_t row = 0; row < m; ++row) {
    const float *xr = &x[row * k];
    for (int64_t q = 0; q < r; ++q) {
      double sum = 0;
      for (int64_t c = 0; c < k; ++c)
        sum += static_cast<double>(xr[c]) * layer.v[q * k + c];
      t[q] = fromBits(toBits(static_cast<float>(sum), bf16), bf16);
      tUlp[q] = ulpOf(sum, bf16);
    }
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0, magnitude = 0, tSlack = 0;
      const float *sj = &layer.s[j * k];
      for (int64_t c = 0; c < k; ++c) {
        double term = static_cast<double>(xr[c]) * sj[c];
        ref += term;
        magnitude += std::fabs(term);
      }
      for (int64_t q = 0; q < r; ++q) {
        double uq = layer.u[j * r + q];
        ref += t[q] * uq;
        magnitude += std::fabs(t[q] * uq);
        tSlack += std::fabs(uq) * tUlp[q];
      }
      double accumulation =
          static_cast<double>(k + r) * std::ldexp(1.0, -24) * magnitude +
          tSlack;
      double bound = ulpOf(std::fabs(ref) + accumulation, bf16) + accumulation;
      double got = fromBits(y[row * n + j], bf16);
      result.record(std::fabs(got - ref) / bound, row, j, got, ref);
    }
  }
  return result;
}

std::vector<int64_t> parseList(const std::string &text) {
  std::vector<int64_t> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ','))
    values.push_back(std::stoll(item));
  return values;
}

/// Per-element agreement with a reference computed with other roundings
/// (cuBLAS's dense W = S + U V rounded to 16 bits, cuSPARSELt's rounding of
/// x S^T before the low-rank GEMM adds to it): two ulps of the 16-bit type
/// at the reference plus `slack`, eight standard deviations of the sum of
/// K (and r) independent half-ulp input differences.
ElementCheck compareWithReference(const std::vector<uint16_t> &got,
                                  bool transposed, int64_t ld,
                                  const std::vector<double> &reference,
                                  int64_t m, int64_t n, bool bf16,
                                  double slack) {
  ElementCheck result;
  for (int64_t row = 0; row < m; ++row)
    for (int64_t j = 0; j < n; ++j) {
      double ref = reference[row * n + j];
      double value =
          fromBits(transposed ? got[j * ld + row] : got[row * ld + j], bf16);
      result.record(std::fabs(value - ref) / (2 * ulpOf(ref, bf16) + slack),
                    row, j, value, ref);
    }
  return result;
}

double rootMeanSquare(const std::vector<float> &values) {
  double sum = 0;
  for (float v : values)
    sum += static_cast<double>(v) * v;
  return values.empty() ? 0 : std::sqrt(sum / values.size());
}

/// Exact (double) host references of y = x S^T (sparse) and
/// x S^T + round(x V^T) U^T (fused), [m, n].
void hostReferences(const Layer &layer, const std::vector<float> &x, int64_t m,
                    std::vector<double> &sparse, std::vector<double> &fused) {
  const int64_t n = layer.n, k = layer.k, r = layer.rank;
  sparse.assign(m * n, 0);
  fused.assign(m * n, 0);
  std::vector<double> t(r);
  for (int64_t row = 0; row < m; ++row) {
    for (int64_t q = 0; q < r; ++q) {
      double sum = 0;
      for (int64_t c = 0; c < k; ++c)
        sum += static_cast<double>(x[row * k + c]) * layer.v[q * k + c];
      t[q] = fromBits(toBits(static_cast<float>(sum), layer.bf16), layer.bf16);
    }
    for (int64_t j = 0; j < n; ++j) {
      double s = 0, l = 0;
      for (int64_t c = 0; c < k; ++c)
        s += static_cast<double>(x[row * k + c]) * layer.s[j * k + c];
      for (int64_t q = 0; q < r; ++q)
        l += t[q] * layer.u[j * r + q];
      sparse[row * n + j] = s;
      fused[row * n + j] = s + l;
    }
  }
}

std::vector<double> toDoubles(const std::vector<uint16_t> &bits, bool bf16) {
  std::vector<double> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i)
    out[i] = fromBits(bits[i], bf16);
  return out;
}

/// Which peers to time (`--baselines`).
struct Baselines {
  bool cublas = true, cusparselt = true;
};

struct BenchContext {
  CUmodule module;
  CuBLAS *cublas;         // null: no cuBLAS column
  CuSparseLt *cusparselt; // null: no cuSPARSELt columns
  bool checkOnly;         // no timing: every element against the host reference
  CUstream stream;
  const std::vector<int64_t> &ms;
  int reps;
  std::mt19937 &rng;
  DeviceBuffer *flush; // written before every timed call (evicts L2)
};

/// A timed column: median milliseconds of `reps` calls, each after the L2
/// flush, interleaved with the other columns so that none runs first from
/// cold clocks.
struct Column {
  const char *name;
  std::function<void()> run;
  std::vector<float> ms = {};
  double median() const {
    if (ms.empty())
      return NAN;
    std::vector<float> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    return sorted[sorted.size() / 2];
  }
};

void timeColumns(const BenchContext &c, std::vector<Column *> columns) {
  const DriverAPI &d = driver();
  CUevent start, stop;
  check(d.cuEventCreate(&start, 0), "cuEventCreate");
  check(d.cuEventCreate(&stop, 0), "cuEventCreate");
  auto flush = [&](int round) {
    check(d.cuMemsetD32Async(c.flush->pointer, static_cast<unsigned>(round),
                             c.flush->bytes / 4, c.stream),
          "cuMemsetD32Async");
  };
  // Warm-up: every column at least 5 times and 20 ms, clocks up.
  for (Column *column : columns) {
    auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < 5 || std::chrono::steady_clock::now() - begin <
                                 std::chrono::milliseconds(20);
         ++i) {
      column->run();
      check(d.cuStreamSynchronize(c.stream), "cuStreamSynchronize");
    }
  }
  for (int rep = 0; rep < c.reps; ++rep)
    for (size_t i = 0; i < columns.size(); ++i) {
      Column *column = columns[(i + rep) % columns.size()];
      flush(rep);
      check(d.cuEventRecord(start, c.stream), "cuEventRecord");
      column->run();
      check(d.cuEventRecord(stop, c.stream), "cuEventRecord");
      check(d.cuEventSynchronize(stop), "cuEventSynchronize");
      float ms = 0;
      check(d.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
      column->ms.push_back(ms);
    }
  d.cuEventDestroy(start);
  d.cuEventDestroy(stop);
}

[[noreturn]] void failCheck(const ElementCheck &e, int64_t m,
                            const std::string &what) {
  fail("y[" + std::to_string(e.worstRow) + ", " + std::to_string(e.worstCol) +
       "] = " + std::to_string(e.worstValue) + " but the reference is " +
       std::to_string(e.worstReference) + " (" + std::to_string(e.worst) +
       " times the error bound) for M = " + std::to_string(m) + ", " + what);
}

/// Above this many multiply-adds per check the reference is cuBLAS's dense
/// result instead of the host.
constexpr double kHostReferenceMacs = 1 << 27;

/// Largest M the decode kernels are run for (8 tiles of 16 rows).
constexpr int64_t kDecodeMaxM = 128;

/// The decode kernels (decode_sm80) of one layer that the manifest has,
/// fused (with the low-rank term) and sparse only, for every tile of rows;
/// each M runs on the smallest tile that holds it (the largest beyond).
struct DecodeKernels {
  std::vector<const bench::KernelVariant *> fused, sparse;

  static const bench::KernelVariant *
  pick(const std::vector<const bench::KernelVariant *> &sets, int64_t m) {
    const bench::KernelVariant *best = nullptr;
    for (const bench::KernelVariant *v : sets) {
      bool fits = v->tileM >= m, bestFits = best && best->tileM >= m;
      if (!best || (fits && (!bestFits || v->tileM < best->tileM)) ||
          (!fits && !bestFits && v->tileM > best->tileM))
        best = v;
    }
    return best;
  }
};

/// The wgmma_sp_sm90a sets of one layer that the manifest has (the family
/// builds only shapes it tiles: N, K and the rank multiples of 128, 64 and
/// 64), fused and sparse only; either may be missing.
struct WgmmaKernels {
  const bench::KernelVariant *fused = nullptr, *sparse = nullptr;
  bool any() const { return fused || sparse; }
};

/// Times and checks one layer's kernels for every M; prints a table.
void benchmarkLayer(BenchContext &c, const std::string &title,
                    const Layer &layer, const bench::KernelVariant &fused,
                    const bench::KernelVariant *sparse, DecodeKernels decode,
                    WgmmaKernels wgmma) {
  const DriverAPI &d = driver();
  const int64_t n = layer.n, k = layer.k, r = layer.rank;
  const bool bf16 = layer.bf16;
  const int dataType = bf16 ? kCudaR16BF : kCudaR16F;
  CUstream stream = c.stream;
  std::printf("\n%s: %lld x %lld (N x K), 2:4 + rank %lld, %s\n", title.c_str(),
              (long long)n, (long long)k, (long long)r, bf16 ? "bf16" : "f16");
  if (c.checkOnly)
    std::printf("%6s | %10s %12s | %10s %12s", "M", "elements", "fused err/bd",
                "elements", "sparse err/bd");
  else
    std::printf("%6s | %9s %7s | %9s %7s | %9s %7s | %9s %7s %6s %6s | %9s "
                "%7s %6s %6s | %7s",
                "M", "cuBLAS", "TFLOP/s", "cuSPLt", "TFLOP/s", "cuSPLt+LR",
                "TFLOP/s", "slr 2:4", "TFLOP/s", "x cuBL", "x cuSP",
                "slr fused", "TFLOP/s", "x cuBL", "x +LR", "err/bd");
  // The decode variant's columns: its fused and sparse-only kernels.
  if (!decode.fused.empty() && c.checkOnly)
    std::printf(" | %12s %12s", "decode err/bd", "dec 2:4 err/bd");
  else if (!decode.fused.empty())
    std::printf(" | %9s %7s %6s %6s | %9s %7s %6s | %7s", "slr decode",
                "TFLOP/s", "x cuBL", "x +LR", "dec 2:4", "TFLOP/s", "x cuBL",
                "err/bd");
  // The wgmma_sp_sm90a columns: its fused and sparse-only kernels.
  if (wgmma.any() && c.checkOnly)
    std::printf(" | %12s %12s", "wgmma err/bd", "wg 2:4 err/bd");
  else if (wgmma.any())
    std::printf(" | %9s %7s %6s %6s | %9s %7s %6s %6s | %7s", "slr wgmma",
                "TFLOP/s", "x cuBL", "x +LR", "wg 2:4", "TFLOP/s", "x cuBL",
                "x cuSP", "err/bd");
  std::printf("\n");
  DeviceBuffer dValues(layer.values), dMeta(layer.metadata), dU(layer.uBits),
      dV(layer.vBits), dDense(layer.dense), dS(layer.sBits);
  CUfunction mainFused =
      loadKernel(c.module, fused.mainKernel, fused.mainSharedBytes);
  CUfunction lowRank =
      loadKernel(c.module, fused.lowRankKernel, fused.lowRankSharedBytes);
  CUfunction mainSparse =
      sparse ? loadKernel(c.module, sparse->mainKernel, sparse->mainSharedBytes)
             : nullptr;
  auto loadDecode = [&](const bench::KernelVariant *v) -> CUfunction {
    return v ? loadKernel(c.module, v->mainKernel, v->mainSharedBytes)
             : nullptr;
  };
  const bench::KernelVariant *wf = wgmma.fused, *ws = wgmma.sparse;
  CUfunction wgmmaFused = loadDecode(wf), wgmmaSparse = loadDecode(ws);
  CUfunction wgmmaLowRank =
      wf ? loadKernel(c.module, wf->lowRankKernel, wf->lowRankSharedBytes)
         : nullptr;
  const int64_t words = mma::metadataWordCount(n, k);
  const double rmsS = rootMeanSquare(layer.s), rmsU = rootMeanSquare(layer.u),
               rmsV = rootMeanSquare(layer.v);
  std::vector<float> w(n * k);
  for (int64_t i = 0; i < n * k; ++i)
    w[i] = fromBits(layer.dense[i], bf16);
  const double rmsW = rootMeanSquare(w);
  const double halfUlp = std::ldexp(1.0, bf16 ? -8 : -11);

  for (int64_t m : c.ms) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    // cuSPARSELt wants leading dimensions of whole 16-byte rows: its x and D
    // have M rounded up to a multiple of 16 (the extra rows are zero).
    const int64_t mPad = (m + 15) / 16 * 16;
    std::vector<float> x(m * k);
    std::vector<uint16_t> xBits(m * k);
    for (int64_t i = 0; i < m * k; ++i) {
      xBits[i] = toBits(uniform(c.rng), bf16);
      x[i] = fromBits(xBits[i], bf16);
    }
    // slr's kernels get x of exactly M rows, so that reading past it shows.
    std::vector<uint16_t> xPadded(xBits);
    xPadded.resize(c.cusparselt ? mPad * k : 1, 0);
    DeviceBuffer dx(xBits), dxPadded(xPadded),
        dT(std::max<int64_t>(m * r, 1) * sizeof(float)), dy(m * n * 2),
        dySparse(m * n * 2), dyDense(m * n * 2), dyDenseS(m * n * 2),
        dCslt(c.cusparselt ? mPad * n * 2 : 1),
        dCsltLR(c.cusparselt ? mPad * n * 2 : 1),
        dTc(c.cusparselt ? std::max<int64_t>(mPad * r, 1) * 2 : 1);
    const double flops = 2.0 * m * n * k;

    KernelArguments lowRankArgs, fusedArgs, sparseArgs;
    lowRankArgs.matrix(dx, m, k);
    lowRankArgs.matrix(dV, r, k);
    lowRankArgs.matrix(dT, m, r);
    fusedArgs.matrix(dx, m, k);
    fusedArgs.matrix(dValues, n, k / 2);
    fusedArgs.vector(dMeta, words);
    fusedArgs.matrix(dU, n, r);
    fusedArgs.matrix(dT, m, r);
    fusedArgs.matrix(dy, m, n);
    sparseArgs.matrix(dx, m, k);
    sparseArgs.matrix(dValues, n, k / 2);
    sparseArgs.vector(dMeta, words);
    sparseArgs.matrix(dySparse, m, n);
    const int64_t splitK = lowRankSplitK(m, r, fused.lowRankTileN,
                                         fused.lowRankTileM, fused.kBlocks);

    // decode_sm80: one launch each; the f32 workspace [M, N] and the
    // counters are zeroed once here and left zero by every launch, so the
    // timed calls need no fill (both kernels share them, in stream order).
    // Beyond kDecodeMaxM the decode kernels (which re-read the weights per
    // tile of rows) are not run.
    const bool decodeRuns = m <= kDecodeMaxM;
    const bench::KernelVariant *df = decodeRuns
                                         ? DecodeKernels::pick(decode.fused, m)
                                         : nullptr,
                               *ds = decodeRuns
                                         ? DecodeKernels::pick(decode.sparse, m)
                                         : nullptr;
    if (df && ds && ds->tileM != df->tileM)
      ds = nullptr; // they share the counters
    CUfunction decodeFused = loadDecode(df), decodeSparse = loadDecode(ds);
    const int64_t decodeCounters =
        df ? n / df->tileN * ceilDiv(m, df->tileM) : 1;
    DeviceBuffer dWs(df ? m * n * sizeof(float) : 1),
        dCounters(decodeCounters * sizeof(int32_t)), dyDecode(m * n * 2),
        dyDecodeSparse(m * n * 2);
    KernelArguments decodeArgs, decodeSparseArgs;
    if (df) {
      check(d.cuMemsetD32Async(dWs.pointer, 0, m * n, stream),
            "cuMemsetD32Async");
      check(d.cuMemsetD32Async(dCounters.pointer, 0, decodeCounters, stream),
            "cuMemsetD32Async");
      for (auto [args, out, rank] :
           {std::tuple{&decodeArgs, &dyDecode, r},
            std::tuple{&decodeSparseArgs, &dyDecodeSparse, int64_t{0}}}) {
        args->matrix(dx, m, k);
        args->matrix(dValues, n, k / 2);
        args->vector(dMeta, words);
        if (rank) {
          args->matrix(dU, n, r);
          args->matrix(dV, r, k);
        }
        args->matrix(dWs, m, n);
        args->vector(dCounters, decodeCounters);
        args->matrix(*out, m, n);
      }
    }
    // wgmma_sp_sm90a, as its launcher runs it: the projection kernel in its
    // store mode writes t [M, r] of the element type (no split, no zeroing),
    // then the main kernel reads x, S, the metadata words, U and t through
    // the tensor maps (uploaded once per M: they hold x's and t's rows).
    DeviceBuffer dTw(wf ? std::max<int64_t>(m * r, 1) * 2 : 1),
        dyWgmma(m * n * 2), dyWgmmaSparse(m * n * 2),
        dMapsFused(sizeof(TensorMaps)), dMapsSparse(sizeof(TensorMaps));
    KernelArguments wgLowRankArgs, wgFusedArgs, wgSparseArgs;
    const uint64_t eltMapType = bf16 ? 9 : 6; // CUtensorMapDataType
    for (auto [v, maps, args, out] :
         {std::tuple{wf, &dMapsFused, &wgFusedArgs, &dyWgmma},
          std::tuple{ws, &dMapsSparse, &wgSparseArgs, &dyWgmmaSparse}}) {
      if (!v)
        continue;
      TensorMaps host;
      const CUdeviceptr tensors[] = {dx.pointer, dValues.pointer, dMeta.pointer,
                                     dU.pointer, dTw.pointer};
      const std::vector<wgmma::TensorMap> layout =
          wgmma::tensorMaps(n, k, v->rank);
      for (const wgmma::TensorMap &map : layout)
        slrGpuEncodeTensorMap2D(
            host.words, map.slot, reinterpret_cast<void *>(tensors[map.slot]),
            map.words ? 2 : eltMapType, map.rowsAreM ? m : map.rows, map.cols,
            map.boxRows, map.boxCols, map.swizzle);
      maps->upload(&host);
      const int64_t mapCount = static_cast<int64_t>(layout.size());
      args->matrix(dx, m, k);
      args->matrix(dValues, n, k / 2);
      args->vector(dMeta, words);
      if (v->rank) {
        args->matrix(dU, n, r);
        args->matrix(dTw, m, r);
      }
      args->matrix(*out, m, n);
      args->matrix(*maps, mapCount, 16);
    }
    if (wf) {
      wgLowRankArgs.matrix(dx, m, k);
      wgLowRankArgs.matrix(dV, r, k);
      wgLowRankArgs.matrix(dTw, m, r);
    }
    auto runWgmma = [&] {
      launch(wgmmaLowRank, r / wf->lowRankTileN, ceilDiv(m, wf->lowRankTileM),
             1, wf->lowRankThreads, wf->lowRankSharedBytes, stream,
             wgLowRankArgs);
      launch(wgmmaFused, n / wf->tileN, ceilDiv(m, wf->tileM), 1, wf->threads,
             wf->mainSharedBytes, stream, wgFusedArgs);
    };
    auto runWgmmaSparse = [&] {
      launch(wgmmaSparse, n / ws->tileN, ceilDiv(m, ws->tileM), 1, ws->threads,
             ws->mainSharedBytes, stream, wgSparseArgs);
    };

    auto runDecode = [&] {
      launch(decodeFused, n / df->tileN, df->kBlocks, ceilDiv(m, df->tileM),
             df->threads, df->mainSharedBytes, stream, decodeArgs);
    };
    auto runDecodeSparse = [&] {
      launch(decodeSparse, n / ds->tileN, ds->kBlocks, ceilDiv(m, ds->tileM),
             ds->threads, ds->mainSharedBytes, stream, decodeSparseArgs);
    };

    auto runFused = [&] {
      check(d.cuMemsetD32Async(dT.pointer, 0, m * r, stream),
            "cuMemsetD32Async");
      launch(lowRank, r / fused.lowRankTileN, ceilDiv(m, fused.lowRankTileM),
             splitK, fused.lowRankThreads, fused.lowRankSharedBytes, stream,
             lowRankArgs);
      launch(mainFused, n / fused.tileN, ceilDiv(m, fused.tileM), 1,
             fused.threads, fused.mainSharedBytes, stream, fusedArgs);
    };
    auto runSparse = [&] {
      launch(mainSparse, n / sparse->tileN, ceilDiv(m, sparse->tileM), 1,
             sparse->threads, sparse->mainSharedBytes, stream, sparseArgs);
    };
    if (c.checkOnly) {
      runFused();
      if (sparse)
        runSparse();
      // The decode kernels run twice, y overwritten with NaN in between:
      // the second launch shows that the first left the workspace zero.
      if (df) {
        for (int pass = 0; pass < 2; ++pass) {
          for (DeviceBuffer *out : {&dyDecode, &dyDecodeSparse})
            check(d.cuMemsetD16Async(out->pointer, 0xFFFF, m * n, stream),
                  "cuMemsetD16Async");
          runDecode();
          if (ds)
            runDecodeSparse();
        }
      }
      // y starts as NaN, so that an element no launch wrote shows.
      for (DeviceBuffer *out : {&dyWgmma, &dyWgmmaSparse})
        check(d.cuMemsetD16Async(out->pointer, 0xFFFF, m * n, stream),
              "cuMemsetD16Async");
      if (wf)
        runWgmma();
      if (ws)
        runWgmmaSparse();
      check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");
      ElementCheck fusedCheck =
          checkEveryElement(dy.download<uint16_t>(), layer, x, m, true);
      ElementCheck sparseCheck;
      if (sparse)
        sparseCheck = checkEveryElement(dySparse.download<uint16_t>(), layer, x,
                                        m, false);
      std::printf("%6lld | %10lld %12.3f | %10lld %12.3f", (long long)m,
                  (long long)fusedCheck.compared, fusedCheck.worst,
                  (long long)sparseCheck.compared, sparseCheck.worst);
      ElementCheck decodeCheck, decodeSparseCheck;
      if (df) {
        decodeCheck =
            checkEveryElement(dyDecode.download<uint16_t>(), layer, x, m, true);
        if (ds)
          decodeSparseCheck = checkEveryElement(
              dyDecodeSparse.download<uint16_t>(), layer, x, m, false);
        std::printf(" | %12.3f %12.3f", decodeCheck.worst,
                    decodeSparseCheck.worst);
      } else if (!decode.fused.empty()) {
        std::printf(" | %12s %12s", "-", "-");
      }
      ElementCheck wgmmaCheck, wgmmaSparseCheck;
      if (wgmma.any()) {
        if (wf)
          wgmmaCheck = checkEveryElement(dyWgmma.download<uint16_t>(), layer, x,
                                         m, true);
        if (ws)
          wgmmaSparseCheck = checkEveryElement(
              dyWgmmaSparse.download<uint16_t>(), layer, x, m, false);
        auto cell = [](const bench::KernelVariant *v, const ElementCheck &e) {
          if (v)
            std::printf(" %12.3f", e.worst);
          else
            std::printf(" %12s", "-");
        };
        std::printf(" |");
        cell(wf, wgmmaCheck);
        cell(ws, wgmmaSparseCheck);
      }
      std::printf("\n");
      std::fflush(stdout);
      if (fusedCheck.worst > 1.0)
        failCheck(fusedCheck, m, "slr's fused kernel");
      if (sparseCheck.worst > 1.0)
        failCheck(sparseCheck, m, "slr's sparse-only kernel");
      if (decodeCheck.worst > 1.0)
        failCheck(decodeCheck, m, "slr's decode kernel");
      if (decodeSparseCheck.worst > 1.0)
        failCheck(decodeSparseCheck, m, "slr's sparse-only decode kernel");
      if (wgmmaCheck.worst > 1.0)
        failCheck(wgmmaCheck, m, "slr's wgmma kernel");
      if (wgmmaSparseCheck.worst > 1.0)
        failCheck(wgmmaSparseCheck, m, "slr's sparse-only wgmma kernel");
      continue;
    }

    // The peers on the same data: cuBLAS's dense GEMM of W, cuSPARSELt's
    // 2:4 GEMM of S, and cuSPARSELt plus the low-rank term by two cuBLAS
    // GEMMs (t = x V^T rounded to 16 bits, then D += t U^T).
    Column dense{"cuBLAS", [&] {
                   c.cublas->linear(stream, m, n, k, dx.pointer, dDense.pointer,
                                    dyDense.pointer, dataType);
                 }};
    Column slrSparse{"slr sparse", runSparse}, slrFused{"slr fused", runFused},
        slrDecode{"slr decode", runDecode},
        slrDecodeSparse{"slr decode 2:4", runDecodeSparse},
        slrWgmma{"slr wgmma", runWgmma},
        slrWgmmaSparse{"slr wgmma 2:4", runWgmmaSparse};
    std::unique_ptr<CuSparseLt::Plan, void (*)(CuSparseLt::Plan *)> plan(
        nullptr, [](CuSparseLt::Plan *) {});
    std::string csltError;
    if (c.cusparselt) {
      plan = c.cusparselt->prepare(stream, mPad, n, k, dS.pointer,
                                   dxPadded.pointer, dCslt.pointer, dataType,
                                   csltError);
      if (!plan)
        std::fprintf(stderr, "slr-bench-gpu: cuSPARSELt refuses M = %lld: %s\n",
                     (long long)m, csltError.c_str());
    }
    CuSparseLt::Plan *planLR = nullptr;
    std::unique_ptr<CuSparseLt::Plan, void (*)(CuSparseLt::Plan *)> planSecond(
        nullptr, [](CuSparseLt::Plan *) {});
    if (plan) {
      planSecond = c.cusparselt->prepare(stream, mPad, n, k, dS.pointer,
                                         dxPadded.pointer, dCsltLR.pointer,
                                         dataType, csltError);
      planLR = planSecond.get();
    }
    auto runCslt = [&](CuSparseLt::Plan &p) {
      std::string error;
      if (!c.cusparselt->run(p, stream, error))
        fail(error);
    };
    Column cslt{"cuSPARSELt", [&] { runCslt(*plan); }};
    Column csltLR{
        "cuSPARSELt+LR", [&] {
          runCslt(*planLR);
          // Column-major views: x is K x Mpad, V is K x r, U is
          // r x N, D (row-major [N, Mpad]) is Mpad x N.
          c.cublas->gemm(stream, true, false, mPad, r, k, dxPadded.pointer, k,
                         dV.pointer, k, 0.0f, dTc.pointer, mPad, dataType);
          c.cublas->gemm(stream, false, false, mPad, n, r, dTc.pointer, mPad,
                         dU.pointer, r, 1.0f, dCsltLR.pointer, mPad, dataType);
        }};
    std::vector<Column *> columns;
    if (c.cublas)
      columns.push_back(&dense);
    if (plan && planLR) {
      columns.push_back(&cslt);
      columns.push_back(&csltLR);
    }
    if (sparse)
      columns.push_back(&slrSparse);
    columns.push_back(&slrFused);
    if (df)
      columns.push_back(&slrDecode);
    if (ds)
      columns.push_back(&slrDecodeSparse);
    if (wf)
      columns.push_back(&slrWgmma);
    if (ws)
      columns.push_back(&slrWgmmaSparse);
    timeColumns(c, columns);
    check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");

    // Every element of every column against a reference.
    std::vector<double> refSparse, refFused;
    double worst = 0;
    auto note = [&](const ElementCheck &e, const std::string &what) {
      worst = std::max(worst, e.worst);
      if (e.worst > 1.0)
        failCheck(e, m, what);
    };
    const double rmsX = rootMeanSquare(x);
    const double rmsT = std::sqrt(static_cast<double>(k)) * rmsX * rmsV;
    const double slackSparse =
        8 * halfUlp * std::sqrt(static_cast<double>(k)) * rmsX * rmsS;
    const double slackFused = 8 * halfUlp *
                              (std::sqrt(static_cast<double>(k)) * rmsX * rmsW +
                               std::sqrt(static_cast<double>(r)) * rmsU * rmsT);
    bool host = static_cast<double>(m) * n * (k + r) <= kHostReferenceMacs;
    if (host) {
      hostReferences(layer, x, m, refSparse, refFused);
      note(checkEveryElement(dy.download<uint16_t>(), layer, x, m, true),
           "slr's fused kernel");
      if (sparse)
        note(checkEveryElement(dySparse.download<uint16_t>(), layer, x, m,
                               false),
             "slr's sparse-only kernel");
      if (df)
        note(
            checkEveryElement(dyDecode.download<uint16_t>(), layer, x, m, true),
            "slr's decode kernel");
      if (ds)
        note(checkEveryElement(dyDecodeSparse.download<uint16_t>(), layer, x, m,
                               false),
             "slr's sparse-only decode kernel");
      if (wf)
        note(checkEveryElement(dyWgmma.download<uint16_t>(), layer, x, m, true),
             "slr's wgmma kernel");
      if (ws)
        note(checkEveryElement(dyWgmmaSparse.download<uint16_t>(), layer, x, m,
                               false),
             "slr's sparse-only wgmma kernel");
    } else {
      if (!c.cublas)
        fail("M = " + std::to_string(m) +
             " needs cuBLAS as the reference (over the host's budget)");
      // cuBLAS's dense results of S and of W are the references.
      c.cublas->linear(stream, m, n, k, dx.pointer, dS.pointer,
                       dyDenseS.pointer, dataType);
      check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");
      refSparse = toDoubles(dyDenseS.download<uint16_t>(), bf16);
      refFused = toDoubles(dyDense.download<uint16_t>(), bf16);
      note(compareWithReference(dy.download<uint16_t>(), false, n, refFused, m,
                                n, bf16, slackFused),
           "slr's fused kernel against cuBLAS");
      if (sparse)
        note(compareWithReference(dySparse.download<uint16_t>(), false, n,
                                  refSparse, m, n, bf16, slackSparse),
             "slr's sparse-only kernel against cuBLAS");
      if (df)
        note(compareWithReference(dyDecode.download<uint16_t>(), false, n,
                                  refFused, m, n, bf16, slackFused),
             "slr's decode kernel against cuBLAS");
      if (ds)
        note(compareWithReference(dyDecodeSparse.download<uint16_t>(), false, n,
                                  refSparse, m, n, bf16, slackSparse),
             "slr's sparse-only decode kernel against cuBLAS");
      if (wf)
        note(compareWithReference(dyWgmma.download<uint16_t>(), false, n,
                                  refFused, m, n, bf16, slackFused),
             "slr's wgmma kernel against cuBLAS");
      if (ws)
        note(compareWithReference(dyWgmmaSparse.download<uint16_t>(), false, n,
                                  refSparse, m, n, bf16, slackSparse),
             "slr's sparse-only wgmma kernel against cuBLAS");
    }
    if (c.cublas && host)
      note(compareWithReference(dyDense.download<uint16_t>(), false, n,
                                refFused, m, n, bf16, slackFused),
           "cuBLAS's dense GEMM");
    if (plan && planLR) {
      note(compareWithReference(dCslt.download<uint16_t>(), true, mPad,
                                refSparse, m, n, bf16, slackSparse),
           "cuSPARSELt");
      note(compareWithReference(dCsltLR.download<uint16_t>(), true, mPad,
                                refFused, m, n, bf16, slackFused),
           "cuSPARSELt + low rank");
    }

    auto tflops = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };
    double denseMs = dense.median(), csltMs = cslt.median(),
           csltLRMs = csltLR.median(), sparseMs = slrSparse.median(),
           fusedMs = slrFused.median();
    std::printf("%6lld | %9.4f %7.1f | %9.4f %7.1f | %9.4f %7.1f | %9.4f %7.1f "
                "%5.2fx %5.2fx | %9.4f %7.1f %5.2fx %5.2fx | %7.3f",
                (long long)m, denseMs, tflops(denseMs), csltMs, tflops(csltMs),
                csltLRMs, tflops(csltLRMs), sparseMs, tflops(sparseMs),
                denseMs / sparseMs, csltMs / sparseMs, fusedMs, tflops(fusedMs),
                denseMs / fusedMs, csltLRMs / fusedMs, worst);
    if (df) {
      double decodeMs = slrDecode.median(),
             decodeSparseMs = ds ? slrDecodeSparse.median() : NAN;
      std::printf(" | %9.4f %7.1f %5.2fx %5.2fx | %9.4f %7.1f %5.2fx | %7.3f",
                  decodeMs, tflops(decodeMs), denseMs / decodeMs,
                  csltLRMs / decodeMs, decodeSparseMs, tflops(decodeSparseMs),
                  denseMs / decodeSparseMs, worst);
    } else if (!decode.fused.empty()) {
      std::printf(" | %9s %7s %6s %6s | %9s %7s %6s | %7s", "-", "-", "-", "-",
                  "-", "-", "-", "-");
    }
    if (wgmma.any()) {
      // A shape the family has no kernel for shows dashes.
      double wgmmaMs = slrWgmma.median(),
             wgmmaSparseMs = slrWgmmaSparse.median();
      if (wf)
        std::printf(" | %9.4f %7.1f %5.2fx %5.2fx", wgmmaMs, tflops(wgmmaMs),
                    denseMs / wgmmaMs, csltLRMs / wgmmaMs);
      else
        std::printf(" | %9s %7s %6s %6s", "-", "-", "-", "-");
      if (ws)
        std::printf(" | %9.4f %7.1f %5.2fx %5.2fx", wgmmaSparseMs,
                    tflops(wgmmaSparseMs), denseMs / wgmmaSparseMs,
                    csltMs / wgmmaSparseMs);
      else
        std::printf(" | %9s %7s %6s %6s", "-", "-", "-", "-");
      std::printf(" | %7.3f", worst);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string manifestPath, mList = "1,16,128,2048,8192";
  int reps = 20;
  bool checkOnly = false;
  Baselines baselines;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--m" && i + 1 < argc)
      mList = argv[++i];
    else if (arg == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--check")
      checkOnly = true;
    else if (arg == "--baselines" && i + 1 < argc) {
      std::string list = argv[++i];
      baselines.cublas = list.find("cublas") != std::string::npos;
      baselines.cusparselt = list.find("cusparselt") != std::string::npos;
      if (list != "none" && !baselines.cublas && !baselines.cusparselt)
        fail("--baselines takes cublas,cusparselt or none, got '" + list + "'");
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: slr-bench-gpu <kernels.manifest> [--m 1,16,...] [--reps N] "
          "[--check] [--baselines cublas,cusparselt|none]\n"
          "  --baselines: the peers to time (default both; a peer asked "
          "for and not found is an error)\n"
          "  --check: no timing; every output element against the host "
          "reference (for the PTX simulator: LD_LIBRARY_PATH=<build>/lib/"
          "cuda-sim)\n");
      return 0;
    } else if (manifestPath.empty())
      manifestPath = arg;
    else
      fail("unexpected argument '" + arg + "'");
  }
  if (manifestPath.empty())
    fail("usage: slr-bench-gpu <kernels.manifest> [--m 1,16,...] [--reps N]");
  bench::KernelManifest manifest;
  std::string error;
  if (!bench::readManifest(manifestPath, manifest, error))
    fail(error);
  std::vector<int64_t> ms;
  try {
    ms = parseList(mList);
  } catch (...) {
    fail("--m must be a comma-separated list of integers");
  }

  const DriverAPI &d = driver();
  char deviceName[256] = {0};
  check(d.cuDeviceGetName(deviceName, sizeof(deviceName), currentDevice()),
        "cuDeviceGetName");
  int sms = 0, major = 0, minor = 0;
  d.cuDeviceGetAttribute(&sms, kDeviceAttributeMultiprocessorCount,
                         currentDevice());
  d.cuDeviceGetAttribute(&major, kDeviceAttributeComputeCapabilityMajor,
                         currentDevice());
  d.cuDeviceGetAttribute(&minor, kDeviceAttributeComputeCapabilityMinor,
                         currentDevice());
  int clockKHz = 0, memoryClockKHz = 0, l2Bytes = 0;
  d.cuDeviceGetAttribute(&clockKHz, kDeviceAttributeClockRate, currentDevice());
  d.cuDeviceGetAttribute(&memoryClockKHz, kDeviceAttributeMemoryClockRate,
                         currentDevice());
  d.cuDeviceGetAttribute(&l2Bytes, kDeviceAttributeL2CacheSize,
                         currentDevice());
  std::printf("device: %s (sm_%d%d, %d SMs, SM clock %d MHz, memory clock %d "
              "MHz, L2 %d MiB); kernels: %s\n",
              deviceName, major, minor, sms, clockKHz / 1000,
              memoryClockKHz / 1000, l2Bytes >> 20, manifest.chip.c_str());

  std::string binaryPath =
      manifestPath.substr(0, manifestPath.rfind('/') + 1) + manifest.binary;
  std::ifstream binaryFile(binaryPath, std::ios::binary);
  if (!binaryFile)
    fail("cannot read " + binaryPath);
  std::string image((std::istreambuf_iterator<char>(binaryFile)), {});
  CUmodule module = nullptr;
  check(d.cuModuleLoadData(&module, image.data()), "cuModuleLoadData");

  // The peers: a missing one is an error, not a NaN column.
  CuBLAS cublas;
  CuSparseLt cusparselt;
  if (!checkOnly && baselines.cublas) {
    if (!cublas.load(error))
      fail(error);
    std::printf("cuBLAS: %s\n", cublas.path.c_str());
  }
  if (!checkOnly && baselines.cusparselt) {
    if (!baselines.cublas)
      fail("the cuSPARSELt + low-rank column needs cuBLAS too");
    if (!cusparselt.load(error))
      fail(error);
    std::printf("cuSPARSELt: %s (x and D at M rounded up to a multiple of "
                "16)\n",
                cusparselt.path.c_str());
  }
  CUstream stream = nullptr;
  check(d.cuStreamCreate(&stream, kStreamNonBlocking), "cuStreamCreate");
  // Written before each timed call: twice the L2, at least 64 MiB.
  DeviceBuffer flush(
      checkOnly ? 4 : std::max<size_t>(size_t(2) * l2Bytes, size_t(64) << 20));
  std::mt19937 rng(20261201);

  BenchContext context{module,
                       !checkOnly && baselines.cublas ? &cublas : nullptr,
                       !checkOnly && baselines.cusparselt ? &cusparselt
                                                          : nullptr,
                       checkOnly,
                       stream,
                       ms,
                       reps,
                       rng,
                       &flush};
  auto findVariant = [&](int64_t n, int64_t k, int64_t rank,
                         const std::string &type,
                         const std::string &family = "mma_sp_sm80") {
    const bench::KernelVariant *found = nullptr;
    for (const bench::KernelVariant &v : manifest.variants)
      if (v.n == n && v.k == k && v.rank == rank && v.type == type &&
          v.family == family)
        found = &v;
    return found;
  };
  auto findDecode = [&](int64_t n, int64_t k, int64_t rank,
                        const std::string &type) {
    DecodeKernels found;
    for (const bench::KernelVariant &v : manifest.variants)
      if (v.n == n && v.k == k && v.type == type && v.family == "decode_sm80" &&
          (v.rank == rank || v.rank == 0))
        (v.rank == rank ? found.fused : found.sparse).push_back(&v);
    return found;
  };
  auto findWgmma = [&](int64_t n, int64_t k, int64_t rank,
                       const std::string &type) {
    return WgmmaKernels{findVariant(n, k, rank, type, "wgmma_sp_sm90a"),
                        findVariant(n, k, 0, type, "wgmma_sp_sm90a")};
  };
  // Random weights for every fused variant, with the sparse-only kernel of
  // the same shape; then the exported layers of a real model.
  for (const bench::KernelVariant &fused : manifest.variants) {
    if (fused.rank == 0 || fused.family != "mma_sp_sm80")
      continue;
    Layer layer =
        randomLayer(fused.n, fused.k, fused.rank, fused.type == "bf16", rng);
    benchmarkLayer(context, "random W", layer, fused,
                   findVariant(fused.n, fused.k, 0, fused.type),
                   findDecode(fused.n, fused.k, fused.rank, fused.type),
                   findWgmma(fused.n, fused.k, fused.rank, fused.type));
  }
  std::string directory = manifestPath.substr(0, manifestPath.rfind('/') + 1);
  for (const bench::LayerWeights &weights : manifest.weights) {
    const bench::KernelVariant *fused = nullptr;
    for (const bench::KernelVariant &v : manifest.variants)
      if (v.n == weights.n && v.k == weights.k && v.rank == weights.rank &&
          v.family == "mma_sp_sm80")
        fused = &v;
    if (!fused)
      fail("no kernels for layer " + weights.layer + " in the manifest");
    bool bf16 = fused->type == "bf16";
    Layer layer = readLayer(directory + weights.file, weights, bf16);
    benchmarkLayer(context, weights.layer, layer, *fused,
                   findVariant(weights.n, weights.k, 0, fused->type),
                   findDecode(weights.n, weights.k, weights.rank, fused->type),
                   findWgmma(weights.n, weights.k, weights.rank, fused->type));
  }
  return 0;
}
