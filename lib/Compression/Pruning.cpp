//===- Pruning.cpp - Masks, magnitude/Wanda, SparseGPT OBS, ADMM, refit ---===//

#include "slr/Compression/Steps.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace slr::compression {

int64_t keptCount(int64_t count, double zeroFraction) {
  // The small slack keeps e.g. 0.3 * 10 from rounding up to 4 zeros.
  auto zeros = static_cast<int64_t>(std::ceil(zeroFraction * count - 1e-9));
  zeros = std::clamp<int64_t>(zeros, 0, count);
  return count - zeros;
}

namespace {
/// Orders candidate indices by descending score, ties by ascending index, so
/// that every selection is deterministic.
struct HigherScoreFirst {
  const double *scores;
  bool operator()(int64_t a, int64_t b) const {
    if (scores[a] != scores[b])
      return scores[a] > scores[b];
    return a < b;
  }
};
} // namespace

/// Sets mask[i] = 1 for the `keep` highest of scores[0..count) and 0 for the
/// rest; `order` is scratch space.
static void keepHighest(const double *scores, int64_t count, int64_t keep,
                        std::vector<int64_t> &order, uint8_t *mask) {
  order.resize(count);
  std::iota(order.begin(), order.end(), 0);
  keep = std::clamp<int64_t>(keep, 0, count);
  if (keep > 0 && keep < count)
    std::nth_element(order.begin(), order.begin() + (keep - 1), order.end(),
                     HigherScoreFirst{scores});
  for (int64_t i = 0; i < count; ++i)
    mask[i] = 0;
  // After nth_element the first `keep` entries are the highest (unordered).
  for (int64_t i = 0; i < keep; ++i)
    mask[order[i]] = 1;
}

std::vector<uint8_t> selectMask(const Matrix &scores,
                                const SparsityPattern &pattern,
                                BudgetScope scope) {
  std::vector<uint8_t> mask(scores.data.size(), 0);
  std::vector<int64_t> order;
  if (!pattern.isUnstructured()) {
    int64_t m = pattern.m;
    for (int64_t row = 0; row < scores.rows; ++row)
      for (int64_t start = 0; start + m <= scores.cols; start += m)
        keepHighest(scores.rowData(row) + start, m, pattern.n, order,
                    mask.data() + row * scores.cols + start);
    return mask;
  }
  if (scope == BudgetScope::PerRow) {
    int64_t keep = keptCount(scores.cols, pattern.unstructuredFraction);
    for (int64_t row = 0; row < scores.rows; ++row)
      keepHighest(scores.rowData(row), scores.cols, keep, order,
                  mask.data() + row * scores.cols);
    return mask;
  }
  int64_t count = scores.rows * scores.cols;
  keepHighest(scores.data.data(), count,
              keptCount(count, pattern.unstructuredFraction), order,
              mask.data());
  return mask;
}

void applyMask(Matrix &weights, const std::vector<uint8_t> &mask) {
  for (size_t i = 0; i < weights.data.size(); ++i)
    if (!mask[i])
      weights.data[i] = 0.0;
}

void pruneMagnitude(Matrix &weights, const SparsityPattern &pattern) {
  Matrix scores = weights;
  for (double &value : scores.data)
    value = std::fabs(value);
  applyMask(weights, selectMask(scores, pattern, BudgetScope::PerMatrix));
}

void pruneWanda(Matrix &weights, const Matrix &hessian,
                const SparsityPattern &pattern) {
  Matrix scores = weights;
  for (int64_t row = 0; row < scores.rows; ++row)
    for (int64_t col = 0; col < scores.cols; ++col)
      scores(row, col) = std::fabs(weights(row, col)) *
                         std::sqrt(std::max(hessian(col, col), 0.0));
  applyMask(weights, selectMask(scores, pattern, BudgetScope::PerRow));
}

//===----------------------------------------------------------------------===//
// SparseGPT OBS sweep
//===----------------------------------------------------------------------===//

