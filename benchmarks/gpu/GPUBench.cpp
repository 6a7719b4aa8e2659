//===- GPUBench.cpp - slr's GPU kernels against cuBLAS --------------------===//
//
// slr-bench-gpu: launches the kernels slr-gpu-kernels generated (fused 2:4
// sparse + low-rank, and sparse only) on random 2:4 weights for several M,
// times them with CUDA events against cuBLAS's dense GEMM of the same
// W = S + U V, checks the results against a host reference, and prints a
// table. Plain C++ plus the CUDA driver (dlopen) and cuBLAS (dlopen): the GPU
// machine has no LLVM/MLIR.
//
//   slr-bench-gpu build/gpu-bench/kernels.manifest --m 1,16,128,2048,8192
//
// TFLOP/s are dense-equivalent: 2 M N K / time for every column, so the
// columns compare directly.
//
//===----------------------------------------------------------------------===//

#include "KernelManifest.h"

#include "slr/Conversion/SLRToGPU/LaunchPolicy.h"
#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Runtime/CUDADriver.h"
#include "slr/Support/FloatConversion.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace slr;
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
// cuBLAS, loaded at run time
//===----------------------------------------------------------------------===//

struct CuBLAS {
  using Handle = struct cublasContext *;
  int (*create)(Handle *);
  int (*destroy)(Handle);
  int (*setStream)(Handle, CUstream);
  int (*gemmEx)(Handle, int, int, int, int, int, const void *, const void *,
                int, int, const void *, int, int, const void *, void *, int,
                int, int, int);
  Handle handle = nullptr;

  static constexpr int kOpN = 0, kOpT = 1, kR32F = 0, kR16F = 2, kR16BF = 14,
                       kCompute32F = 68, kGemmDefault = -1;

  /// Loads libcublas (SLR_CUBLAS, then the usual sonames); false if absent.
  bool load(std::string &error) {
    std::vector<std::string> names;
    if (const char *path = std::getenv("SLR_CUBLAS"))
      names.push_back(path);
    for (const char *name :
         {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
      names.push_back(name);
    void *library = nullptr;
    for (const std::string &name : names)
      if ((library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)))
        break;
    if (!library) {
      error = "cannot load cuBLAS (set SLR_CUBLAS to libcublas.so.*)";
      return false;
    }
    create =
        reinterpret_cast<decltype(create)>(dlsym(library, "cublasCreate_v2"));
    destroy =
        reinterpret_cast<decltype(destroy)>(dlsym(library, "cublasDestroy_v2"));
    setStream = reinterpret_cast<decltype(setStream)>(
        dlsym(library, "cublasSetStream_v2"));
    gemmEx = reinterpret_cast<decltype(gemmEx)>(dlsym(library, "cublasGemmEx"));
    if (!create || !destroy || !setStream || !gemmEx) {
      error = "the cuBLAS library lacks cublasGemmEx & co.";
      return false;
    }
    if (create(&handle) != 0) {
      error = "cublasCreate failed";
      return false;
    }
    return true;
  }

  /// y[M, N] = x[M, K] * W[N, K]^T (row-major, 16-bit, f32 accumulation).
  void gemm(CUstream stream, int m, int n, int k, CUdeviceptr x, CUdeviceptr w,
            CUdeviceptr y, int dataType) {
    const float one = 1.0f, zero = 0.0f;
    setStream(handle, stream);
    // Column-major: y^T [N, M] = W [N, K] (op T of the K x N buffer) * x^T.
    int status = gemmEx(
        handle, kOpT, kOpN, n, m, k, &one, reinterpret_cast<void *>(w),
        dataType, k, reinterpret_cast<void *>(x), dataType, k, &zero,
        reinterpret_cast<void *>(y), dataType, n, kCompute32F, kGemmDefault);
    if (status != 0)
      fail("cublasGemmEx failed with status " + std::to_string(status));
  }
};

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
};

