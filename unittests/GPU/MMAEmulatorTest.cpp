//===- MMAEmulatorTest.cpp - Warp-level emulation of the GPU fragment maps ===//
//
// Simulates the 32 lanes of a warp on the CPU: shared-memory tiles laid out
// as the generated kernels lay them out, per-lane ldmatrix addresses from
// slr/Conversion/SLRToGPU/MMALayout.h, ldmatrix and mma / mma.sp semantics as
// the PTX ISA defines them (written down here independently of the header),
// and compares the resulting accumulators with a plain matmul. It also checks
// the compile-time metadata reordering against the PTX metadata layout.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Sparsity/NMLayout.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

using namespace slr;

namespace {

constexpr int kWarpLanes = 32;

//===----------------------------------------------------------------------===//
// The hardware model (PTX ISA 8.5, "Warp-level matrix fragments").
//===----------------------------------------------------------------------===//

struct RowCol {
  int row, col;
};

int groupOf(int lane) { return lane >> 2; }
int threadInGroup(int lane) { return lane % 4; }

/// mma.m16n8k16 .f16/.bf16 A fragment, element a_i (i = 0..7), also the
/// layout of the compressed 16x16 A of sparse m16n8k32.
RowCol hwA(int lane, int i) {
  int g = groupOf(lane), t = threadInGroup(lane);
  int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
  int col = i < 4 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8;
  return {row, col};
}

/// B fragment element b_i of m16n8k16 (i < 4) and m16n8k32 (i < 8):
/// (row k, column n).
RowCol hwB(int lane, int i) {
  int g = groupOf(lane), t = threadInGroup(lane);
  return {t * 2 + (i & 1) + 8 * (i / 2), g};
}

/// C/D fragment element c_i (f32, 16x8).
RowCol hwC(int lane, int i) {
  int g = groupOf(lane), t = threadInGroup(lane);
  return {i < 2 ? g : g + 8, t * 2 + (i & 1)};
}

/// Sparse m16n8k32 .f16/.bf16 metadata with sparsity selector 0: the 4-bit
/// group j (logical columns 4j .. 4j+3) of row r is held by lane
/// 4 * (r % 8) + j / 4, at bits 16 * (r / 8) + 4 * (j % 4).
int hwMetaLane(int row, int group) { return 4 * (row % 8) + group / 4; }
int hwMetaShift(int row, int group) { return 16 * (row / 8) + 4 * (group % 4); }

/// A warp's registers: per lane, 32-bit registers holding two 16-bit
/// elements each (modelled as floats, low element first).
using Reg = std::array<float, 2>;

/// ldmatrix .x{tiles} from a row-major shared tile: lane l supplies the
/// address of row l % 8 of matrix l / 8 (rows are 8 elements = 16 bytes);
/// lane (g, t) receives row g, elements 2t, 2t+1 of every matrix.
std::vector<std::vector<Reg>>
ldmatrix(int tiles, const std::vector<const float *> &laneAddress) {
  std::vector<std::vector<Reg>> regs(kWarpLanes, std::vector<Reg>(tiles));
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int q = 0; q < tiles; ++q) {
      const float *rowPtr = laneAddress[8 * q + groupOf(lane)];
      regs[lane][q] = {rowPtr[2 * threadInGroup(lane)],
                       rowPtr[2 * threadInGroup(lane) + 1]};
    }
  return regs;
}

/// Scatters the per-lane fragments into the full matrices of one MMA: A
/// (16 x 16, also the compressed A of the sparse op), B (BRows x 8, 16 or
/// 32 rows) and C (16 x 8).
template <int BRows>
void gatherFragments(const std::vector<std::vector<Reg>> &a,
                     const std::vector<std::vector<Reg>> &b,
                     const std::vector<std::array<float, 4>> &acc,
                     float (&A)[16][16], float (&B)[BRows][8],
                     float (&D)[16][8]) {
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    for (int i = 0; i < 8; ++i) {
      RowCol rc = hwA(lane, i);
      A[rc.row][rc.col] = a[lane][i / 2][i % 2];
    }
    for (int i = 0; i < BRows / 4; ++i) {
      RowCol rc = hwB(lane, i);
      B[rc.row][rc.col] = b[lane][i / 2][i % 2];
    }
    for (int i = 0; i < 4; ++i) {
      RowCol rc = hwC(lane, i);
      D[rc.row][rc.col] = acc[lane][i];
    }
  }
}

/// The inverse for the result: D back into the lanes' accumulators.
void scatterAccumulators(const float (&D)[16][8],
                         std::vector<std::array<float, 4>> &acc) {
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int i = 0; i < 4; ++i) {
      RowCol rc = hwC(lane, i);
      acc[lane][i] = D[rc.row][rc.col];
    }
}

