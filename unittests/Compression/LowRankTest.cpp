//===- LowRankTest.cpp - Closed-form low-rank step and truncated SVDs -----===//

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <lapacke.h>

#include <limits>
#include <tuple>

using namespace slr::compression;
using namespace slr::compression::test;

namespace {

double frobenius(const Matrix &matrix) {
  double sum = 0.0;
  for (double value : matrix.data)
    sum += value * value;
  return std::sqrt(sum);
}

Matrix subtract(const Matrix &a, const Matrix &b) {
  Matrix result = a;
  for (size_t i = 0; i < result.data.size(); ++i)
    result.data[i] -= b.data[i];
  return result;
}

/// H^p for symmetric positive definite H via its eigen-decomposition.
Matrix symmetricPower(const Matrix &hessian, double power) {
  int64_t size = hessian.rows;
  Matrix vectors = hessian;
  std::vector<double> values(size);
  EXPECT_EQ(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', size,
                           vectors.data.data(), size, values.data()),
            0);
  Matrix scaled = vectors;
  for (int64_t i = 0; i < size; ++i)
    for (int64_t k = 0; k < size; ++k)
      scaled(i, k) *= std::pow(values[k], power);
  return multiply(scaled, vectors, false, /*transposeB=*/true);
}

/// Best rank-r approximation through a full SVD (LAPACK dgesvd), and the
/// singular values.
Matrix svdTruncate(const Matrix &matrix, int64_t rank,
                   std::vector<double> *singularValues = nullptr) {
  int64_t rows = matrix.rows, cols = matrix.cols, size = std::min(rows, cols);
  Matrix copy = matrix, u(rows, size), vt(size, cols);
  std::vector<double> values(size), work(size);
  EXPECT_EQ(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', rows, cols,
                           copy.data.data(), cols, values.data(), u.data.data(),
                           size, vt.data.data(), cols, work.data()),
            0);
  if (singularValues)
    *singularValues = values;
  Matrix result(rows, cols);
  for (int64_t k = 0; k < rank; ++k)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        result(i, j) += u(i, k) * values[k] * vt(k, j);
  return result;
}

/// The optimum by a route independent of the Cholesky factor:
/// L = [E H^1/2]_r H^-1/2.
Matrix referenceLowRank(const Matrix &residual, const Matrix &hessian,
                        int64_t rank) {
  Matrix scaled = multiply(residual, symmetricPower(hessian, 0.5));
  return multiply(svdTruncate(scaled, rank), symmetricPower(hessian, -0.5));
}

struct LowRankProblem {
  Matrix residual, hessian;
  HessianFactors factors;
};

LowRankProblem makeProblem(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  LowRankProblem problem;
  problem.hessian = correlatedHessian(cols, 3 * cols, 0.8, rng);
  problem.residual = randomMatrix(rows, cols, rng);
  EXPECT_TRUE(prepareHessian(problem.hessian, 0.0, DampingScale::Median,
                             problem.factors)
                  .ok);
  return problem;
}

} // namespace

class LowRankStepTest
    : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t>> {};

TEST_P(LowRankStepTest, MatchesEigenSquareRootFormula) {
  auto [rows, cols, rank] = GetParam();
  LowRankProblem problem = makeProblem(rows, cols, 100 + rows + cols + rank);
  for (SVDAlgorithm algorithm : {SVDAlgorithm::Eigen, SVDAlgorithm::FullSVD}) {
    LowRankOptions options;
    options.algorithm = algorithm;
    Matrix u, v;
    ASSERT_TRUE(lowRankStep(problem.residual, problem.factors.cholLower, rank,
                            options, u, v)
                    .ok);
    ASSERT_EQ(u.rows, rows);
    ASSERT_EQ(u.cols, rank);
    ASSERT_EQ(v.rows, rank);
    ASSERT_EQ(v.cols, cols);
    Matrix lowRank = multiply(u, v);
    Matrix expected =
        referenceLowRank(problem.residual, problem.factors.damped, rank);
    EXPECT_LT(frobenius(subtract(lowRank, expected)),
              1e-7 * frobenius(expected));
  }
}

