//===- TestUtil.h - Shared helpers of the compression unit tests -*- C++
//-*-===//

#ifndef SLR_UNITTESTS_COMPRESSION_TESTUTIL_H
#define SLR_UNITTESTS_COMPRESSION_TESTUTIL_H

#include "slr/Compression/Steps.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace slr::compression::test {

inline Matrix randomMatrix(int64_t rows, int64_t cols, std::mt19937_64 &rng,
                           double scale = 1.0) {
  std::normal_distribution<double> normal(0.0, scale);
  Matrix matrix(rows, cols);
  for (double &value : matrix.data)
    value = normal(rng);
  return matrix;
}

/// H = X^T X for `samples` rows of inputs whose neighbouring features are
/// correlated (an AR(1) chain with coefficient `correlation`) and whose
/// feature scales spread over a decade or so, like LLM activations.
inline Matrix correlatedHessian(int64_t size, int64_t samples,
                                double correlation, std::mt19937_64 &rng,
                                double scaleSpread = 0.5) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> scale(size);
  for (double &value : scale)
    value = std::exp(scaleSpread * normal(rng));
  Matrix inputs(samples, size);
  double innovation = std::sqrt(1.0 - correlation * correlation);
  for (int64_t s = 0; s < samples; ++s) {
    double previous = normal(rng);
    for (int64_t j = 0; j < size; ++j) {
      double value =
          j == 0 ? previous : correlation * previous + innovation * normal(rng);
      previous = value;
      inputs(s, j) = value * scale[j];
    }
  }
  return multiply(inputs, inputs, /*transposeA=*/true);
}

/// Solves the small SPD system A x = b (Gaussian elimination with partial
/// pivoting; independent of the library's LAPACK paths).
inline std::vector<double> solveSmall(std::vector<double> a,
                                      std::vector<double> b) {
  int64_t n = static_cast<int64_t>(b.size());
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t row = col + 1; row < n; ++row)
      if (std::fabs(a[row * n + col]) > std::fabs(a[pivot * n + col]))
        pivot = row;
    for (int64_t k = 0; k < n; ++k)
      std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (int64_t row = col + 1; row < n; ++row) {
      double factor = a[row * n + col] / a[col * n + col];
      for (int64_t k = col; k < n; ++k)
        a[row * n + k] -= factor * a[col * n + k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (int64_t row = n - 1; row >= 0; --row) {
    double sum = b[row];
    for (int64_t k = row + 1; k < n; ++k)
      sum -= a[row * n + k] * x[k];
    x[row] = sum / a[row * n + row];
  }
  return x;
}

/// 1/2 (t - s) H (t - s)^T for one row.
inline double rowObjective(const double *target, const double *sparse,
                           const Matrix &hessian) {
  int64_t size = hessian.rows;
  double sum = 0.0;
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < size; ++j)
      sum += (target[i] - sparse[i]) * hessian(i, j) * (target[j] - sparse[j]);
  return 0.5 * sum;
}

/// Optimal kept values on a fixed support: s_S solves H_SS s_S = (t H)_S.
inline std::vector<double> refitRow(const double *target,
                                    const std::vector<uint8_t> &keep,
                                    const Matrix &hessian) {
  int64_t size = hessian.rows;
  std::vector<int64_t> support;
  for (int64_t j = 0; j < size; ++j)
    if (keep[j])
      support.push_back(j);
  int64_t count = static_cast<int64_t>(support.size());
  std::vector<double> system(count * count), rhs(count, 0.0);
  for (int64_t a = 0; a < count; ++a) {
    for (int64_t b = 0; b < count; ++b)
      system[a * count + b] = hessian(support[a], support[b]);
    for (int64_t j = 0; j < size; ++j)
      rhs[a] += target[j] * hessian(j, support[a]);
  }
  std::vector<double> solution = solveSmall(system, rhs);
  std::vector<double> row(size, 0.0);
  for (int64_t a = 0; a < count; ++a)
    row[support[a]] = solution[a];
  return row;
}

/// The exact optimum of min_s 1/2 (t - s) H (t - s)^T over every n:m mask of
/// one row, by enumeration.
struct BruteForceOptimum {
  double objective = std::numeric_limits<double>::infinity();
  std::vector<double> row;
};

inline BruteForceOptimum bruteForceRow(const double *target,
                                       const Matrix &hessian, int n, int m) {
  int64_t size = hessian.rows, groups = size / m;
  // All n-subsets of m positions, as bit masks.
  std::vector<unsigned> subsets;
  for (unsigned bits = 0; bits < (1u << m); ++bits)
    if (__builtin_popcount(bits) == n)
      subsets.push_back(bits);
  BruteForceOptimum best;
  std::vector<size_t> choice(groups, 0);
  while (true) {
    std::vector<uint8_t> keep(size, 0);
    for (int64_t g = 0; g < groups; ++g)
      for (int j = 0; j < m; ++j)
        keep[g * m + j] = (subsets[choice[g]] >> j) & 1u;
    std::vector<double> row = refitRow(target, keep, hessian);
    double value = rowObjective(target, row.data(), hessian);
    if (value < best.objective) {
      best.objective = value;
      best.row = row;
    }
    int64_t g = 0;
    while (g < groups && ++choice[g] == subsets.size())
      choice[g++] = 0;
    if (g == groups)
      break;
  }
  return best;
}

} // namespace slr::compression::test

#endif // SLR_UNITTESTS_COMPRESSION_TESTUTIL_H