/// D = A(16x16) * B(16x8) + C from per-lane fragments.
void hwMma(const std::vector<std::vector<Reg>> &a,
           const std::vector<std::vector<Reg>> &b,
           std::vector<std::array<float, 4>> &acc) {
  float A[16][16], B[16][8], D[16][8];
  gatherFragments(a, b, acc, A, B, D);
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n)
      for (int k = 0; k < 16; ++k)
        D[r][n] += A[r][k] * B[k][n];
  scatterAccumulators(D, acc);
}

/// D = A_sparse(16x32, compressed 16x16 + metadata) * B(32x8) + C, ordered
/// metadata, selector 0. Returns false if a group's metadata is not two
/// ascending indices.
bool hwMmaSparse(const std::vector<std::vector<Reg>> &a,
                 const std::vector<std::vector<Reg>> &b,
                 const std::vector<uint32_t> &meta,
                 std::vector<std::array<float, 4>> &acc) {
  float A[16][16], B[32][8], D[16][8];
  gatherFragments(a, b, acc, A, B, D);
  for (int r = 0; r < 16; ++r)
    for (int j = 0; j < 8; ++j) {
      uint32_t nibble = (meta[hwMetaLane(r, j)] >> hwMetaShift(r, j)) & 0xF;
      int first = nibble & 3, second = nibble >> 2;
      if (first >= second)
        return false;
      for (int n = 0; n < 8; ++n)
        D[r][n] += A[r][2 * j] * B[4 * j + first][n] +
                   A[r][2 * j + 1] * B[4 * j + second][n];
    }
  scatterAccumulators(D, acc);
  return true;
}

/// Checks every lane's accumulators of the (16-row, 8-column) y^T tile
/// (nTile, mTile) against expected(n, m), through the C fragment maps.
template <typename Expected>
void expectAccumulators(const std::vector<std::array<float, 4>> &acc,
                        int nTile, int mTile, Expected expected) {
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int i = 0; i < 4; ++i) {
      int n = nTile * 16 + static_cast<int>(mma::kAccRow.eval(lane)) +
              8 * (i >> 1);
      int m = mTile * 8 + static_cast<int>(mma::kAccCol.eval(lane)) + (i & 1);
      EXPECT_EQ(acc[lane][i], expected(n, m))
          << "n=" << n << " m=" << m << " lane=" << lane;
    }
}

//===----------------------------------------------------------------------===//
// Test data.
//===----------------------------------------------------------------------===//

/// Small integers: every product and sum below is exact in float (and in
/// bf16/f16 inputs), so the comparisons are exact.
float randomValue(std::mt19937 &rng) {
  return static_cast<float>(static_cast<int>(rng() % 7) - 3);
}

/// A rows x cols matrix with at most 2 non-zeros per aligned group of 4 and
/// a random choice of kept positions (some groups with fewer non-zeros).
std::vector<float> randomSparse(std::mt19937 &rng, int rows, int cols) {
  std::vector<float> m(rows * cols, 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int g = 0; g < cols / 4; ++g) {
      int p0 = rng() % 4, p1 = rng() % 4;
      m[r * cols + 4 * g + p0] = randomValue(rng);
      m[r * cols + 4 * g + p1] = randomValue(rng);
    }
  return m;
}

std::vector<float> randomDense(std::mt19937 &rng, int rows, int cols) {
  std::vector<float> m(rows * cols);
  for (float &v : m)
    v = randomValue(rng);
  return m;
}

/// A shared-memory tile as the kernels lay it out: rows x (cols + 8) with the
/// tile at (row0, col0) of `src` (leading dimension ld).
struct SharedTile {
  int rows, cols, ld;
  std::vector<float> data;
  SharedTile(const std::vector<float> &src, int srcLd, int row0, int col0,
             int rows, int cols)
      : rows(rows), cols(cols), ld(cols + 8), data(rows * (cols + 8), -99.f) {
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        data[r * ld + c] = src[(row0 + r) * srcLd + col0 + c];
  }
  const float *at(int64_t row, int64_t col) const {
    EXPECT_GE(row, 0);
    EXPECT_LT(row, rows);
    EXPECT_GE(col, 0);
    EXPECT_LE(col + 8, cols); // an ldmatrix row read stays in the tile
    return &data[row * ld + col];
  }
};

//===----------------------------------------------------------------------===//
// Tests.
//===----------------------------------------------------------------------===//

TEST(MMALayout, AccumulatorMapMatchesPtx) {
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int i = 0; i < 4; ++i) {
      RowCol rc = hwC(lane, i);
      EXPECT_EQ(mma::kAccRow.eval(lane) + 8 * (i >> 1), rc.row);
      EXPECT_EQ(mma::kAccCol.eval(lane) + (i & 1), rc.col);
    }
}

