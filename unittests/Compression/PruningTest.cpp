//===- PruningTest.cpp - Masks, OBS sweep, ADMM and refit -----------------===//

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace slr::compression;
using namespace slr::compression::test;

namespace {

HessianFactors factorsFor(const Matrix &hessian, double percdamp = 0.0) {
  HessianFactors factors;
  EXPECT_TRUE(
      prepareHessian(hessian, percdamp, DampingScale::Median, factors).ok);
  EXPECT_TRUE(computeInverseCholesky(factors).ok);
  EXPECT_TRUE(computeScaledEigen(factors).ok);
  return factors;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * (values.size() - 1))];
}

/// SparseGPT written the slow, obvious way: every pruned weight updates all
/// later columns at once (no blocks, no lazy GEMM).
void referenceSparseGPT(Matrix &weights, const Matrix &factor, int n, int m) {
  int64_t cols = weights.cols;
  for (int64_t row = 0; row < weights.rows; ++row) {
    std::vector<uint8_t> keep(m);
    for (int64_t col = 0; col < cols; ++col) {
      if (col % m == 0) {
        std::vector<std::pair<double, int>> scored;
        for (int j = 0; j < m; ++j) {
          double w = weights(row, col + j), d = factor(col + j, col + j);
          scored.push_back({-w * w / (d * d), j});
        }
        std::sort(scored.begin(), scored.end());
        std::fill(keep.begin(), keep.end(), 0);
        for (int t = 0; t < n; ++t)
          keep[scored[t].second] = 1;
      }
      double w = weights(row, col);
      double kept = keep[col % m] ? w : 0.0;
      double error = (w - kept) / factor(col, col);
      for (int64_t j = col; j < cols; ++j)
        weights(row, j) -= error * factor(col, j);
      weights(row, col) = kept;
    }
  }
}

bool allGroupsValid(const Matrix &sparse, int n, int m) {
  std::vector<float> values = sparse.toFloats();
  return satisfiesPattern(values.data(), sparse.rows, sparse.cols,
                          SparsityPattern::nm(n, m));
}

} // namespace

TEST(SelectMask, KeepsLargestPerGroupWithLowerIndexOnTies) {
  Matrix scores(1, 8);
  scores.data = {1, 5, 3, 5, 2, 2, 2, 2};
  std::vector<uint8_t> mask =
      selectMask(scores, SparsityPattern::nm(2, 4), BudgetScope::PerRow);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 1, 0, 1, 1, 1, 0, 0}));
  mask = selectMask(scores, SparsityPattern::nm(1, 4), BudgetScope::PerRow);
  EXPECT_EQ(mask, (std::vector<uint8_t>{0, 1, 0, 0, 1, 0, 0, 0}));
}

