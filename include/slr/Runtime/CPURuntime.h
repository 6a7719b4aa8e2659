//===- CPURuntime.h - slr CPU runtime (C ABI) -------------------*- C++ -*-===//
//
// Functions that compiled model IR calls on the CPU: BLAS-backed GEMM for
// every f32 contraction (--convert-contractions-to-slr-runtime) and the
// calibration hook that accumulates H = X^T X per layer
// (--slr-instrument-calibration). C ABI, MLIR's `_mlir_ciface_` calling
// convention (pointers to strided memref descriptors).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_RUNTIME_CPURUNTIME_H
#define SLR_RUNTIME_CPURUNTIME_H

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

extern "C" {
/// C[M, N] += A[M, K] * B[K, N] for arbitrary strides (transposed views are
/// recognised and handed to sgemm without copies).
void _mlir_ciface_slr_rt_sgemm(StridedMemRefType<float, 2> *a,
                               StridedMemRefType<float, 2> *b,
                               StridedMemRefType<float, 2> *c);

/// Calibration hook: accumulates X^T X of x[M, K] (in float64) for layer
/// `layer` into the active recorder; a no-op without one.
void _mlir_ciface_slr_rt_record_activation(int64_t layer,
                                           StridedMemRefType<float, 2> *x);
}

namespace slr::runtime {

/// Per-layer H = X^T X accumulators, indexed by the layer ids that
/// --slr-instrument-calibration assigns (module attribute
/// `slr.calibration_layers`).
class ActivationRecorder {
public:
  explicit ActivationRecorder(std::vector<std::string> layerNames)
      : names(std::move(layerNames)), hessians(names.size()),
        features(names.size(), 0), rows(names.size(), 0) {}

  void record(int64_t layer, const float *x, int64_t numRows, int64_t numCols,
              int64_t rowStride, int64_t colStride);

  const std::vector<std::string> &layerNames() const { return names; }
  /// H of a layer (K x K, row-major, symmetric), empty when never called.
  const std::vector<double> &hessian(size_t layer) const {
    return hessians[layer];
  }
  /// Moves H of a layer out (it is then empty): H of all layers is about
  /// twice the weights of a model, not to be held twice.
  std::vector<double> takeHessian(size_t layer) {
    return std::move(hessians[layer]);
  }
  int64_t numFeatures(size_t layer) const { return features[layer]; }
  /// Rows (tokens) accumulated for a layer.
  int64_t numRows(size_t layer) const { return rows[layer]; }
  /// Set when a call disagreed with an earlier one on K or used a bad id.
  const std::string &error() const { return firstError; }

private:
  std::vector<std::string> names;
  std::vector<std::vector<double>> hessians;
  std::vector<int64_t> features, rows;
  std::vector<double> scratch;
  std::string firstError;
};

/// Makes `recorder` receive slr_rt_record_activation calls (nullptr: none).
void setActivationRecorder(ActivationRecorder *recorder);

/// Symbols of this runtime for a JIT: (name, address) pairs.
std::vector<std::pair<const char *, void *>> runtimeSymbols();

} // namespace slr::runtime

#endif // SLR_RUNTIME_CPURUNTIME_H
