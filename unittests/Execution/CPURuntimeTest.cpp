//===- CPURuntimeTest.cpp - slr CPU runtime entry points ------------------===//

#include "slr/Runtime/CPURuntime.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace slr::runtime;

namespace {

StridedMemRefType<float, 2> view(std::vector<float> &data, int64_t rows,
                                 int64_t cols, int64_t rowStride,
                                 int64_t colStride, int64_t offset = 0) {
  StridedMemRefType<float, 2> m;
  m.basePtr = m.data = data.data();
  m.offset = offset;
  m.sizes[0] = rows;
  m.sizes[1] = cols;
  m.strides[0] = rowStride;
  m.strides[1] = colStride;
  return m;
}

float at(const StridedMemRefType<float, 2> &m, int64_t i, int64_t j) {
  return m.data[m.offset + i * m.strides[0] + j * m.strides[1]];
}

// C += A * B for row-major, transposed and non-unit-stride views alike.
TEST(CPURuntime, SgemmHonoursEveryStrideLayout) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  const int64_t m = 5, k = 7, n = 3;
  std::vector<float> a(4 * m * k), b(4 * k * n);
  for (float &v : a)
    v = dist(rng);
  for (float &v : b)
    v = dist(rng);
  struct Layout {
    StridedMemRefType<float, 2> a, b;
  };
  std::vector<Layout> layouts = {
      {view(a, m, k, k, 1), view(b, k, n, n, 1)},         // row-major
      {view(a, m, k, 1, m), view(b, k, n, 1, k)},         // both transposed
      {view(a, m, k, 2 * k, 2, 1), view(b, k, n, n + 2, 1, 3)}, // strided
  };
  for (Layout &layout : layouts) {
    std::vector<float> c(m * n, 1.0f);
    auto cView = view(c, m, n, n, 1);
    _mlir_ciface_slr_rt_sgemm(&layout.a, &layout.b, &cView);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double expected = 1.0;
        for (int64_t p = 0; p < k; ++p)
          expected += double(at(layout.a, i, p)) * at(layout.b, p, j);
        EXPECT_NEAR(c[i * n + j], expected, 1e-5);
      }
  }
}

TEST(CPURuntime, SgemmIntoANonContiguousOutput) {
  std::vector<float> a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c(8, 0.0f);
  auto aView = view(a, 2, 2, 2, 1), bView = view(b, 2, 2, 2, 1);
  auto cView = view(c, 2, 2, 1, 4); // column-major-ish output
  _mlir_ciface_slr_rt_sgemm(&aView, &bView, &cView);
  EXPECT_EQ(at(cView, 0, 0), 19);
  EXPECT_EQ(at(cView, 0, 1), 22);
  EXPECT_EQ(at(cView, 1, 0), 43);
  EXPECT_EQ(at(cView, 1, 1), 50);
}

TEST(CPURuntime, RecorderAccumulatesGramInDouble) {
  ActivationRecorder recorder({"a", "b"});
  setActivationRecorder(&recorder);
  std::vector<float> x = {1, 2, 3, 4, 5, 6}; // 3 x 2
  auto xView = view(x, 3, 2, 2, 1);
  _mlir_ciface_slr_rt_record_activation(1, &xView);
  _mlir_ciface_slr_rt_record_activation(1, &xView);
  setActivationRecorder(nullptr);
  _mlir_ciface_slr_rt_record_activation(1, &xView); // no recorder: ignored
  EXPECT_TRUE(recorder.error().empty());
  EXPECT_EQ(recorder.numRows(0), 0);
  EXPECT_EQ(recorder.numRows(1), 6);
  ASSERT_EQ(recorder.numFeatures(1), 2);
  // X^T X = [[35, 44], [44, 56]], twice.
  EXPECT_EQ(recorder.hessian(1), (std::vector<double>{70, 88, 88, 112}));
}

TEST(CPURuntime, RecorderReportsMisuse) {
  ActivationRecorder recorder({"a"});
  setActivationRecorder(&recorder);
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  auto wide = view(x, 2, 3, 3, 1), narrow = view(x, 3, 2, 2, 1);
  _mlir_ciface_slr_rt_record_activation(0, &wide);
  _mlir_ciface_slr_rt_record_activation(0, &narrow);
  setActivationRecorder(nullptr);
  EXPECT_NE(recorder.error().find("inputs of width"), std::string::npos);
  ActivationRecorder other({"a"});
  setActivationRecorder(&other);
  _mlir_ciface_slr_rt_record_activation(5, &wide);
  setActivationRecorder(nullptr);
  EXPECT_NE(other.error().find("unknown layer id 5"), std::string::npos);
}

} // namespace