TEST(SelectMask, UnstructuredBudgets) {
  Matrix scores(2, 4);
  scores.data = {9, 8, 7, 6, 1, 2, 3, 4};
  SparsityPattern half = SparsityPattern::unstructured(0.5);
  EXPECT_EQ(selectMask(scores, half, BudgetScope::PerRow),
            (std::vector<uint8_t>{1, 1, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(selectMask(scores, half, BudgetScope::PerMatrix),
            (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(keptCount(10, 0.3), 7);
  EXPECT_EQ(keptCount(10, 0.25), 7); // 2.5 zeros round up to 3
  EXPECT_EQ(keptCount(7, 0.0), 7);
  EXPECT_EQ(keptCount(7, 1.0), 0);
}

TEST(Pruning, MagnitudeAndWanda) {
  Matrix weights(1, 4);
  weights.data = {1.0, -4.0, 3.0, 2.0};
  Matrix magnitude = weights;
  pruneMagnitude(magnitude, SparsityPattern::nm(2, 4));
  EXPECT_EQ(magnitude.data, (std::vector<double>{0.0, -4.0, 3.0, 0.0}));
  // Input norms sqrt(H_jj) = 10, 1, 1, 1 make the first weight the largest.
  Matrix hessian(4, 4);
  hessian(0, 0) = 100.0;
  hessian(1, 1) = hessian(2, 2) = hessian(3, 3) = 1.0;
  Matrix wanda = weights;
  pruneWanda(wanda, hessian, SparsityPattern::nm(2, 4));
  EXPECT_EQ(wanda.data, (std::vector<double>{1.0, -4.0, 0.0, 0.0}));
}

TEST(OBS, MatchesUnblockedReferenceForEveryBlockSize) {
  std::mt19937_64 rng(7);
  const int64_t rows = 5, cols = 32;
  Matrix hessian = correlatedHessian(cols, 80, 0.7, rng);
  HessianFactors factors = factorsFor(hessian, 0.01);
  Matrix target = randomMatrix(rows, cols, rng);
  for (auto [n, m] : {std::pair{2, 4}, std::pair{1, 4}, std::pair{4, 8}}) {
    Matrix reference = target;
    referenceSparseGPT(reference, factors.inverseCholUpper, n, m);
    EXPECT_TRUE(allGroupsValid(reference, n, m));
    for (int64_t blockSize : {8, 16, 24, 128}) {
      Matrix pruned = target;
      pruneOBS(pruned, factors.inverseCholUpper, SparsityPattern::nm(n, m),
               blockSize);
      for (size_t i = 0; i < pruned.data.size(); ++i)
        ASSERT_NEAR(pruned.data[i], reference.data[i], 1e-10)
            << n << ":" << m << " block " << blockSize << " entry " << i;
    }
  }
}

TEST(OBS, IsExactForDiagonalHessian) {
  // With a diagonal H the problem separates: keep the largest w^2 H_jj, no
  // compensation. OBS, Wanda and brute force must all agree.
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    Matrix hessian(8, 8);
    for (int j = 0; j < 8; ++j)
      hessian(j, j) = std::exp(std::normal_distribution<double>()(rng));
    HessianFactors factors = factorsFor(hessian);
    Matrix target = randomMatrix(1, 8, rng);
    BruteForceOptimum optimum =
        bruteForceRow(target.data.data(), factors.damped, 2, 4);
    Matrix pruned = target, wanda = target;
    pruneOBS(pruned, factors.inverseCholUpper, SparsityPattern::nm(2, 4), 128);
    pruneWanda(wanda, hessian, SparsityPattern::nm(2, 4));
    for (int j = 0; j < 8; ++j) {
      EXPECT_NEAR(pruned.data[j], optimum.row[j], 1e-12);
      EXPECT_NEAR(wanda.data[j], optimum.row[j], 1e-12);
    }
  }
}

/// Tiny correlated problems with a known optimum (every 2:4 mask of a row of
/// 8 or 12 entries, each refit exactly). The numbers asserted are what the
/// heuristics reach on these seeds, with some room.
TEST(OBS, IsCloseToBruteForceOptimum) {
  std::mt19937_64 rng(42);
  std::vector<double> obsRatios, refitRatios, magnitudeRatios;
  for (int64_t cols : {8, 12}) {
    for (int trial = 0; trial < 100; ++trial) {
      Matrix hessian = correlatedHessian(cols, 3 * cols, 0.5, rng);
      HessianFactors factors = factorsFor(hessian);
      Matrix target = randomMatrix(1, cols, rng);
      BruteForceOptimum optimum =
          bruteForceRow(target.data.data(), factors.damped, 2, 4);
      Matrix pruned = target;
      pruneOBS(pruned, factors.inverseCholUpper, SparsityPattern::nm(2, 4),
               128);
      ASSERT_TRUE(allGroupsValid(pruned, 2, 4));
      double obs =
          rowObjective(target.data.data(), pruned.data.data(), factors.damped);
      // Nothing beats the enumeration (this also checks the enumeration).
      ASSERT_GE(obs, optimum.objective * (1 - 1e-9));
      obsRatios.push_back(obs / optimum.objective);

      std::vector<uint8_t> mask(cols);
      for (int64_t j = 0; j < cols; ++j)
        mask[j] = pruned.data[j] != 0.0;
      Matrix refit = pruned;
      refitOnSupport(target, factors.damped, mask, 50, 1e-14, refit);
      double refitValue =
          rowObjective(target.data.data(), refit.data.data(), factors.damped);
      ASSERT_LE(refitValue, obs * (1 + 1e-12));
      refitRatios.push_back(refitValue / optimum.objective);

      Matrix magnitude = target;
      pruneMagnitude(magnitude, SparsityPattern::nm(2, 4));
      magnitudeRatios.push_back(rowObjective(target.data.data(),
                                             magnitude.data.data(),
                                             factors.damped) /
                                optimum.objective);
    }
  }
  // Measured on these seeds: OBS median 1.33, p90 1.86, worst 4.8; after
  // the refit on its support the median is the optimum itself; magnitude
  // pruning's median is 2.3.
  EXPECT_LT(median(obsRatios), 1.5);
  EXPECT_LT(quantile(obsRatios, 0.9), 2.5);
  EXPECT_LT(median(refitRatios), 1.0 + 1e-9);
  EXPECT_LT(median(obsRatios), median(magnitudeRatios));
}

TEST(ADMM, ReachesBruteForceOptimumOnTinyProblems) {
  std::mt19937_64 rng(42);
  std::vector<double> ratios;
  int optimal = 0;
  for (int64_t cols : {8, 12}) {
    for (int trial = 0; trial < 100; ++trial) {
      Matrix hessian = correlatedHessian(cols, 3 * cols, 0.5, rng);
      HessianFactors factors = factorsFor(hessian);
      Matrix target = randomMatrix(1, cols, rng);
      BruteForceOptimum optimum =
          bruteForceRow(target.data.data(), factors.damped, 2, 4);
      Matrix pruned = target;
      ADMMOptions options;
      options.refitIterations = 50;
      pruneADMM(pruned, factors, SparsityPattern::nm(2, 4), options);
      ASSERT_TRUE(allGroupsValid(pruned, 2, 4));
      double value =
          rowObjective(target.data.data(), pruned.data.data(), factors.damped);
      ASSERT_GE(value, optimum.objective * (1 - 1e-9));
      ratios.push_back(value / optimum.objective);
      optimal += value <= optimum.objective * (1 + 1e-9);
    }
  }
  // ADMM on this non-convex set is a heuristic too: measured 173 of 200
  // exactly optimal, p90 1.03, worst 1.39x.
  EXPECT_GE(optimal, 160);
  EXPECT_LT(quantile(ratios, 0.9), 1.05);
  EXPECT_LT(ratios.empty() ? 0.0
                           : *std::max_element(ratios.begin(), ratios.end()),
            2.0);
}

TEST(ADMM, HandlesSeveralRowsAndUnstructured) {
  std::mt19937_64 rng(3);
  const int64_t rows = 6, cols = 16;
  Matrix hessian = correlatedHessian(cols, 64, 0.6, rng);
  HessianFactors factors = factorsFor(hessian, 0.01);
  Matrix target = randomMatrix(rows, cols, rng);
  // The rows are independent problems: ADMM on all at once must not be
  // worse than OBS on the whole (it is much better here).
  Matrix admm = target, obs = target;
  ADMMOptions options;
  pruneADMM(admm, factors, SparsityPattern::nm(2, 4), options);
  pruneOBS(obs, factors.inverseCholUpper, SparsityPattern::nm(2, 4), 128);
  EXPECT_TRUE(allGroupsValid(admm, 2, 4));
  EXPECT_LE(objective(target, admm, Matrix(), factors.damped),
            objective(target, obs, Matrix(), factors.damped));

  Matrix unstructured = target;
  pruneADMM(unstructured, factors, SparsityPattern::unstructured(0.6), options);
  int64_t nonZeros = 0;
  for (double value : unstructured.data)
    nonZeros += value != 0.0;
  EXPECT_LE(nonZeros, keptCount(rows * cols, 0.6));
  EXPECT_GT(nonZeros, keptCount(rows * cols, 0.6) - 3);
}

TEST(OBS, UnstructuredBudgetPerBlock) {
  std::mt19937_64 rng(5);
  const int64_t rows = 4, cols = 20;
  Matrix hessian = correlatedHessian(cols, 60, 0.3, rng);
  HessianFactors factors = factorsFor(hessian, 0.01);
  Matrix pruned = randomMatrix(rows, cols, rng);
  pruneOBS(pruned, factors.inverseCholUpper, SparsityPattern::unstructured(0.7),
           8);
  // Blocks of 8, 8, 4 columns: each keeps keptCount(rows * width, 0.7).
  int64_t expected[] = {keptCount(32, 0.7), keptCount(32, 0.7),
                        keptCount(16, 0.7)};
  for (int block = 0; block < 3; ++block) {
    int64_t nonZeros = 0;
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t col = 8 * block;
           col < std::min<int64_t>(cols, 8 * block + 8); ++col)
        nonZeros += pruned(row, col) != 0.0;
    EXPECT_EQ(nonZeros, expected[block]) << "block " << block;
  }
}

TEST(Refit, MatchesDirectSolveOnFixedSupport) {
  std::mt19937_64 rng(9);
  const int64_t rows = 3, cols = 12;
  Matrix hessian = correlatedHessian(cols, 40, 0.8, rng);
  Matrix target = randomMatrix(rows, cols, rng);
  std::vector<uint8_t> mask(rows * cols);
  for (auto &kept : mask)
    kept = std::uniform_int_distribution<int>(0, 1)(rng);
  Matrix start = randomMatrix(rows, cols, rng); // arbitrary
  for (ProductPrecision precision :
       {ProductPrecision::Double, ProductPrecision::Single}) {
    bool exact = precision == ProductPrecision::Double;
    SCOPED_TRACE(exact ? "double" : "single");
    Matrix weights = start;
    int iterations = refitOnSupport(target, hessian, mask, exact ? 100 : 30,
                                    1e-13, weights, precision);
    if (exact) {
      EXPECT_LE(iterations, 13); // CG: at most |support| steps, plus rounding
    }
    for (int64_t row = 0; row < rows; ++row) {
      std::vector<uint8_t> rowMask(mask.begin() + row * cols,
                                   mask.begin() + (row + 1) * cols);
      std::vector<double> expected =
          refitRow(target.rowData(row), rowMask, hessian);
      for (int64_t col = 0; col < cols; ++col)
        EXPECT_NEAR(weights(row, col), expected[col],
                    (exact ? 1e-8 : 1e-4) * (1 + std::fabs(expected[col])));
    }
  }
}
