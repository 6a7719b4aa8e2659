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

// A group's positions are one 64-bit word: 12:32 (12 x 5 = 60 bits) and
// 10:64 (60 bits) are the largest patterns of their group sizes.
TEST(NMLayout, SupportedPatternsEndWhereTheWordIsFull) {
  EXPECT_EQ(maxKeptPerGroup(4), 3u);
  EXPECT_EQ(maxKeptPerGroup(16), 15u); // 15 x 4 = 60 bits
  EXPECT_EQ(maxKeptPerGroup(17), 12u);
  EXPECT_EQ(maxKeptPerGroup(32), 12u);
  EXPECT_EQ(maxKeptPerGroup(64), 10u);
  EXPECT_TRUE(isSupportedPattern(2, 4));
  EXPECT_TRUE(isSupportedPattern(12, 32));
  EXPECT_FALSE(isSupportedPattern(13, 32));
  EXPECT_FALSE(isSupportedPattern(31, 32));
  EXPECT_TRUE(isSupportedPattern(10, 64));
  EXPECT_FALSE(isSupportedPattern(11, 64));
  EXPECT_FALSE(isSupportedPattern(0, 4));
  EXPECT_FALSE(isSupportedPattern(4, 4));
  EXPECT_FALSE(isSupportedPattern(2, 65));
}

// The largest pattern that fits round-trips exactly, every position bit
// included (the last kept entry sits at bits 55..59).
TEST(NMLayout, LargestPatternOfM32RoundTripsExactly) {
  const unsigned n = 12, m = 32;
  const int64_t rows = 3, cols = 2 * m;
  std::mt19937 rng(11);
  std::vector<float> dense(rows * cols, 0.0f);
  for (int64_t g = 0; g < rows * cols / m; ++g) {
    std::vector<unsigned> order(m);
    for (unsigned j = 0; j < m; ++j)
      order[j] = j;
    std::shuffle(order.begin(), order.end(), rng);
    // Always the top position among them, so the highest bits are used.
    dense[g * m + m - 1] = 1.0f;
    for (unsigned t = 1; t < n; ++t)
      dense[g * m + order[t] % (m - 1)] = 2.0f + static_cast<float>(t);
  }
  std::vector<float> values(rows * cols / m * n);
  std::vector<uint64_t> positions(rows * cols / m);
  ASSERT_TRUE(
      packNM(dense.data(), rows, cols, n, m, values.data(), positions.data()));
  for (uint64_t word : positions) {
    EXPECT_TRUE(isCanonicalGroupWord(word, n, m));
    EXPECT_EQ(decodePosition(word, n - 1, m), m - 1);
    EXPECT_EQ(word >> 60, 0u);
  }
  std::vector<float> unpacked(rows * cols, -1.0f);
  ASSERT_TRUE(unpackNM(values.data(), positions.data(), rows, cols, n, m,
                       unpacked.data()));
  EXPECT_EQ(unpacked, dense);

  unsigned kept[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 31};
  std::optional<uint64_t> word = encodePositions(kept, n, m);
  ASSERT_TRUE(word);
  EXPECT_EQ(*word >> 55, 31u);
}

// One past it (13:32 needs 65 bits) is refused by every helper; nothing is
// written and no shift leaves the word.
TEST(NMLayout, OnePastTheLargestPatternIsRefused) {
  const unsigned n = 13, m = 32;
  unsigned kept[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 31};
  EXPECT_FALSE(encodePositions(kept, n, m));
  std::vector<float> dense(m, 1.0f), values(n, -1.0f);
  std::vector<uint64_t> positions(1, 7);
  EXPECT_FALSE(
      packNM(dense.data(), 1, m, n, m, values.data(), positions.data()));
  EXPECT_EQ(values, std::vector<float>(n, -1.0f));
  EXPECT_EQ(positions[0], 7u);
  std::vector<float> unpacked(m, -1.0f);
  EXPECT_FALSE(
      unpackNM(values.data(), positions.data(), 1, m, n, m, unpacked.data()));
  EXPECT_EQ(unpacked, std::vector<float>(m, -1.0f));
  // Slot 12 would start at bit 60 and end at bit 65.
  EXPECT_EQ(decodePosition(~uint64_t(0), 12, m), m);
  EXPECT_FALSE(isCanonicalGroupWord(0, n, m));
}

// slr.unpack's contract: n distinct ascending positions below m, zero high
// bits. Anything else is refused, not half-applied.
TEST(NMLayout, UnpackRefusesNonCanonicalWords) {
  EXPECT_TRUE(isCanonicalGroupWord(1 | (3 << 2), 2, 4));
  EXPECT_FALSE(isCanonicalGroupWord(1 | (1 << 2), 2, 4)); // duplicate
  EXPECT_FALSE(isCanonicalGroupWord(3 | (1 << 2), 2, 4)); // descending
  EXPECT_FALSE(isCanonicalGroupWord(1 | (3 << 2) | (1 << 4), 2, 4));
  EXPECT_FALSE(isCanonicalGroupWord(1 | (6 << 3), 2, 5)); // 6 >= m
  std::vector<float> values = {1, 2};
  std::vector<uint8_t> positions = {1 | (1 << 2)};
  std::vector<float> dense(4, -1.0f);
  EXPECT_FALSE(
      unpackNM(values.data(), positions.data(), 1, 4, 2, 4, dense.data()));
  EXPECT_EQ(dense, std::vector<float>(4, -1.0f));
  // A signed word with its top bit set is read zero-extended: 2:16 uses all
  // 8 bits (positions 3 and 15 -> 3 | 15 << 4 = 0xF3).
  std::vector<int8_t> signedPositions = {static_cast<int8_t>(0xF3)};
  std::vector<float> wide(16, -1.0f);
  ASSERT_TRUE(unpackNM(values.data(), signedPositions.data(), 1, 16, 2, 16,
                       wide.data()));
  EXPECT_EQ(wide[3], 1.0f);
  EXPECT_EQ(wide[15], 2.0f);
}