/// Builds a layer from packed S (float values [N, K/2], positions [N, K/4]),
/// U and V, rounding everything to the 16-bit type.
Layer layerFromPacked(int64_t n, int64_t k, int64_t rank, bool bf16,
                      const std::vector<float> &values,
                      std::vector<uint8_t> positions,
                      const std::vector<float> &u,
                      const std::vector<float> &v) {
  Layer layer{n, k, rank, bf16, {}, {}, {}, {}, {}, {}, {}, {}, {}};
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

/// Mean milliseconds per call of `body` over `reps` calls after warm-up.
template <typename Body>
double timeIt(CUstream stream, int warmup, int reps, Body body) {
  for (int i = 0; i < warmup; ++i)
    body();
  CUevent start, stop;
  check(driver().cuEventCreate(&start, 0), "cuEventCreate");
  check(driver().cuEventCreate(&stop, 0), "cuEventCreate");
  check(driver().cuEventRecord(start, stream), "cuEventRecord");
  for (int i = 0; i < reps; ++i)
    body();
  check(driver().cuEventRecord(stop, stream), "cuEventRecord");
  check(driver().cuEventSynchronize(stop), "cuEventSynchronize");
  float ms = 0;
  check(driver().cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
  driver().cuEventDestroy(start);
  driver().cuEventDestroy(stop);
  return ms / reps;
}

/// Largest |y - ref| over sampled rows, relative to the reference's RMS.
double relativeError(const std::vector<uint16_t> &y, const Layer &layer,
                     const std::vector<float> &x, int64_t m, bool withLowRank) {
  const int64_t n = layer.n, k = layer.k, r = withLowRank ? layer.rank : 0;
  double maxError = 0, sumSquares = 0;
  int64_t count = 0;
  for (int64_t row : {int64_t{0}, m / 3, (2 * m) / 3, m - 1}) {
    std::vector<double> t(r, 0.0);
    for (int64_t q = 0; q < r; ++q)
      for (int64_t c = 0; c < k; ++c)
        t[q] += static_cast<double>(x[row * k + c]) * layer.v[q * k + c];
    for (int64_t j = 0; j < n; ++j) {
      double ref = 0;
      for (int64_t c = 0; c < k; ++c)
        ref += static_cast<double>(x[row * k + c]) * layer.s[j * k + c];
      for (int64_t q = 0; q < r; ++q)
        ref += t[q] * layer.u[j * r + q];
      double got = fromBits(y[row * n + j], layer.bf16);
      maxError = std::max(maxError, std::fabs(got - ref));
      sumSquares += ref * ref;
      ++count;
    }
  }
  double rms = std::sqrt(sumSquares / std::max<int64_t>(count, 1));
  return rms > 0 ? maxError / rms : maxError;
}

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
      double error = std::fabs(got - ref) / bound;
      if (!(error <= result.worst)) { // NaN counts as the worst
        result.worst = std::isnan(error) ? INFINITY : error;
        result.worstRow = row;
        result.worstCol = j;
        result.worstValue = got;
        result.worstReference = ref;
      }
      ++result.compared;
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

/// Times and checks one layer's kernels for every M; prints a table.
struct BenchContext {
  CUmodule module;
  CuBLAS &cublas;
  bool haveCuBLAS;
  bool checkOnly; // no timing: every element against the host reference
  CUstream stream;
  const std::vector<int64_t> &ms;
  int reps;
  std::mt19937 &rng;
};

void benchmarkLayer(BenchContext &c, const std::string &title,
                    const Layer &layer, const bench::KernelVariant &fused,
                    const bench::KernelVariant *sparse) {
  const DriverAPI &d = driver();
  const int64_t n = layer.n, k = layer.k, r = layer.rank;
  const bool bf16 = layer.bf16;
  CUstream stream = c.stream;
  std::printf("\n%s: %lld x %lld (N x K), 2:4 + rank %lld, %s\n", title.c_str(),
              (long long)n, (long long)k, (long long)r, bf16 ? "bf16" : "f16");
  if (c.checkOnly)
    std::printf("%6s | %10s %12s | %10s %12s\n", "M", "elements",
                "fused err/bd", "elements", "sparse err/bd");
  else
    std::printf("%6s | %9s %8s | %9s %8s %7s | %9s %8s %7s | %9s %9s %9s\n",
                "M", "dense ms", "TFLOP/s", "sparse ms", "TFLOP/s", "vs dense",
                "fused ms", "TFLOP/s", "vs dense", "err dense", "err sparse",
                "err fused");
  DeviceBuffer dValues(layer.values), dMeta(layer.metadata), dU(layer.uBits),
      dV(layer.vBits), dDense(layer.dense);
  CUfunction mainFused =
      loadKernel(c.module, fused.mainKernel, fused.mainSharedBytes);
  CUfunction lowRank =
      loadKernel(c.module, fused.lowRankKernel, fused.lowRankSharedBytes);
  CUfunction mainSparse =
      sparse ? loadKernel(c.module, sparse->mainKernel, sparse->mainSharedBytes)
             : nullptr;
  const int64_t words = mma::metadataWordCount(n, k);

  for (int64_t m : c.ms) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> x(m * k);
    std::vector<uint16_t> xBits(m * k);
    for (int64_t i = 0; i < m * k; ++i) {
      xBits[i] = toBits(uniform(c.rng), bf16);
      x[i] = fromBits(xBits[i], bf16);
    }
    DeviceBuffer dx(xBits), dT(m * r * sizeof(float)), dy(m * n * 2),
        dySparse(m * n * 2), dyDense(m * n * 2);
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
    auto runDense = [&] {
      c.cublas.gemm(stream, m, n, k, dx.pointer, dDense.pointer,
                    dyDense.pointer, bf16 ? CuBLAS::kR16BF : CuBLAS::kR16F);
    };
    if (c.checkOnly) {
      runFused();
      if (sparse)
        runSparse();
      check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");
      ElementCheck fusedCheck =
          checkEveryElement(dy.download<uint16_t>(), layer, x, m, true);
      ElementCheck sparseCheck;
      if (sparse)
        sparseCheck = checkEveryElement(dySparse.download<uint16_t>(), layer, x,
                                        m, false);
      std::printf("%6lld | %10lld %12.3f | %10lld %12.3f\n", (long long)m,
                  (long long)fusedCheck.compared, fusedCheck.worst,
                  (long long)sparseCheck.compared, sparseCheck.worst);
      std::fflush(stdout);
      for (const ElementCheck *e : {&fusedCheck, &sparseCheck})
        if (e->worst > 1.0)
          fail("y[" + std::to_string(e->worstRow) + ", " +
               std::to_string(e->worstCol) + "] = " +
               std::to_string(e->worstValue) + " but the host reference is " +
               std::to_string(e->worstReference) + " (" +
               std::to_string(e->worst) +
               " times the error bound) for M = " + std::to_string(m) +
               (e == &fusedCheck ? ", fused" : ", sparse-only") + " kernel");
      continue;
    }
    const int warmup = 3;
    double fusedMs = timeIt(stream, warmup, c.reps, runFused);
    double sparseMs = sparse ? timeIt(stream, warmup, c.reps, runSparse) : NAN;
    double denseMs =
        c.haveCuBLAS ? timeIt(stream, warmup, c.reps, runDense) : NAN;
    check(d.cuStreamSynchronize(stream), "cuStreamSynchronize");

    double fusedError =
        relativeError(dy.download<uint16_t>(), layer, x, m, true);
    double sparseError = sparse ? relativeError(dySparse.download<uint16_t>(),
                                                layer, x, m, false)
                                : NAN;
    double denseError =
        c.haveCuBLAS
            ? relativeError(dyDense.download<uint16_t>(), layer, x, m, true)
            : NAN;
    auto tflops = [&](double msValue) {
      return flops / (msValue * 1e-3) / 1e12;
    };
    std::printf("%6lld | %9.4f %8.1f | %9.4f %8.1f %6.2fx | %9.4f %8.1f "
                "%6.2fx | %9.2e %9.2e %9.2e\n",
                (long long)m, denseMs, tflops(denseMs), sparseMs,
                tflops(sparseMs), denseMs / sparseMs, fusedMs, tflops(fusedMs),
                denseMs / fusedMs, denseError, sparseError, fusedError);
    std::fflush(stdout);
    // 16-bit inputs and outputs keep 8 (bf16) or 11 (f16) significant
    // bits: errors beyond a few percent of the output scale mean a wrong
    // kernel, not rounding.
    if (!(fusedError < 5e-2) || (sparse && !(sparseError < 5e-2)))
      fail("a kernel's result differs from the host reference (relative "
           "error fused " +
           std::to_string(fusedError) + ", sparse-only " +
           std::to_string(sparseError) + ")");
  }
}

} // namespace