TEST_P(LowRankStepTest, ReportsTheRemainingWeightedError) {
  auto [rows, cols, rank] = GetParam();
  LowRankProblem problem = makeProblem(rows, cols, 300 + rows + cols + rank);
  Matrix u, v;
  double remainder = -1.0;
  ASSERT_TRUE(lowRankStep(problem.residual, problem.factors.cholLower, rank,
                          LowRankOptions(), u, v, &remainder)
                  .ok);
  int64_t smaller = std::min(rows, cols);
  if (rank == 0 || rank >= smaller) {
    EXPECT_TRUE(std::isnan(remainder)); // shortcuts: nothing computed
    return;
  }
  Matrix lowRank = multiply(u, v);
  double expected = 2.0 * objective(problem.residual, Matrix(), lowRank,
                                    problem.factors.damped);
  EXPECT_NEAR(remainder, expected, 1e-9 * expected);
}

TEST_P(LowRankStepTest, IsStationaryAndBeatsPerturbations) {
  auto [rows, cols, rank] = GetParam();
  LowRankProblem problem = makeProblem(rows, cols, 200 + rows + cols + rank);
  const Matrix &hessian = problem.factors.damped;
  Matrix u, v;
  ASSERT_TRUE(lowRankStep(problem.residual, problem.factors.cholLower, rank,
                          LowRankOptions(), u, v)
                  .ok);
  Matrix error = subtract(problem.residual, multiply(u, v));
  // Gradients of f(U V) with respect to the factors:
  //   dU = -(E - L) H V^T, dV = -U^T (E - L) H.
  Matrix weightedError = multiply(error, hessian);
  double scale = frobenius(multiply(problem.residual, hessian)) *
                 (frobenius(u) + frobenius(v));
  EXPECT_LT(frobenius(multiply(weightedError, v, false, true)), 1e-9 * scale);
  EXPECT_LT(frobenius(multiply(u, weightedError, true, false)), 1e-9 * scale);

  double best = objective(problem.residual, Matrix(), multiply(u, v), hessian);
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 40; ++trial) {
    double step = trial < 20 ? 1e-3 : 1e-1;
    Matrix du = randomMatrix(u.rows, u.cols, rng,
                             step * frobenius(u) / std::sqrt(u.rows * rank));
    Matrix dv = randomMatrix(v.rows, v.cols, rng,
                             step * frobenius(v) / std::sqrt(v.cols * rank));
    Matrix perturbed = multiply(subtract(u, du), subtract(v, dv));
    EXPECT_GE(objective(problem.residual, Matrix(), perturbed, hessian),
              best * (1 - 1e-12));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LowRankStepTest,
    ::testing::Values(std::tuple<int64_t, int64_t, int64_t>{12, 20, 3},
                      std::tuple<int64_t, int64_t, int64_t>{30, 16, 5},
                      std::tuple<int64_t, int64_t, int64_t>{9, 9, 1}));

TEST(LowRankStep, FullRankReconstructsExactly) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{7, 12},
                            std::pair<int64_t, int64_t>{12, 7}}) {
    LowRankProblem problem = makeProblem(rows, cols, 5);
    for (int64_t rank : {std::min(rows, cols), std::int64_t(100)}) {
      Matrix u, v;
      ASSERT_TRUE(lowRankStep(problem.residual, problem.factors.cholLower, rank,
                              LowRankOptions(), u, v)
                      .ok);
      EXPECT_EQ(u.cols, std::min(rows, cols));
      Matrix lowRank = multiply(u, v);
      for (size_t i = 0; i < lowRank.data.size(); ++i)
        EXPECT_NEAR(lowRank.data[i], problem.residual.data[i], 1e-12);
    }
  }
}

