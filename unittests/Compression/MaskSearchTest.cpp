//===- MaskSearchTest.cpp - projectedMetric() and searchMasks() -----------===//

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace slr::compression;
using namespace slr::compression::test;

namespace {

/// min over u of 1/2 (t - u V) H (t - u V)^T, solving the normal equations
/// u (V H V^T) = t H V^T directly.
double minimumOverLeftFactor(const std::vector<double> &row,
                             const Matrix &rowSpace, const Matrix &hessian) {
  Matrix t(1, hessian.rows);
  t.data = row;
  Matrix hv = multiply(hessian, rowSpace, false, true); // H V^T
  Matrix gram = multiply(rowSpace, hv);                 // V H V^T
  Matrix rhs = multiply(t, hv);                         // t H V^T
  std::vector<double> u = solveSmall(gram.data, rhs.data);
  Matrix left(1, rowSpace.rows);
  left.data = u;
  Matrix fitted = multiply(left, rowSpace);
  return rowObjective(t.data.data(), fitted.data.data(), hessian);
}

std::vector<uint8_t> maskOf(const std::vector<double> &row) {
  std::vector<uint8_t> mask(row.size());
  for (size_t j = 0; j < row.size(); ++j)
    mask[j] = row[j] != 0.0;
  return mask;
}

/// A positive definite metric like the search gets: the projection of a
/// damped correlated H off a random row space, plus the damping again.
Matrix searchMetric(int64_t size, int64_t rank, std::mt19937_64 &rng) {
  Matrix hessian = correlatedHessian(size, 3 * size, 0.6, rng);
  double damping = 0.01 * hessian(0, 0);
  for (int64_t j = 0; j < size; ++j)
    hessian(j, j) += damping;
  Matrix metric;
  EXPECT_TRUE(
      projectedMetric(hessian, randomMatrix(rank, size, rng), metric).ok);
  for (int64_t j = 0; j < size; ++j)
    metric(j, j) += damping;
  return metric;
}

} // namespace

TEST(ProjectedMetric, EqualsTheMinimumOverTheLeftFactor) {
  std::mt19937_64 rng(5);
  const int64_t size = 12, rank = 3;
  Matrix hessian = correlatedHessian(size, 40, 0.7, rng);
  Matrix rowSpace = randomMatrix(rank, size, rng);
  Matrix metric;
  ASSERT_TRUE(projectedMetric(hessian, rowSpace, metric).ok);
  for (int trial = 0; trial < 5; ++trial) {
    Matrix row = randomMatrix(1, size, rng);
    std::vector<double> zero(size, 0.0);
    double expected = minimumOverLeftFactor(row.data, rowSpace, hessian);
    EXPECT_NEAR(rowObjective(row.data.data(), zero.data(), metric), expected,
                1e-9 * (1 + expected));
  }
  // P V^T = 0: the row space costs nothing.
  Matrix annihilated = multiply(metric, rowSpace, false, true);
  double largest = 0.0;
  for (double value : annihilated.data)
    largest = std::max(largest, std::fabs(value));
  EXPECT_LT(largest, 1e-8 * hessian(0, 0));
  // Dependent rows span the same space: the same P.
  Matrix repeated(rank + 1, size);
  std::copy(rowSpace.data.begin(), rowSpace.data.end(), repeated.data.begin());
  for (int64_t j = 0; j < size; ++j)
    repeated(rank, j) = 2.0 * rowSpace(0, j) - rowSpace(1, j);
  Matrix same;
  ASSERT_TRUE(projectedMetric(hessian, repeated, same).ok);
  for (size_t i = 0; i < metric.data.size(); ++i)
    EXPECT_NEAR(same.data[i], metric.data[i], 1e-8 * hessian(0, 0));
  // No row space: P = H.
  Matrix unchanged;
  ASSERT_TRUE(projectedMetric(hessian, Matrix(0, size), unchanged).ok);
  EXPECT_EQ(unchanged.data, hessian.data);
  Matrix wrong;
  EXPECT_FALSE(projectedMetric(hessian, Matrix(2, size - 1), wrong).ok);
}