TEST(MMALayout, MetadataWordsCoverEveryGroupOnce) {
  // Every (row, group) of a 16x32 tile is described by exactly one
  // (word, half, nibble), and the word's owner lane reads that word.
  int seen[16][8] = {};
  for (unsigned w = 0; w < mma::kMetaWordsPerTile; ++w)
    for (unsigned h = 0; h < 2; ++h)
      for (unsigned j = 0; j < 4; ++j) {
        int row = mma::metadataWordRow(w, h);
        int group = mma::metadataWordFirstGroup(w) + j;
        ++seen[row][group];
        int lane = hwMetaLane(row, group);
        EXPECT_EQ(mma::kMetadataWord.eval(lane), static_cast<int64_t>(w));
        EXPECT_EQ(hwMetaShift(row, group), static_cast<int>(16 * h + 4 * j));
      }
  for (auto &row : seen)
    for (int count : row)
      EXPECT_EQ(count, 1);
}

TEST(MMALayout, ReorderRejectsUnorderedGroups) {
  std::vector<uint8_t> positions(16 * 8, 0b1000); // positions 0, 2
  std::vector<uint32_t> words(mma::metadataWordCount(16, 32));
  EXPECT_TRUE(mma::reorderMetadata(positions.data(), 16, 32, words.data()));
  positions[3 * 8 + 5] = 0b0001; // first = 1, second = 0
  int64_t badRow = -1, badGroup = -1;
  EXPECT_FALSE(mma::reorderMetadata(positions.data(), 16, 32, words.data(),
                                    &badRow, &badGroup));
  EXPECT_EQ(badRow, 3);
  EXPECT_EQ(badGroup, 5);
  positions[3 * 8 + 5] = 0b0101; // duplicate position 1
  EXPECT_FALSE(mma::reorderMetadata(positions.data(), 16, 32, words.data()));
}

/// One warp computes y^T[16 x 8] = S[16 x 32] * x[8 x 32]^T through
/// ldmatrix + mma.sp with the kernel's address maps and the reordered
/// metadata; compared with a dense matmul of the unpacked S.
TEST(MMAEmulator, SparseTileMatchesMatmul) {
  std::mt19937 rng(7);
  const int N = 64, K = 128, M = 24; // several tiles in every dimension
  std::vector<float> dense = randomSparse(rng, N, K);
  std::vector<float> values(N * K / 2);
  std::vector<uint8_t> positions(N * K / 4);
  packNM(dense.data(), N, K, 2, 4, values.data(), positions.data());
  std::vector<float> x = randomDense(rng, M, K);
  std::vector<uint32_t> words(mma::metadataWordCount(N, K));
  ASSERT_TRUE(mma::reorderMetadata(positions.data(), N, K, words.data()));

  for (int nTile = 0; nTile < N / 16; ++nTile)
    for (int mTile = 0; mTile < M / 8; ++mTile) {
      std::vector<std::array<float, 4>> acc(kWarpLanes, {0, 0, 0, 0});
      for (int kTile = 0; kTile < K / 32; ++kTile) {
        // Shared tiles as the main kernel stages them: 16 rows of S's packed
        // values (16 = 32 / 2 columns), 8 rows of x (32 columns).
        SharedTile sS(values, K / 2, nTile * 16, kTile * 16, 16, 16);
        SharedTile sX(x, K, mTile * 8, kTile * 32, 8, 32);
        std::vector<const float *> aAddr, bAddr;
        for (int lane = 0; lane < kWarpLanes; ++lane) {
          aAddr.push_back(sS.at(mma::kLdmatrixARow.eval(lane),
                                mma::kLdmatrixACol.eval(lane)));
          bAddr.push_back(sX.at(mma::kLdmatrixBRow.eval(lane),
                                mma::kLdmatrixBColX4.eval(lane)));
        }
        auto a = ldmatrix(4, aAddr);
        auto b = ldmatrix(4, bAddr);
        std::vector<uint32_t> meta(kWarpLanes);
        for (int lane = 0; lane < kWarpLanes; ++lane)
          meta[lane] = words[mma::metadataWordIndex(
              nTile, kTile, K / 32,
              static_cast<unsigned>(mma::kMetadataWord.eval(lane)))];
        ASSERT_TRUE(hwMmaSparse(a, b, meta, acc));
      }
      expectAccumulators(acc, nTile, mTile, [&](int n, int m) {
        float expected = 0;
        for (int k = 0; k < K; ++k)
          expected += dense[n * K + k] * x[m * K + k];
        return expected;
      });
    }
}