TEST(LowRankStep, RankZeroIsEmpty) {
  LowRankProblem problem = makeProblem(4, 8, 6);
  Matrix u, v;
  ASSERT_TRUE(lowRankStep(problem.residual, problem.factors.cholLower, 0,
                          LowRankOptions(), u, v)
                  .ok);
  EXPECT_EQ(u.rows, 4);
  EXPECT_EQ(u.cols, 0);
  EXPECT_EQ(v.rows, 0);
  EXPECT_EQ(v.cols, 8);
}

TEST(BestRankApproximation, AttainsEckartYoungBound) {
  std::mt19937_64 rng(17);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{40, 25},
                            std::pair<int64_t, int64_t>{25, 40}}) {
    // A decaying spectrum, so that the randomized sketch has something to
    // find: M = A diag(0.8^k) B.
    Matrix left = randomMatrix(rows, 25, rng),
           right = randomMatrix(25, cols, rng);
    for (int64_t k = 0; k < 25; ++k)
      for (int64_t j = 0; j < cols; ++j)
        right(k, j) *= std::pow(0.8, k);
    Matrix matrix = multiply(left, right);
    std::vector<double> singularValues;
    svdTruncate(matrix, 0, &singularValues);
    const int64_t rank = 6;
    double tail = 0.0;
    for (size_t k = rank; k < singularValues.size(); ++k)
      tail += singularValues[k] * singularValues[k];

    for (SVDAlgorithm algorithm :
         {SVDAlgorithm::Eigen, SVDAlgorithm::FullSVD, SVDAlgorithm::Randomized,
          SVDAlgorithm::Auto}) {
      LowRankOptions options;
      options.algorithm = algorithm;
      Matrix a, b;
      ASSERT_TRUE(bestRankApproximation(matrix, rank, options, a, b).ok);
      ASSERT_EQ(a.cols, rank);
      double error = frobenius(subtract(matrix, multiply(a, b)));
      double tolerance = algorithm == SVDAlgorithm::Randomized ? 1e-3 : 1e-10;
      EXPECT_NEAR(error * error, tail, tolerance * tail)
          << "algorithm " << static_cast<int>(algorithm);
    }
  }
}

TEST(BestRankApproximation, RandomizedIsDeterministicPerSeed) {
  std::mt19937_64 rng(23);
  Matrix matrix = randomMatrix(30, 50, rng);
  LowRankOptions options;
  options.algorithm = SVDAlgorithm::Randomized;
  options.powerIterations = 1;
  Matrix a1, b1, a2, b2, a3, b3;
  options.seed = 1;
  ASSERT_TRUE(bestRankApproximation(matrix, 5, options, a1, b1).ok);
  ASSERT_TRUE(bestRankApproximation(matrix, 5, options, a2, b2).ok);
  options.seed = 2;
  ASSERT_TRUE(bestRankApproximation(matrix, 5, options, a3, b3).ok);
  EXPECT_EQ(a1.data, a2.data);
  EXPECT_EQ(b1.data, b2.data);
  // A flat spectrum and one power iteration: another seed lands elsewhere.
  EXPECT_NE(multiply(a1, b1).data, multiply(a3, b3).data);
}