int main(int argc, char **argv) {
  std::string manifestPath, mList = "1,16,128,2048,8192";
  int reps = 20;
  bool checkOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--m" && i + 1 < argc)
      mList = argv[++i];
    else if (arg == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--check")
      checkOnly = true;
    else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: slr-bench-gpu <kernels.manifest> [--m 1,16,...] [--reps N] "
          "[--check]\n"
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
  std::printf("device: %s (sm_%d%d, %d SMs); kernels: %s\n", deviceName, major,
              minor, sms, manifest.chip.c_str());

  std::string binaryPath =
      manifestPath.substr(0, manifestPath.rfind('/') + 1) + manifest.binary;
  std::ifstream binaryFile(binaryPath, std::ios::binary);
  if (!binaryFile)
    fail("cannot read " + binaryPath);
  std::string image((std::istreambuf_iterator<char>(binaryFile)), {});
  CUmodule module = nullptr;
  check(d.cuModuleLoadData(&module, image.data()), "cuModuleLoadData");

  CuBLAS cublas;
  bool haveCuBLAS = !checkOnly && cublas.load(error);
  if (!checkOnly && !haveCuBLAS)
    std::fprintf(stderr, "slr-bench-gpu: %s; timing slr's kernels only\n",
                 error.c_str());
  CUstream stream = nullptr;
  check(d.cuStreamCreate(&stream, kStreamNonBlocking), "cuStreamCreate");
  std::mt19937 rng(20261201);

  BenchContext context{module, cublas, haveCuBLAS, checkOnly,
                       stream, ms,     reps,       rng};
  auto findVariant = [&](int64_t n, int64_t k, int64_t rank,
                         const std::string &type) {
    const bench::KernelVariant *found = nullptr;
    for (const bench::KernelVariant &v : manifest.variants)
      if (v.n == n && v.k == k && v.rank == rank && v.type == type)
        found = &v;
    return found;
  };
  // Random weights for every fused variant, with the sparse-only kernel of
  // the same shape; then the exported layers of a real model.
  for (const bench::KernelVariant &fused : manifest.variants) {
    if (fused.rank == 0)
      continue;
    Layer layer =
        randomLayer(fused.n, fused.k, fused.rank, fused.type == "bf16", rng);
    benchmarkLayer(context, "random W", layer, fused,
                   findVariant(fused.n, fused.k, 0, fused.type));
  }
  std::string directory = manifestPath.substr(0, manifestPath.rfind('/') + 1);
  for (const bench::LayerWeights &weights : manifest.weights) {
    const bench::KernelVariant *fused = nullptr;
    for (const bench::KernelVariant &v : manifest.variants)
      if (v.n == weights.n && v.k == weights.k && v.rank == weights.rank)
        fused = &v;
    if (!fused)
      fail("no kernels for layer " + weights.layer + " in the manifest");
    bool bf16 = fused->type == "bf16";
    Layer layer = readLayer(directory + weights.file, weights, bf16);
    benchmarkLayer(context, weights.layer, layer, *fused,
                   findVariant(weights.n, weights.k, 0, fused->type));
  }
  return 0;
}
