//===- CPURuntime.cpp - slr CPU runtime -----------------------------------===//

#include "slr/Runtime/CPURuntime.h"
#include "slr/Runtime/SparseLinear.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

using namespace slr::runtime;

namespace {

/// A 2-D strided view as BLAS sees it: row-major with leading dimension `ld`,
/// possibly transposed. Returns false when neither stride is 1 (copy needed).
struct BlasView {
  const float *data;
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

bool asBlasView(const StridedMemRefType<float, 2> &m, BlasView &view) {
  const float *base = m.data + m.offset;
  int64_t rows = m.sizes[0], cols = m.sizes[1];
  if (m.strides[1] == 1 && (rows <= 1 || m.strides[0] >= cols)) {
    view = {base, CblasNoTrans,
            std::max<int64_t>(std::max<int64_t>(m.strides[0], cols), 1)};
    return true;
  }
  if (m.strides[0] == 1 && (cols <= 1 || m.strides[1] >= rows)) {
    view = {base, CblasTrans,
            std::max<int64_t>(std::max<int64_t>(m.strides[1], rows), 1)};
    return true;
  }
  return false;
}

/// Contiguous row-major copy of a strided view.
std::vector<float> packed(const StridedMemRefType<float, 2> &m) {
  std::vector<float> out(m.sizes[0] * m.sizes[1]);
  for (int64_t i = 0; i < m.sizes[0]; ++i)
    for (int64_t j = 0; j < m.sizes[1]; ++j)
      out[i * m.sizes[1] + j] =
          m.data[m.offset + i * m.strides[0] + j * m.strides[1]];
  return out;
}

ActivationRecorder *activeRecorder = nullptr;

} // namespace

extern "C" void _mlir_ciface_slr_rt_sgemm(StridedMemRefType<float, 2> *a,
                                          StridedMemRefType<float, 2> *b,
                                          StridedMemRefType<float, 2> *c) {
  int64_t m = a->sizes[0], k = a->sizes[1], n = b->sizes[1];
  if (m == 0 || n == 0)
    return;
  if (k == 0)
    return; // C += 0
  std::vector<float> aCopy, bCopy;
  BlasView aView, bView;
  if (!asBlasView(*a, aView)) {
    aCopy = packed(*a);
    aView = {aCopy.data(), CblasNoTrans, k};
  }
  if (!asBlasView(*b, bView)) {
    bCopy = packed(*b);
    bView = {bCopy.data(), CblasNoTrans, n};
  }
  float *cBase = c->data + c->offset;
  if (c->strides[1] == 1 && (m <= 1 || c->strides[0] >= n)) {
    cblas_sgemm(CblasRowMajor, aView.trans, bView.trans, m, n, k, 1.0f,
                aView.data, aView.ld, bView.data, bView.ld, 1.0f, cBase,
                std::max<int64_t>(c->strides[0], n));
    return;
  }
  // Rare: a non-unit-stride output; compute into a temporary and add.
  std::vector<float> temp(m * n, 0.0f);
  cblas_sgemm(CblasRowMajor, aView.trans, bView.trans, m, n, k, 1.0f,
              aView.data, aView.ld, bView.data, bView.ld, 0.0f, temp.data(), n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      cBase[i * c->strides[0] + j * c->strides[1]] += temp[i * n + j];
}

void ActivationRecorder::record(int64_t layer, const float *x, int64_t numRows,
                                int64_t numCols, int64_t rowStride,
                                int64_t colStride) {
  if (layer < 0 || layer >= static_cast<int64_t>(names.size())) {
    if (firstError.empty())
      firstError = "calibration hook called with unknown layer id " +
                   std::to_string(layer);
    return;
  }
  if (features[layer] == 0) {
    features[layer] = numCols;
    hessians[layer].assign(numCols * numCols, 0.0);
  } else if (features[layer] != numCols) {
    if (firstError.empty())
      firstError = "layer '" + names[layer] + "' saw inputs of width " +
                   std::to_string(numCols) + " and " +
                   std::to_string(features[layer]);
    return;
  }
  // H += X^T X in float64 (the statistic is summed over many tokens).
  scratch.resize(numRows * numCols);
  for (int64_t i = 0; i < numRows; ++i)
    for (int64_t j = 0; j < numCols; ++j)
      scratch[i * numCols + j] = x[i * rowStride + j * colStride];
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, numCols, numRows, 1.0,
              scratch.data(), numCols, 1.0, hessians[layer].data(), numCols);
  // Keep the full symmetric matrix so readers need not know the convention.
  std::vector<double> &h = hessians[layer];
  for (int64_t i = 0; i < numCols; ++i)
    for (int64_t j = 0; j < i; ++j)
      h[i * numCols + j] = h[j * numCols + i];
  rows[layer] += numRows;
}

extern "C" void
_mlir_ciface_slr_rt_record_activation(int64_t layer,
                                      StridedMemRefType<float, 2> *x) {
  if (!activeRecorder)
    return;
  activeRecorder->record(layer, x->data + x->offset, x->sizes[0], x->sizes[1],
                         x->strides[0], x->strides[1]);
}

void slr::runtime::setActivationRecorder(ActivationRecorder *recorder) {
  activeRecorder = recorder;
}

std::vector<std::pair<const char *, void *>> slr::runtime::runtimeSymbols() {
  std::vector<std::pair<const char *, void *>> symbols = {
      {"_mlir_ciface_slr_rt_sgemm",
       reinterpret_cast<void *>(&_mlir_ciface_slr_rt_sgemm)},
      {"_mlir_ciface_slr_rt_record_activation",
       reinterpret_cast<void *>(&_mlir_ciface_slr_rt_record_activation)},
  };
  for (auto symbol : sparseLinearSymbols())
    symbols.push_back(symbol);
  return symbols;
}