TEST(TrackRankApproximation, FollowsTheTopSubspaceOfANearbyMatrix) {
  // M = A diag(0.7^k) B plus a small perturbation; starting from the best
  // rank-r approximation of the unperturbed matrix, each step keeps the
  // error within the subspace's best and repeated steps reach the
  // Eckart-Young bound of M.
  std::mt19937_64 rng(31);
  const int64_t rows = 30, cols = 45, rank = 5;
  Matrix left = randomMatrix(rows, 20, rng),
         right = randomMatrix(20, cols, rng);
  for (int64_t k = 0; k < 20; ++k)
    for (int64_t j = 0; j < cols; ++j)
      right(k, j) *= std::pow(0.7, k);
  Matrix nearby = multiply(left, right);
  Matrix matrix = nearby;
  Matrix noise = randomMatrix(rows, cols, rng, 0.02);
  for (size_t i = 0; i < matrix.data.size(); ++i)
    matrix.data[i] += noise.data[i];
  std::vector<double> singularValues;
  svdTruncate(matrix, 0, &singularValues);
  double tail = 0.0;
  for (size_t k = rank; k < singularValues.size(); ++k)
    tail += singularValues[k] * singularValues[k];

  LowRankOptions options;
  Matrix a, b;
  ASSERT_TRUE(bestRankApproximation(nearby, rank, options, a, b).ok);
  double previous = std::numeric_limits<double>::infinity();
  for (int steps : {1, 2, 4, 30}) {
    Matrix u, v = b;
    ASSERT_TRUE(trackRankApproximation(matrix, rank, steps, options, u, v).ok);
    ASSERT_EQ(u.rows, rows);
    ASSERT_EQ(u.cols, rank);
    ASSERT_EQ(v.rows, rank);
    // The columns of `left` are orthonormal.
    Matrix gram = multiply(u, u, /*transposeA=*/true);
    for (int64_t i = 0; i < rank; ++i)
      for (int64_t j = 0; j < rank; ++j)
        EXPECT_NEAR(gram(i, j), i == j ? 1.0 : 0.0, 1e-12);
    double error = frobenius(subtract(matrix, multiply(u, v)));
    EXPECT_GE(error * error, tail * (1 - 1e-12));
    EXPECT_LE(error * error, previous * (1 + 1e-12)) << steps << " steps";
    previous = error * error;
    if (steps == 30) {
      EXPECT_NEAR(error * error, tail, 1e-8 * tail);
    }
  }
  EXPECT_LT(previous, 1.01 * tail);
}

TEST(TrackRankApproximation, FallsBackToTheExactApproximation) {
  std::mt19937_64 rng(37);
  Matrix matrix = randomMatrix(12, 20, rng);
  LowRankOptions options;
  Matrix exactLeft, exactRight;
  ASSERT_TRUE(
      bestRankApproximation(matrix, 4, options, exactLeft, exactRight).ok);
  // No previous factor of the right shape, no steps, rank 0 or full rank.
  for (auto [rank, steps, previousRows] :
       {std::tuple<int64_t, int, int64_t>{4, 2, 3},
        {4, 0, 4},
        {0, 2, 0},
        {12, 2, 12}}) {
    Matrix u, v(previousRows, 20), expectedU, expectedV;
    ASSERT_TRUE(trackRankApproximation(matrix, rank, steps, options, u, v).ok);
    ASSERT_TRUE(
        bestRankApproximation(matrix, rank, options, expectedU, expectedV).ok);
    EXPECT_EQ(u.data, expectedU.data) << rank << " " << steps;
    EXPECT_EQ(v.data, expectedV.data);
  }
  // A zero start still gives an orthonormal basis and a finite answer.
  Matrix u, v(4, 20);
  ASSERT_TRUE(trackRankApproximation(matrix, 4, 1, options, u, v).ok);
  for (double value : v.data)
    EXPECT_TRUE(std::isfinite(value));
}

TEST(BalanceFactors, EqualisesNormsAndKeepsProduct) {
  std::mt19937_64 rng(29);
  Matrix u = randomMatrix(6, 3, rng, 100.0), v = randomMatrix(3, 9, rng, 0.01);
  Matrix product = multiply(u, v);
  balanceFactors(u, v);
  for (int64_t k = 0; k < 3; ++k) {
    double left = 0.0, right = 0.0;
    for (int64_t i = 0; i < 6; ++i)
      left += u(i, k) * u(i, k);
    for (int64_t j = 0; j < 9; ++j)
      right += v(k, j) * v(k, j);
    EXPECT_NEAR(left, right, 1e-9 * right);
  }
  Matrix balanced = multiply(u, v);
  for (size_t i = 0; i < product.data.size(); ++i)
    EXPECT_NEAR(balanced.data[i], product.data[i], 1e-12);
}
