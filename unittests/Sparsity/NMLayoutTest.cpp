//===- NMLayoutTest.cpp - packed N:M layout -------------------------------===//

#include "slr/Sparsity/NMLayout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace slr;

TEST(NMLayout, BitsPerPosition) {
  EXPECT_EQ(bitsPerPosition(2), 1u);
  EXPECT_EQ(bitsPerPosition(4), 2u);
  EXPECT_EQ(bitsPerPosition(5), 3u);
  EXPECT_EQ(bitsPerPosition(8), 3u);
  EXPECT_EQ(bitsPerPosition(64), 6u);
}

TEST(NMLayout, Documented2To4Examples) {
  // Row: [0 1 0 2 | 3 0 0 0 | 5 6 7 0 | 0 0 0 -1]
  std::vector<float> dense = {0, 1, 0, 2, 3, 0, 0, 0, 5, 6, 7, 0, 0, 0, 0, -1};
  std::vector<float> values(8);
  std::vector<uint8_t> positions(4);
  packNM(dense.data(), 1, 16, 2, 4, values.data(), positions.data());
  EXPECT_EQ(values, (std::vector<float>{1, 2, 3, 0, 5, 6, 0, -1}));
  // (1,3) -> 1|3<<2; (0,1) -> 4; (0,1) -> 4; (0,3) -> 12.
  EXPECT_EQ(positions, (std::vector<uint8_t>{13, 4, 4, 12}));
}

TEST(NMLayout, RoundTripPreservesPatternMatrices) {
  std::mt19937 rng(7);
  for (unsigned m : {4u, 8u}) {
    for (unsigned n = 1; n < m; ++n) {
      const int64_t rows = 5, cols = 8 * m;
      std::vector<float> dense(rows * cols, 0.0f);
      // Random pattern-respecting matrix: each group keeps <= n entries.
      for (int64_t g = 0; g < rows * cols / m; ++g) {
        std::vector<unsigned> order(m);
        for (unsigned j = 0; j < m; ++j)
          order[j] = j;
        std::shuffle(order.begin(), order.end(), rng);
        unsigned count = rng() % (n + 1);
        for (unsigned t = 0; t < count; ++t)
          dense[g * m + order[t]] = 1.0f + static_cast<float>(rng() % 100);
      }
      std::vector<float> values(rows * cols / m * n);
      // 64-bit words hold any n:m up to m = 8 (n * 3 bits).
      std::vector<uint64_t> positions(rows * cols / m);
      packNM(dense.data(), rows, cols, n, m, values.data(), positions.data());
      std::vector<float> unpacked(rows * cols, -1.0f);
      unpackNM(values.data(), positions.data(), rows, cols, n, m,
               unpacked.data());
      EXPECT_EQ(unpacked, dense) << n << ":" << m;
      // Positions are strictly ascending within each group.
      for (uint64_t word : positions)
        for (unsigned t = 1; t < n; ++t)
          EXPECT_LT(decodePosition(word, t - 1, m), decodePosition(word, t, m));
    }
  }
}

TEST(NMLayout, PackDropsEntriesBeyondTheFirstN) {
  std::vector<float> dense = {4, 3, 2, 1};
  std::vector<float> values(2);
  std::vector<uint8_t> positions(1);
  packNM(dense.data(), 1, 4, 2, 4, values.data(), positions.data());
  EXPECT_EQ(values, (std::vector<float>{4, 3}));
  EXPECT_EQ(positions[0], 0 | (1 << 2));
}

TEST(NMLayout, NaNCountsAsNonZero) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> dense = {0, 0, nan, 0};
  std::vector<float> values(2);
  std::vector<uint8_t> positions(1);
  packNM(dense.data(), 1, 4, 2, 4, values.data(), positions.data());
  EXPECT_EQ(values[0], 0.0f);
  EXPECT_TRUE(std::isnan(values[1]));
  EXPECT_EQ(positions[0], 0 | (2 << 2));
}
