//===- LowRank.cpp - Truncated SVDs and the closed-form low-rank step -----===//

#include "slr/Compression/Steps.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace slr::compression {

namespace {
/// splitmix64 + Box-Muller: a fixed, portable stream for a given seed (the
/// distributions of <random> differ between standard libraries).
class GaussianStream {
public:
  explicit GaussianStream(uint64_t seed) : state(seed) {}
  double next() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    double u1 = uniform(), u2 = uniform();
    double radius = std::sqrt(-2.0 * std::log(u1));
    double angle = 6.283185307179586 * u2;
    spare = radius * std::sin(angle);
    hasSpare = true;
    return radius * std::cos(angle);
  }

private:
  uint64_t nextBits() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1]: never 0, so the logarithm stays finite.
  double uniform() {
    return (static_cast<double>(nextBits() >> 11) + 1.0) * 0x1.0p-53;
  }
  uint64_t state;
  double spare = 0.0;
  bool hasSpare = false;
};
} // namespace

static Matrix identity(int64_t size) {
  Matrix matrix(size, size);
  for (int64_t i = 0; i < size; ++i)
    matrix(i, i) = 1.0;
  return matrix;
}

static Status lapackFailure(const char *routine, int info) {
  return Status::error(std::string("low-rank approximation failed: LAPACK ") +
                       routine + " info = " + std::to_string(info));
}

/// Replaces the columns of `matrix` (rows >= cols) by an orthonormal basis of
/// their span (Householder QR).
static Status orthonormalizeColumns(Matrix &matrix) {
  int64_t rows = matrix.rows, cols = matrix.cols;
  std::vector<double> tau(static_cast<size_t>(cols));
  int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, rows, cols, matrix.data.data(),
                            cols, tau.data());
  if (info != 0)
    return lapackFailure("dgeqrf", info);
  info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, rows, cols, cols, matrix.data.data(),
                        cols, tau.data());
  if (info != 0)
    return lapackFailure("dorgqr", info);
  return Status::success();
}

/// Top-`rank` eigenvectors (descending eigenvalues) of the symmetric `gram`,
/// as the columns of a gram.rows x rank matrix.
static Status topEigenvectors(Matrix gram, int64_t rank, Matrix &vectors) {
  int64_t size = gram.rows;
  Matrix ascending(size, rank);
  std::vector<double> values(static_cast<size_t>(size));
  std::vector<lapack_int> support(static_cast<size_t>(2 * size));
  lapack_int found = 0;
  int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'L', size,
                            gram.data.data(), size, 0.0, 0.0, size - rank + 1,
                            size, 0.0, &found, values.data(),
                            ascending.data.data(), rank, support.data());
  if (info != 0)
    return lapackFailure("dsyevr", info);
  if (found != rank)
    return Status::error("low-rank approximation failed: LAPACK dsyevr "
                         "returned " +
                         std::to_string(found) + " of " + std::to_string(rank) +
                         " eigenpairs");
  vectors = Matrix(size, rank);
  for (int64_t i = 0; i < size; ++i)
    for (int64_t k = 0; k < rank; ++k)
      vectors(i, k) = ascending(i, rank - 1 - k);
  return Status::success();
}

/// M_r = P P^T M with P the top eigenvectors of the smaller Gram matrix.
static Status approximateByEigen(const Matrix &matrix, int64_t rank,
                                 Matrix &left, Matrix &right) {
  int64_t rows = matrix.rows, cols = matrix.cols;
  bool wide = rows <= cols;
  int64_t size = wide ? rows : cols;
  Matrix gram(size, size);
  cblas_dsyrk(CblasRowMajor, CblasLower, wide ? CblasNoTrans : CblasTrans, size,
              wide ? cols : rows, 1.0, matrix.data.data(), cols, 0.0,
              gram.data.data(), size);
  Matrix basis;
  if (Status status = topEigenvectors(std::move(gram), rank, basis); !status)
    return status;
  if (wide) {
    right = multiply(basis, matrix, /*transposeA=*/true);
    left = std::move(basis);
  } else {
    left = multiply(matrix, basis);
    right = Matrix(rank, cols);
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t k = 0; k < rank; ++k)
        right(k, i) = basis(i, k);
  }
  return Status::success();
}