/// Dense m16n8k16 with the low-rank maps: y^T += U[16 x r] * t[8 x r]^T
/// (A through ldmatrix.x4, B through ldmatrix.x2).
TEST(MMAEmulator, DenseTileMatchesMatmul) {
  std::mt19937 rng(11);
  const int N = 32, R = 48, M = 16;
  std::vector<float> u = randomDense(rng, N, R);
  std::vector<float> t = randomDense(rng, M, R);
  for (int nTile = 0; nTile < N / 16; ++nTile)
    for (int mTile = 0; mTile < M / 8; ++mTile) {
      std::vector<std::array<float, 4>> acc(kWarpLanes, {1, 1, 1, 1});
      for (int kTile = 0; kTile < R / 16; ++kTile) {
        SharedTile sU(u, R, nTile * 16, kTile * 16, 16, 16);
        SharedTile sT(t, R, mTile * 8, kTile * 16, 8, 16);
        std::vector<const float *> aAddr, bAddr;
        for (int lane = 0; lane < kWarpLanes; ++lane) {
          aAddr.push_back(sU.at(mma::kLdmatrixARow.eval(lane),
                                mma::kLdmatrixACol.eval(lane)));
          bAddr.push_back(sT.at(mma::kLdmatrixBRow.eval(lane),
                                mma::kLdmatrixBColX2.eval(lane)));
        }
        hwMma(ldmatrix(4, aAddr), ldmatrix(2, bAddr), acc);
      }
      expectAccumulators(acc, nTile, mTile, [&](int n, int m) {
        float expected = 1;
        for (int k = 0; k < R; ++k)
          expected += u[n * R + k] * t[m * R + k];
        return expected;
      });
    }
}

/// The B fragments of one m16n8k32 step are the B fragments of two m16n8k16
/// steps (registers 0-1 and 2-3 of the x4 load are the x2 loads at k and
/// k + 16): the sparse and dense paths read x the same way.
TEST(MMAEmulator, BFragmentsOfK32AreTwoK16Steps) {
  std::mt19937 rng(3);
  std::vector<float> x = randomDense(rng, 8, 32);
  SharedTile sX(x, 32, 0, 0, 8, 32);
  std::vector<const float *> x4, x2lo, x2hi;
  for (int lane = 0; lane < kWarpLanes; ++lane) {
    x4.push_back(sX.at(mma::kLdmatrixBRow.eval(lane),
                       mma::kLdmatrixBColX4.eval(lane)));
    x2lo.push_back(sX.at(mma::kLdmatrixBRow.eval(lane),
                         mma::kLdmatrixBColX2.eval(lane)));
    x2hi.push_back(sX.at(mma::kLdmatrixBRow.eval(lane),
                         16 + mma::kLdmatrixBColX2.eval(lane)));
  }
  auto full = ldmatrix(4, x4), lo = ldmatrix(2, x2lo), hi = ldmatrix(2, x2hi);
  for (int lane = 0; lane < kWarpLanes; ++lane)
    for (int q = 0; q < 2; ++q) {
      EXPECT_EQ(full[lane][q], lo[lane][q]);
      EXPECT_EQ(full[lane][q + 2], hi[lane][q]);
      // And each register holds the documented B elements.
      for (int e = 0; e < 2; ++e) {
        RowCol rc = hwB(lane, 2 * q + e);
        EXPECT_EQ(full[lane][q][e], x[rc.col * 32 + rc.row]);
      }
    }
}

/// The reordered words decode (through the hardware metadata model) to the
/// positions slr.pack produced, for every tile of a larger matrix.
TEST(MMALayout, ReorderedMetadataDecodesToPackedPositions) {
  std::mt19937 rng(5);
  const int N = 48, K = 96;
  std::vector<float> dense = randomSparse(rng, N, K);
  std::vector<float> values(N * K / 2);
  std::vector<uint8_t> positions(N * K / 4);
  packNM(dense.data(), N, K, 2, 4, values.data(), positions.data());
  std::vector<uint32_t> words(mma::metadataWordCount(N, K));
  ASSERT_TRUE(mma::reorderMetadata(positions.data(), N, K, words.data()));
  for (int n = 0; n < N; ++n)
    for (int group = 0; group < K / 4; ++group) {
      int nTile = n / 16, kTile = group / 8, row = n % 16, j = group % 8;
      int lane = hwMetaLane(row, j);
      uint32_t word = words[mma::metadataWordIndex(
          nTile, kTile, K / 32,
          static_cast<unsigned>(mma::kMetadataWord.eval(lane)))];
      EXPECT_EQ((word >> hwMetaShift(row, j)) & 0xF,
                positions[n * (K / 4) + group])
          << "row " << n << " group " << group;
    }
}

} // namespace