/// Rows of 12 entries at 2:4 (216 masks) and 1:4 (64): the search result is
/// a valid mask, its values are the exact optimum on it, its cost is never
/// above the start's, no single group's other choices are cheaper (a local
/// optimum), and it is usually the global optimum.
TEST(SearchMasks, ReachesALocalOptimumThatIsUsuallyGlobal) {
  std::mt19937_64 rng(17);
  for (SparsityPattern pattern :
       {SparsityPattern::nm(2, 4), SparsityPattern::nm(1, 4)}) {
    SCOPED_TRACE(toString(pattern));
    const int64_t size = 12, rows = 40;
    int global = 0;
    std::vector<double> ratios;
    for (int trial = 0; trial < 5; ++trial) {
      Matrix metric = searchMetric(size, 2, rng);
      Matrix target = randomMatrix(rows, size, rng);
      Matrix start = target;
      pruneMagnitude(start, pattern);
      std::vector<uint8_t> mask = maskOf(start.data);
      std::vector<uint8_t> startMask = mask;
      Matrix sparse;
      MaskSearchStats stats;
      ASSERT_TRUE(
          searchMasks(target, metric, pattern, 10, mask, sparse, &stats).ok);
      std::vector<float> values = sparse.toFloats();
      ASSERT_TRUE(satisfiesPattern(values.data(), rows, size, pattern));
      double total = 0.0;
      for (int64_t row = 0; row < rows; ++row) {
        const double *t = target.rowData(row);
        std::vector<uint8_t> rowMask(mask.begin() + row * size,
                                     mask.begin() + (row + 1) * size);
        std::vector<uint8_t> rowStart(startMask.begin() + row * size,
                                      startMask.begin() + (row + 1) * size);
        std::vector<double> exact = refitRow(t, rowMask, metric);
        for (int64_t col = 0; col < size; ++col)
          ASSERT_NEAR(sparse(row, col), exact[col],
                      1e-8 * (1 + std::fabs(exact[col])));
        double cost = rowObjective(t, sparse.rowData(row), metric);
        total += cost;
        std::vector<double> startRow = refitRow(t, rowStart, metric);
        EXPECT_LE(cost, rowObjective(t, startRow.data(), metric) * (1 + 1e-12));
        // Every other choice of one group, the rest fixed, costs as much.
        for (int64_t first = 0; first < size; first += pattern.m)
          for (unsigned bits = 0; bits < 16; ++bits) {
            if (__builtin_popcount(bits) != pattern.n)
              continue;
            std::vector<uint8_t> other = rowMask;
            for (int a = 0; a < 4; ++a)
              other[first + a] = (bits >> a) & 1u;
            std::vector<double> otherRow = refitRow(t, other, metric);
            EXPECT_GE(rowObjective(t, otherRow.data(), metric),
                      cost * (1 - 1e-9));
          }
        BruteForceOptimum optimum =
            bruteForceRow(t, metric, pattern.n, pattern.m);
        ASSERT_GE(cost, optimum.objective * (1 - 1e-9));
        ratios.push_back(cost / optimum.objective);
        global += cost <= optimum.objective * (1 + 1e-9);
      }
      EXPECT_NEAR(stats.cost, total, 1e-9 * total);
    }
    // A local search: measured on these seeds, 165 (2:4) and 171 (1:4) of
    // the 200 rows end at the global optimum; the worst ends 4.1x above it.
    EXPECT_GE(global, 150);
    std::sort(ratios.begin(), ratios.end());
    EXPECT_LT(ratios[ratios.size() / 2], 1.0 + 1e-9);
  }
}

TEST(SearchMasks, FollowsTheStartAndStopsAfterMaxPasses) {
  std::mt19937_64 rng(23);
  const int64_t size = 16, rows = 12;
  const SparsityPattern pattern = SparsityPattern::nm(2, 4);
  Matrix metric = searchMetric(size, 3, rng);
  Matrix target = randomMatrix(rows, size, rng);
  Matrix start = target;
  pruneMagnitude(start, pattern);
  // Zero passes: the start's mask, with its optimal values.
  std::vector<uint8_t> mask = maskOf(start.data), startMask = mask;
  Matrix sparse;
  MaskSearchStats stats;
  ASSERT_TRUE(searchMasks(target, metric, pattern, 0, mask, sparse, &stats).ok);
  EXPECT_EQ(mask, startMask);
  EXPECT_EQ(stats.changedGroups, 0);
  // One pass changes groups and lowers the cost; more passes lower it
  // further or keep it; identical inputs give identical outputs.
  double previous = stats.cost;
  int64_t changed = 0;
  std::vector<uint8_t> lastMask;
  const int passesPerRun[] = {1, 20, 20};
  for (int run = 0; run < 3; ++run) {
    mask = startMask;
    ASSERT_TRUE(searchMasks(target, metric, pattern, passesPerRun[run], mask,
                            sparse, &stats)
                    .ok);
    if (run == 0) {
      EXPECT_GT(stats.changedGroups, 0);
    }
    EXPECT_LE(stats.cost, previous * (1 + 1e-12));
    if (run == 2) {
      EXPECT_EQ(mask, lastMask);
      EXPECT_EQ(stats.changedGroups, changed);
    }
    previous = stats.cost;
    changed = stats.changedGroups;
    lastMask = mask;
  }
  EXPECT_LT(
      previous, 0.99 * [&] {
        MaskSearchStats none;
        std::vector<uint8_t> untouched = startMask;
        Matrix unused;
        EXPECT_TRUE(
            searchMasks(target, metric, pattern, 0, untouched, unused, &none)
                .ok);
        return none.cost;
      }());
}

TEST(SearchMasks, RejectsBadInput) {
  std::mt19937_64 rng(29);
  Matrix metric = searchMetric(8, 1, rng);
  Matrix target = randomMatrix(2, 8, rng);
  Matrix start = target;
  pruneMagnitude(start, SparsityPattern::nm(2, 4));
  std::vector<uint8_t> mask = maskOf(start.data);
  Matrix sparse;
  // Unstructured, groups that do not divide the row, groups over 16.
  for (SparsityPattern pattern :
       {SparsityPattern::unstructured(0.5), SparsityPattern::nm(2, 3),
        SparsityPattern::nm(2, 32)}) {
    std::vector<uint8_t> copy = mask;
    Status status = searchMasks(target, metric, pattern, 3, copy, sparse);
    EXPECT_FALSE(status.ok);
    EXPECT_NE(status.message.find("n:m pattern"), std::string::npos);
  }
  std::vector<uint8_t> shortMask(mask.begin(), mask.end() - 1);
  EXPECT_FALSE(searchMasks(target, metric, SparsityPattern::nm(2, 4), 3,
                           shortMask, sparse)
                   .ok);
  // A metric that is singular on the kept entries (P = 0) is an error, not
  // a division by zero.
  Matrix zero(8, 8);
  std::vector<uint8_t> copy = mask;
  Status status =
      searchMasks(target, zero, SparsityPattern::nm(2, 4), 3, copy, sparse);
  EXPECT_FALSE(status.ok);
  EXPECT_NE(status.message.find("not positive definite"), std::string::npos);
}