/// Thin SVD of `matrix` (destroyed): u (rows x d), singular values (d),
/// vt (d x cols) with d = min(rows, cols).
static Status thinSVD(Matrix &matrix, Matrix &u, std::vector<double> &values,
                      Matrix &vt) {
  int64_t rows = matrix.rows, cols = matrix.cols;
  int64_t size = std::min(rows, cols);
  u = Matrix(rows, size);
  vt = Matrix(size, cols);
  values.assign(static_cast<size_t>(size), 0.0);
  int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', rows, cols,
                            matrix.data.data(), cols, values.data(),
                            u.data.data(), size, vt.data.data(), cols);
  if (info != 0)
    return lapackFailure("dgesdd", info);
  return Status::success();
}

/// left = u[:, :rank] diag(values[:rank]), right = vt[:rank, :].
static void truncateSVD(const Matrix &u, const std::vector<double> &values,
                        const Matrix &vt, int64_t rank, Matrix &left,
                        Matrix &right) {
  left = Matrix(u.rows, rank);
  for (int64_t i = 0; i < u.rows; ++i)
    for (int64_t k = 0; k < rank; ++k)
      left(i, k) = u(i, k) * values[k];
  right = Matrix(rank, vt.cols);
  std::copy(vt.data.begin(), vt.data.begin() + rank * vt.cols,
            right.data.begin());
}

/// Halko, Martinsson & Tropp: sketch the range with a Gaussian test matrix,
/// sharpen it by power iterations (re-orthonormalised each time), then solve
/// the small problem exactly.
static Status approximateRandomized(const Matrix &matrix, int64_t rank,
                                    const LowRankOptions &options, Matrix &left,
                                    Matrix &right) {
  int64_t cols = matrix.cols;
  int64_t sketch = std::min(rank + std::max(options.oversampling, 0),
                            std::min(matrix.rows, cols));
  Matrix test(cols, sketch);
  GaussianStream gaussian(options.seed);
  for (double &value : test.data)
    value = gaussian.next();
  Matrix range = multiply(matrix, test);
  if (Status status = orthonormalizeColumns(range); !status)
    return status;
  for (int iteration = 0; iteration < options.powerIterations; ++iteration) {
    Matrix coRange = multiply(matrix, range, /*transposeA=*/true);
    if (Status status = orthonormalizeColumns(coRange); !status)
      return status;
    range = multiply(matrix, coRange);
    if (Status status = orthonormalizeColumns(range); !status)
      return status;
  }
  Matrix projected = multiply(range, matrix, /*transposeA=*/true);
  Matrix u, vt;
  std::vector<double> values;
  if (Status status = thinSVD(projected, u, values, vt); !status)
    return status;
  Matrix smallLeft;
  truncateSVD(u, values, vt, rank, smallLeft, right);
  left = multiply(range, smallLeft);
  return Status::success();
}

Status bestRankApproximation(const Matrix &matrix, int64_t rank,
                             const LowRankOptions &options, Matrix &left,
                             Matrix &right) {
  int64_t rows = matrix.rows, cols = matrix.cols;
  int64_t smaller = std::min(rows, cols);
  rank = std::clamp<int64_t>(rank, 0, smaller);
  if (rank == 0) {
    left = Matrix(rows, 0);
    right = Matrix(0, cols);
    return Status::success();
  }
  if (rank == smaller) {
    // Full rank: the matrix itself, exactly.
    if (rows <= cols) {
      left = identity(rows);
      right = matrix;
    } else {
      left = matrix;
      right = identity(cols);
    }
    return Status::success();
  }
  SVDAlgorithm algorithm = options.algorithm;
  if (algorithm == SVDAlgorithm::Auto)
    algorithm =
        smaller <= 4096 ? SVDAlgorithm::Eigen : SVDAlgorithm::Randomized;
  switch (algorithm) {
  case SVDAlgorithm::Eigen:
  case SVDAlgorithm::Auto:
    return approximateByEigen(matrix, rank, left, right);
  case SVDAlgorithm::FullSVD: {
    Matrix copy = matrix, u, vt;
    std::vector<double> values;
    if (Status status = thinSVD(copy, u, values, vt); !status)
      return status;
    truncateSVD(u, values, vt, rank, left, right);
    return Status::success();
  }
  case SVDAlgorithm::Randomized:
    return approximateRandomized(matrix, rank, options, left, right);
  }
  return Status::error("unknown SVD algorithm");
}