void pruneOBS(Matrix &weights, const Matrix &inverseCholUpper,
              const SparsityPattern &pattern, int64_t blockSize) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  const Matrix &factor = inverseCholUpper;
  const bool structured = !pattern.isUnstructured();
  const int64_t m = structured ? pattern.m : 1;
  // Groups must not straddle blocks: the group's choice looks at all of it.
  blockSize = std::max<int64_t>(m, blockSize / m * m);

  Matrix errors(numRows, std::min(blockSize, numCols));
  std::vector<uint8_t> blockMask, groupMask(static_cast<size_t>(m));
  std::vector<double> groupScores(static_cast<size_t>(m));
  std::vector<int64_t> order;

  for (int64_t blockStart = 0; blockStart < numCols; blockStart += blockSize) {
    const int64_t blockEnd = std::min(blockStart + blockSize, numCols);
    const int64_t count = blockEnd - blockStart;

    if (!structured) {
      // SparseGPT picks the unstructured mask of a block up front, over all
      // rows, from the weights as they enter the block.
      Matrix scores(numRows, count);
      for (int64_t row = 0; row < numRows; ++row)
        for (int64_t i = 0; i < count; ++i) {
          double d = factor(blockStart + i, blockStart + i);
          double w = weights(row, blockStart + i);
          scores(row, i) = w * w / (d * d);
        }
      blockMask = selectMask(scores, pattern, BudgetScope::PerMatrix);
    }

    // Rows are independent given the mask, so sweep one row at a time for
    // locality; the cross-block update below batches them into a GEMM.
    for (int64_t row = 0; row < numRows; ++row) {
      double *w = weights.rowData(row) + blockStart;
      double *rowErrors = errors.rowData(row);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t col = blockStart + i;
        if (structured && i % m == 0) {
          for (int64_t j = 0; j < m; ++j) {
            double d = factor(col + j, col + j);
            groupScores[j] = w[i + j] * w[i + j] / (d * d);
          }
          keepHighest(groupScores.data(), m, pattern.n, order,
                      groupMask.data());
        }
        bool keep = structured ? groupMask[i % m] : blockMask[row * count + i];
        double pruned = keep ? w[i] : 0.0;
        double error = (w[i] - pruned) / factor(col, col);
        rowErrors[i] = error;
        w[i] = pruned;
        if (error == 0.0)
          continue;
        const double *factorRow = factor.rowData(col) + blockStart;
        for (int64_t j = i + 1; j < count; ++j)
          w[j] -= error * factorRow[j];
      }
    }

    // Lazy batch update of all later columns: W[:, end:] -= E * U[blk, end:].
    if (blockEnd < numCols)
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, numRows,
                  numCols - blockEnd, count, -1.0, errors.data.data(),
                  errors.cols, factor.rowData(blockStart) + blockEnd,
                  factor.cols, 1.0, weights.rowData(0) + blockEnd,
                  weights.cols);
  }
}

//===----------------------------------------------------------------------===//
// Conjugate-gradient refit on a fixed support
//===----------------------------------------------------------------------===//

static double dot(const double *a, const double *b, int64_t size) {
  double sum = 0.0;
  for (int64_t i = 0; i < size; ++i)
    sum += a[i] * b[i];
  return sum;
}

int refitOnSupport(const Matrix &target, const Matrix &hessian,
                   const std::vector<uint8_t> &mask, int maxIterations,
                   double relativeTolerance, Matrix &weights,
                   ProductPrecision precision) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  applyMask(weights, mask);
  if (maxIterations <= 0)
    return 0;

  // Minimising 1/2 (t - s) H (t - s)^T over the support of each row s means
  // solving H_SS s_S = (t H)_S: residual r = ((t - s) H)_S.
  std::optional<SinglePrecisionProduct> singleHessian;
  if (precision == ProductPrecision::Single)
    singleHessian.emplace(hessian);
  auto multiplyByHessian = [&](const Matrix &left, Matrix &product) {
    if (singleHessian)
      singleHessian->apply(left, product);
    else
      multiplyInto(left, hessian, product);
  };
  Matrix difference = target;
  for (size_t i = 0; i < difference.data.size(); ++i)
    difference.data[i] -= weights.data[i];
  Matrix residual;
  multiplyByHessian(difference, residual);
  applyMask(residual, mask);

  std::vector<double> inverseDiagonal(numCols);
  for (int64_t j = 0; j < numCols; ++j)
    inverseDiagonal[j] = hessian(j, j) > 0.0 ? 1.0 / hessian(j, j) : 1.0;

  Matrix preconditioned = residual, direction(numRows, numCols);
  std::vector<double> rz(numRows), initialRz(numRows);
  for (int64_t row = 0; row < numRows; ++row) {
    double *z = preconditioned.rowData(row);
    for (int64_t j = 0; j < numCols; ++j)
      z[j] *= inverseDiagonal[j];
    rz[row] = initialRz[row] = dot(residual.rowData(row), z, numCols);
  }
  direction = preconditioned;

  const double toleranceSquared = relativeTolerance * relativeTolerance;
  int iteration = 0;
  Matrix product;
  while (iteration < maxIterations) {
    bool anyActive = false;
    for (int64_t row = 0; row < numRows; ++row)
      anyActive |= rz[row] > toleranceSquared * initialRz[row];
    if (!anyActive)
      break;
    ++iteration;
    multiplyByHessian(direction, product);
    applyMask(product, mask);
    for (int64_t row = 0; row < numRows; ++row) {
      if (!(rz[row] > toleranceSquared * initialRz[row]))
        continue;
      double *p = direction.rowData(row), *r = residual.rowData(row);
      double *z = preconditioned.rowData(row), *x = weights.rowData(row);
      const double *ap = product.rowData(row);
      double curvature = dot(p, ap, numCols);
      if (!(curvature > 0.0)) {
        rz[row] = 0.0;
        continue;
      }
      double alpha = rz[row] / curvature;
      for (int64_t j = 0; j < numCols; ++j) {
        x[j] += alpha * p[j];
        r[j] -= alpha * ap[j];
        z[j] = r[j] * inverseDiagonal[j];
      }
      double newRz = dot(r, z, numCols);
      double beta = newRz / rz[row];
      for (int64_t j = 0; j < numCols; ++j)
        p[j] = z[j] + beta * p[j];
      rz[row] = newRz;
    }
  }
  return iteration;
}

