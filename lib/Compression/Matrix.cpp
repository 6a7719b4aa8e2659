//===- Matrix.cpp - Dense matrix helpers and the objective ----------------===//

#include "slr/Compression/Steps.h"

#include <cblas.h>

#include <algorithm>

namespace slr::compression {

Matrix Matrix::fromFloats(const float *values, int64_t rows, int64_t cols) {
  Matrix matrix(rows, cols);
  for (size_t i = 0; i < matrix.data.size(); ++i)
    matrix.data[i] = values[i];
  return matrix;
}

std::vector<float> Matrix::toFloats() const {
  return std::vector<float>(data.begin(), data.end());
}

void multiplyInto(const Matrix &a, const Matrix &b, Matrix &product,
                  bool transposeA, bool transposeB) {
  int64_t m = transposeA ? a.cols : a.rows;
  int64_t k = transposeA ? a.rows : a.cols;
  int64_t n = transposeB ? b.rows : b.cols;
  if (product.rows != m || product.cols != n ||
      product.data.size() != static_cast<size_t>(m * n))
    product = Matrix(m, n);
  if (m == 0 || n == 0)
    return;
  if (k == 0) {
    std::fill(product.data.begin(), product.data.end(), 0.0);
    return;
  }
  cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
              transposeB ? CblasTrans : CblasNoTrans, m, n, k, 1.0,
              a.data.data(), a.cols, b.data.data(), b.cols, 0.0,
              product.data.data(), product.cols);
}

Matrix multiply(const Matrix &a, const Matrix &b, bool transposeA,
                bool transposeB) {
  Matrix product;
  multiplyInto(a, b, product, transposeA, transposeB);
  return product;
}

SinglePrecisionProduct::SinglePrecisionProduct(const Matrix &right)
    : rows(right.rows), cols(right.cols),
      right(right.data.begin(), right.data.end()) {}

void SinglePrecisionProduct::apply(const Matrix &left, Matrix &product) {
  int64_t m = left.rows;
  if (product.rows != m || product.cols != cols ||
      product.data.size() != static_cast<size_t>(m * cols))
    product = Matrix(m, cols);
  if (m == 0 || cols == 0)
    return;
  leftScratch.assign(left.data.begin(), left.data.end());
  productScratch.resize(product.data.size());
  if (rows == 0)
    std::fill(productScratch.begin(), productScratch.end(), 0.0f);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, cols, rows, 1.0f,
                leftScratch.data(), rows, right.data(), cols, 0.0f,
                productScratch.data(), cols);
  std::copy(productScratch.begin(), productScratch.end(), product.data.begin());
}

double objective(const Matrix &weights, const Matrix &sparse,
                 const Matrix &lowRank, const Matrix &hessian) {
  Matrix residual = weights;
  for (size_t i = 0; i < residual.data.size(); ++i) {
    if (!sparse.empty())
      residual.data[i] -= sparse.data[i];
    if (!lowRank.empty())
      residual.data[i] -= lowRank.data[i];
  }
  // tr(D H D^T) = sum_ij D_ij (D H)_ij: one GEMM, no N x N product.
  Matrix product = multiply(residual, hessian);
  double sum = 0.0;
  for (size_t i = 0; i < residual.data.size(); ++i)
    sum += residual.data[i] * product.data[i];
  return 0.5 * sum;
}

} // namespace slr::compression