Status trackRankApproximation(const Matrix &matrix, int64_t rank, int steps,
                              const LowRankOptions &options, Matrix &left,
                              Matrix &right) {
  const int64_t smaller = std::min(matrix.rows, matrix.cols);
  rank = std::clamp<int64_t>(rank, 0, smaller);
  if (rank == 0 || rank == smaller || steps < 1 || right.rows != rank ||
      right.cols != matrix.cols)
    return bestRankApproximation(matrix, rank, options, left, right);
  for (int step = 0; step < steps; ++step) {
    left = multiply(matrix, right, /*transposeA=*/false, /*transposeB=*/true);
    if (Status status = orthonormalizeColumns(left); !status)
      return status;
    right = multiply(left, matrix, /*transposeA=*/true);
  }
  return Status::success();
}

void balanceFactors(Matrix &u, Matrix &v) {
  for (int64_t k = 0; k < u.cols; ++k) {
    double leftNorm = 0.0, rightNorm = 0.0;
    for (int64_t i = 0; i < u.rows; ++i)
      leftNorm += u(i, k) * u(i, k);
    for (int64_t j = 0; j < v.cols; ++j)
      rightNorm += v(k, j) * v(k, j);
    if (leftNorm == 0.0 || rightNorm == 0.0)
      continue;
    double factor = std::sqrt(std::sqrt(rightNorm / leftNorm));
    for (int64_t i = 0; i < u.rows; ++i)
      u(i, k) *= factor;
    for (int64_t j = 0; j < v.cols; ++j)
      v(k, j) /= factor;
  }
}

Status lowRankStep(const Matrix &residual, const Matrix &cholLower,
                   int64_t rank, const LowRankOptions &options, Matrix &u,
                   Matrix &v, double *remainder) {
  int64_t numRows = residual.rows, numCols = residual.cols;
  if (remainder)
    *remainder = std::numeric_limits<double>::quiet_NaN();
  int64_t smaller = std::min(numRows, numCols);
  rank = std::clamp<int64_t>(rank, 0, smaller);
  if (rank == smaller) {
    // L = E exactly; skip R and R^-1 so no rounding creeps in.
    if (Status status = bestRankApproximation(residual, rank, options, u, v);
        !status)
      return status;
    balanceFactors(u, v);
    return Status::success();
  }
  if (rank == 0) {
    u = Matrix(numRows, 0);
    v = Matrix(0, numCols);
    return Status::success();
  }
  // tr((E - L) R R^T (E - L)^T) = ||E R - L R||_F^2, and rank(L R) =
  // rank(L): the best L R is [E R]_r (Eckart-Young), so L = [E R]_r R^-1.
  Matrix scaled = residual;
  cblas_dtrmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit,
              numRows, numCols, 1.0, cholLower.data.data(), numCols,
              scaled.data.data(), numCols);
  Matrix left, right;
  if (Status status = bestRankApproximation(scaled, rank, options, left, right);
      !status)
    return status;
  if (remainder) {
    // (E - L) R = E R - left right: an N x r x K product, not N x K x K.
    Matrix approximation = multiply(left, right);
    double sum = 0.0;
    for (size_t i = 0; i < scaled.data.size(); ++i) {
      double difference = scaled.data[i] - approximation.data[i];
      sum += difference * difference;
    }
    *remainder = sum;
  }
  // V = right R^-1 by a triangular solve: r x K, no explicit inverse.
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit,
              right.rows, numCols, 1.0, cholLower.data.data(), numCols,
              right.data.data(), numCols);
  u = std::move(left);
  v = std::move(right);
  balanceFactors(u, v);
  return Status::success();
}

} // namespace slr::compression