//===----------------------------------------------------------------------===//
// ALPS-style ADMM
//===----------------------------------------------------------------------===//

/// D = projection of `values` onto the pattern (largest magnitudes kept).
static void projectOntoPattern(const Matrix &values,
                               const SparsityPattern &pattern,
                               Matrix &projected, std::vector<uint8_t> &mask) {
  Matrix scores = values;
  for (double &value : scores.data)
    value = std::fabs(value);
  mask = selectMask(scores, pattern, BudgetScope::PerMatrix);
  projected = values;
  applyMask(projected, mask);
}

int pruneADMM(Matrix &weights, const HessianFactors &factors,
              const SparsityPattern &pattern, const ADMMOptions &options) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  const Matrix &eigenvectors = factors.scaledEigenvectors;
  const std::vector<double> &eigenvalues = factors.scaledEigenvalues;
  const std::vector<double> &scale = factors.columnScale;

  // Work with B = T * Dg, whose Hessian has a unit diagonal: the penalty is
  // then scale-free and the Euclidean projection ranks by |w_j| sqrt(H_jj).
  Matrix target = weights;
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      target(row, col) *= scale[col];
  // (T Hs) Q = (T Q) Lambda: the data term of every W-update.
  Matrix dataTerm = multiply(target, eigenvectors);
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      dataTerm(row, col) *= eigenvalues[col];

  Matrix primal = target, split, dual(numRows, numCols);
  std::vector<uint8_t> mask, previousMask;
  projectOntoPattern(target, pattern, split, previousMask);
  int64_t keptTotal = 0;
  for (uint8_t kept : previousMask)
    keptTotal += kept;

  // The penalty grows geometrically: slowly enough for the support to settle
  // on a good local optimum (on tiny problems 1.05 per iteration from 0.01
  // finds the exact optimum ~9 times in 10, faster schedules less often).
  // Stop once the support has stood still for a few iterations and the
  // primal iterate is close to its projection.
  const int stableIterationsNeeded = 5;
  const int64_t tolerableChanges = keptTotal / 100000;
  double rho = options.initialPenalty;
  int iteration = 0, stableIterations = 0;
  Matrix rhs(numRows, numCols), shifted(numRows, numCols);
  while (iteration < options.maxIterations) {
    ++iteration;
    // W-update: B = (T Hs - V + rho D) (Hs + rho I)^-1 through Hs = Q L Q^T.
    for (size_t i = 0; i < rhs.data.size(); ++i)
      rhs.data[i] = rho * split.data[i] - dual.data[i];
    Matrix rotated = multiply(rhs, eigenvectors);
    for (int64_t row = 0; row < numRows; ++row)
      for (int64_t col = 0; col < numCols; ++col)
        rotated(row, col) =
            (rotated(row, col) + dataTerm(row, col)) / (eigenvalues[col] + rho);
    primal = multiply(rotated, eigenvectors, false, true);
    // D-update: projection of B + V / rho; then dual ascent (unscaled dual).
    for (size_t i = 0; i < shifted.data.size(); ++i)
      shifted.data[i] = primal.data[i] + dual.data[i] / rho;
    projectOntoPattern(shifted, pattern, split, mask);
    double residual = 0.0, splitNorm = 0.0;
    for (size_t i = 0; i < dual.data.size(); ++i) {
      double difference = primal.data[i] - split.data[i];
      dual.data[i] += rho * difference;
      residual += difference * difference;
      splitNorm += split.data[i] * split.data[i];
    }
    int64_t changes = 0;
    for (size_t i = 0; i < mask.size(); ++i)
      changes += mask[i] != previousMask[i];
    std::swap(mask, previousMask);
    stableIterations = changes <= tolerableChanges ? stableIterations + 1 : 0;
    if (stableIterations >= stableIterationsNeeded &&
        residual <= 1e-6 * splitNorm)
      break;
    rho *= options.penaltyGrowth;
  }

  // The result lives on the projection of the primal iterate; refit the kept
  // weights there in the original coordinates.
  Matrix result;
  projectOntoPattern(primal, pattern, result, mask);
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      result(row, col) /= scale[col];
  Matrix originalTarget = weights;
  weights = std::move(result);
  refitOnSupport(originalTarget, factors.damped, mask, options.refitIterations,
                 1e-10, weights);
  return iteration;
}

} // namespace slr::compression
