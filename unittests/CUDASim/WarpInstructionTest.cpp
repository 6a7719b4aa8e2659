//===- WarpInstructionTest.cpp - Warp-collective PTX semantics ------------===//
//
// ldmatrix, mma.sync, mma.sp::ordered_metadata, shfl.sync, vote, redux and
// atomics, checked against an independent model written here from the PTX
// ISA's tables ("Matrix fragments for mma.m16n8k16", "... for sparse
// mma.m16n8k32 with .f16/.bf16", the ldmatrix description, the shfl.sync
// pseudo-code as described in prose), not from the kernel generator's
// slr/Conversion/SLRToGPU/MMALayout.h.
//
//===----------------------------------------------------------------------===//

#include "SimTestUtil.h"

#include <cmath>
#include <random>

using namespace slr::sim;
using namespace slr::sim::test;

namespace {

int groupID(int lane) { return lane / 4; }
int threadIDInGroup(int lane) { return lane % 4; }

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

/// Runs ldmatrix.x{count}{.trans} with lane l supplying the address of
/// stored row slot[l] (16 bytes each) of a 32-row tile holding value
/// 8 * row + col in element (row, col). Returns the 4 registers per lane.
std::vector<uint32_t> runLdmatrix(int count, bool trans,
                                  const std::vector<uint32_t> &slot,
                                  Status *status = nullptr) {
  std::vector<uint16_t> tile(256);
  for (int i = 0; i < 256; ++i)
    tile[i] = static_cast<uint16_t>(i);
  std::vector<uint32_t> offsets(32);
  for (int l = 0; l < 32; ++l)
    offsets[l] = slot[l] * 16;
  DeviceVector<uint16_t> in(tile);
  DeviceVector<uint32_t> addr(offsets), out(32 * 4, 0xDEADBEEF);
  std::string regs = count == 1   ? "{%r7}"
                     : count == 2 ? "{%r7, %r8}"
                                  : "{%r7, %r8, %r9, %r10}";
  std::string ptx = R"(
.visible .entry ldm(.param .u64 pin, .param .u64 paddr, .param .u64 pout)
{
  .shared .align 16 .b8 tile[512];
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [pin];
  ld.param.u64 %rd2, [paddr];
  ld.param.u64 %rd3, [pout];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd4, %r1, 16;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd5];
  mov.u64 %rd6, tile;
  add.s64 %rd7, %rd6, %rd4;
  st.shared.v4.b32 [%rd7], {%r2, %r3, %r4, %r5};
  bar.sync 0;
  mul.wide.u32 %rd8, %r1, 4;
  add.s64 %rd9, %rd2, %rd8;
  ld.global.u32 %r6, [%rd9];
  cvt.u64.u32 %rd10, %r6;
  add.s64 %rd11, %rd6, %rd10;
  mov.u32 %r7, 0;
  mov.u32 %r8, 0;
  mov.u32 %r9, 0;
  mov.u32 %r10, 0;
  ldmatrix.sync.aligned.m8n8.x)" +
                    std::to_string(count) + (trans ? ".trans" : "") +
                    R"(.shared.b16 )" + regs + R"(, [%rd11];
  add.s64 %rd12, %rd3, %rd4;
  st.global.v4.b32 [%rd12], {%r7, %r8, %r9, %r10};
  ret;
}
)";
  Status s =
      runKernel(ptx, "ldm", {in.address(), addr.address(), out.address()}, 32);
  if (status)
    *status = s;
  else
    EXPECT_EQ(s.code, 0) << s.error;
  return out.read();
}

void checkLdmatrix(int count, bool trans, const std::vector<uint32_t> &slot) {
  std::vector<uint32_t> got = runLdmatrix(count, trans, slot);
  // ISA: "each thread receives, of every matrix, two elements of row
  // groupID, columns 2 * threadID_in_group and + 1" (.trans: the matrix is
  // read column-major, i.e. elements (2t, g) and (2t + 1, g)); the rows of
  // matrix q come from the addresses of threads 8q .. 8q + 7.
  auto stored = [&](int q, int row, int col) {
    return static_cast<uint32_t>(8 * slot[8 * q + row] + col);
  };
  for (int lane = 0; lane < 32; ++lane) {
    int g = groupID(lane), t = threadIDInGroup(lane);
    for (int q = 0; q < count; ++q) {
      uint32_t lo = trans ? stored(q, 2 * t, g) : stored(q, g, 2 * t);
      uint32_t hi = trans ? stored(q, 2 * t + 1, g) : stored(q, g, 2 * t + 1);
      EXPECT_EQ(got[lane * 4 + q], lo | hi << 16)
          << "x" << count << (trans ? ".trans" : "") << " lane " << lane
          << " register " << q;
    }
  }
}

TEST(LdmatrixTest, FourMatricesInRowOrder) {
  std::vector<uint32_t> slot(32);
  for (int l = 0; l < 32; ++l)
    slot[l] = static_cast<uint32_t>(l);
  checkLdmatrix(4, false, slot);
  checkLdmatrix(4, true, slot);
}

TEST(LdmatrixTest, RowAddressesComeFromTheirLanes) {
  // A permutation: the result follows whatever rows the lanes point at.
  std::vector<uint32_t> slot(32);
  for (int l = 0; l < 32; ++l)
    slot[l] = static_cast<uint32_t>((l * 7 + 3) % 32);
  checkLdmatrix(4, false, slot);
  checkLdmatrix(4, true, slot);
}

TEST(LdmatrixTest, FewerMatricesIgnoreTheOtherLanesAddresses) {
  // Lanes beyond 8 * count point far outside shared memory; x1 and x2 must
  // not use their addresses.
  for (int count : {1, 2}) {
    std::vector<uint32_t> slot(32, 100000);
    for (int l = 0; l < 8 * count; ++l)
      slot[l] = static_cast<uint32_t>(31 - l);
    checkLdmatrix(count, false, slot);
    checkLdmatrix(count, true, slot);
  }
  // x4 does use them: out of bounds.
  std::vector<uint32_t> slot(32, 100000);
  Status status;
  runLdmatrix(4, false, slot, &status);
  EXPECT_NE(status.code, 0);
  EXPECT_NE(status.error.find("out-of-bounds shared read"), std::string::npos)
      << status.error;
}

//===----------------------------------------------------------------------===//
// mma.sync and mma.sp
//===----------------------------------------------------------------------===//

uint16_t toBf16(float v) {
  uint32_t b = f32Bits(v);
  return static_cast<uint16_t>(b >> 16); // values used are bf16-exact
}
uint16_t toF16(float v) {
  // Exact for the small integers and dyadic values used here.
  if (v == 0)
    return std::signbit(v) ? 0x8000 : 0;
  int e;
  float m = std::frexp(std::fabs(v), &e); // v = m 2^e, m in [0.5, 1)
  uint16_t mant = static_cast<uint16_t>(std::ldexp(m, 11)) & 0x3ff;
  uint16_t exp = static_cast<uint16_t>(e - 1 + 15);
  return static_cast<uint16_t>((v < 0 ? 0x8000 : 0) | exp << 10 | mant);
}

/// A value exactly representable in bf16 and f16: k / 8 for |k| < 64.
float randomValue(std::mt19937 &rng, bool integers) {
  std::uniform_int_distribution<int> d(integers ? -4 : -63, integers ? 4 : 63);
  float v = static_cast<float>(d(rng));
  return integers ? v : v / 8.0f;
}

struct MmaCase {
  bool bf16;
  bool integers;
  unsigned seed;
};

/// Dense m16n8k16 with f32 accumulators.
void checkDenseMma(const MmaCase &c) {
  std::mt19937 rng(c.seed);
  float a[16][16], b[16][8], acc[16][8];
  for (auto &row : a)
    for (float &v : row)
      v = randomValue(rng, c.integers);
  for (auto &row : b)
    for (float &v : row)
      v = randomValue(rng, c.integers);
  for (auto &row : acc)
    for (float &v : row)
      v = randomValue(rng, c.integers) * 4;
  auto bits = [&](float v) { return c.bf16 ? toBf16(v) : toF16(v); };
  std::vector<uint32_t> fa(32 * 4), fb(32 * 2);
  std::vector<float> fc(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    int g = groupID(lane), t = threadIDInGroup(lane);
    // ISA table for A (m16n8k16, 16-bit types): a0..a7.
    for (int i = 0; i < 8; ++i) {
      int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
      int col = i < 4 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8;
      fa[lane * 4 + i / 2] |= uint32_t(bits(a[row][col])) << (16 * (i & 1));
    }
    // B: b0..b3.
    for (int i = 0; i < 4; ++i) {
      int row = i < 2 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8;
      fb[lane * 2 + i / 2] |= uint32_t(bits(b[row][g])) << (16 * (i & 1));
    }
    // C: c0..c3.
    for (int i = 0; i < 4; ++i)
      fc[lane * 4 + i] = acc[i < 2 ? g : g + 8][t * 2 + (i & 1)];
  }
  DeviceVector<uint32_t> da(fa), db(fb);
  DeviceVector<float> dc(fc), dd(32 * 4);
  std::string type = c.bf16 ? "bf16" : "f16";
  std::string ptx =
      R"(
.visible .entry mma(.param .u64 pa, .param .u64 pb, .param .u64 pc,
                    .param .u64 pd)
{
  .reg .b32 %r<16>;
  .reg .f32 %f<16>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [pa];
  ld.param.u64 %rd2, [pb];
  ld.param.u64 %rd3, [pc];
  ld.param.u64 %rd4, [pd];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd6];
  mul.wide.u32 %rd7, %r1, 8;
  add.s64 %rd8, %rd2, %rd7;
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  add.s64 %rd9, %rd3, %rd5;
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
  mma.sync.aligned.m16n8k16.row.col.f32.)" +
      type + "." + type +
      R"(.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3, %r4, %r5}, {%r6, %r7}, {%f1, %f2, %f3, %f4};
  add.s64 %rd10, %rd4, %rd5;
  st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
  ret;
}
)";
  EXPECT_RUNS(
      runKernel(ptx, "mma",
                {da.address(), db.address(), dc.address(), dd.address()}, 32));
  std::vector<float> d = dd.read();
  for (int lane = 0; lane < 32; ++lane) {
    int g = groupID(lane), t = threadIDInGroup(lane);
    for (int i = 0; i < 4; ++i) {
      int row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
      // All partial sums are exact in double here (8-bit significands,
      // a small exponent range): the result is the exact sum, rounded
      // once to f32.
      double sum = acc[row][col];
      for (int k = 0; k < 16; ++k)
        sum += static_cast<double>(a[row][k]) * b[k][col];
      EXPECT_EQ(d[lane * 4 + i], static_cast<float>(sum))
          << type << " lane " << lane << " c" << i;
    }
  }
}

TEST(MmaTest, DenseBf16AndF16MatchTheIsaFragments) {
  for (unsigned seed : {1u, 2u, 3u}) {
    checkDenseMma({true, true, seed});
    checkDenseMma({false, true, seed});
    checkDenseMma({true, false, seed});
    checkDenseMma({false, false, seed});
  }
}

/// Sparse m16n8k32 (ordered metadata) with sparsity selector `selector`.
Status runSparseMma(unsigned seed, bool bf16, unsigned selector,
                    bool breakOrdering, std::vector<float> *result,
                    std::vector<float> *expected) {
  std::mt19937 rng(seed);
  const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  float a[16][32] = {}, compressed[16][16], b[32][8], acc[16][8];
  int kept[16][8][2];
  for (int row = 0; row < 16; ++row)
    for (int j = 0; j < 8; ++j) {
      const int *p = pairs[std::uniform_int_distribution<int>(0, 5)(rng)];
      for (int s = 0; s < 2; ++s) {
        kept[row][j][s] = p[s];
        float v = randomValue(rng, false);
        compressed[row][2 * j + s] = v;
        a[row][4 * j + p[s]] = v;
      }
    }
  if (breakOrdering) // group 5 of row 9: indices (2, 1)
    std::swap(kept[9][5][0], kept[9][5][1]);
  for (auto &row : b)
    for (float &v : row)
      v = randomValue(rng, false);
  for (auto &row : acc)
    for (float &v : row)
      v = randomValue(rng, false);
  auto bits = [&](float v) { return bf16 ? toBf16(v) : toF16(v); };
  std::vector<uint32_t> fa(32 * 4), fb(32 * 4), fe(32, 0xFFFFFFFF);
  std::vector<float> fc(32 * 4);
  for (int lane = 0; lane < 32; ++lane) {
    int g = groupID(lane), t = threadIDInGroup(lane);
    // A: the compressed 16 x 16 matrix in the m16n8k16 A layout.
    for (int i = 0; i < 8; ++i) {
      int row = (i < 2 || (i >= 4 && i < 6)) ? g : g + 8;
      int col = i < 4 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8;
      fa[lane * 4 + i / 2] |= uint32_t(bits(compressed[row][col]))
                              << (16 * (i & 1));
    }
    // B (32 x 8): b0..b7, row = 2t + (i & 1) + 8 floor(i / 2).
    for (int i = 0; i < 8; ++i) {
      int row = t * 2 + (i & 1) + 8 * (i / 2);
      fb[lane * 4 + i / 2] |= uint32_t(bits(b[row][g])) << (16 * (i & 1));
    }
    for (int i = 0; i < 4; ++i)
      fc[lane * 4 + i] = acc[i < 2 ? g : g + 8][t * 2 + (i & 1)];
    // Metadata: with selector f the threads 2f and 2f + 1 of each group of
    // four supply it; thread 2f + u covers groups 4u .. 4u + 3 (columns
    // 16u .. 16u + 15) of row g in bits 0-15 and of row g + 8 in bits
    // 16-31, four bits per group (first index in the low two bits).
    if (t / 2 == static_cast<int>(selector)) {
      int u = t % 2;
      uint32_t word = 0;
      for (int half = 0; half < 2; ++half)
        for (int j = 0; j < 4; ++j) {
          const int *k = kept[g + 8 * half][4 * u + j];
          word |= uint32_t(k[0] | k[1] << 2) << (16 * half + 4 * j);
        }
      fe[lane] = word;
    }
  }
  DeviceVector<uint32_t> da(fa), db(fb), de(fe);
  DeviceVector<float> dc(fc), dd(32 * 4);
  std::string type = bf16 ? "bf16" : "f16";
  std::string ptx =
      R"(
.visible .entry mmasp(.param .u64 pa, .param .u64 pb, .param .u64 pc,
                      .param .u64 pd, .param .u64 pe)
{
  .reg .b32 %r<20>;
  .reg .f32 %f<16>;
  .reg .b64 %rd<20>;
  ld.param.u64 %rd1, [pa];
  ld.param.u64 %rd2, [pb];
  ld.param.u64 %rd3, [pc];
  ld.param.u64 %rd4, [pd];
  ld.param.u64 %rd11, [pe];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  add.s64 %rd6, %rd1, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd6];
  add.s64 %rd8, %rd2, %rd5;
  ld.global.v4.b32 {%r6, %r7, %r8, %r9}, [%rd8];
  add.s64 %rd9, %rd3, %rd5;
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
  mul.wide.u32 %rd12, %r1, 4;
  add.s64 %rd13, %rd11, %rd12;
  ld.global.u32 %r10, [%rd13];
  mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.)" +
      type + "." + type +
      R"(.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3, %r4, %r5}, {%r6, %r7, %r8, %r9}, {%f1, %f2, %f3, %f4}, %r10, )" +
      std::to_string(selector) + R"(;
  add.s64 %rd10, %rd4, %rd5;
  st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
  ret;
}
)";
  Status status = runKernel(
      ptx, "mmasp",
      {da.address(), db.address(), dc.address(), dd.address(), de.address()},
      32);
  *result = dd.read();
  expected->assign(32 * 4, 0);
  for (int lane = 0; lane < 32; ++lane) {
    int g = groupID(lane), t = threadIDInGroup(lane);
    for (int i = 0; i < 4; ++i) {
      int row = i < 2 ? g : g + 8, col = t * 2 + (i & 1);
      double sum = acc[row][col];
      for (int k = 0; k < 32; ++k)
        sum += static_cast<double>(a[row][k]) * b[k][col];
      (*expected)[lane * 4 + i] = static_cast<float>(sum);
    }
  }
  return status;
}

TEST(MmaTest, SparseOrderedMetadataBothSelectors) {
  for (unsigned seed : {11u, 12u})
    for (bool bf16 : {true, false})
      for (unsigned selector : {0u, 1u}) {
        std::vector<float> got, want;
        EXPECT_RUNS(runSparseMma(seed, bf16, selector, false, &got, &want));
        for (int i = 0; i < 128; ++i)
          EXPECT_EQ(got[i], want[i])
              << "selector " << selector << " lane " << i / 4 << " c" << i % 4;
      }
}

TEST(MmaTest, UnorderedSparseMetadataIsAnError) {
  std::vector<float> got, want;
  Status status = runSparseMma(11, true, 0, true, &got, &want);
  EXPECT_NE(status.code, 0);
  EXPECT_NE(status.error.find("row 9, group 5"), std::string::npos)
      << status.error;
  EXPECT_NE(status.error.find("ordered_metadata"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// shfl, vote, redux
//===----------------------------------------------------------------------===//

/// shfl.sync of value 10 * lane + 1; returns (value, predicate) per lane.
std::vector<std::pair<uint32_t, uint32_t>> runShfl(const std::string &mode,
                                                   uint32_t b, uint32_t c) {
  DeviceVector<uint32_t> out(64);
  std::string ptx = R"(
.visible .entry shfl(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %laneid;
  mad.lo.u32 %r2, %r1, 10, 1;
  shfl.sync.)" + mode +
                    ".b32 %r3|%p1, %r2, " + std::to_string(b) + ", " +
                    std::to_string(c) +
                    R"(, 0xffffffff;
  selp.u32 %r4, 1, 0, %p1;
  mul.wide.u32 %rd2, %r1, 8;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v2.u32 [%rd3], {%r3, %r4};
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "shfl", {out.address()}, 32));
  std::vector<uint32_t> raw = out.read();
  std::vector<std::pair<uint32_t, uint32_t>> r;
  for (int lane = 0; lane < 32; ++lane)
    r.push_back({raw[2 * lane], raw[2 * lane + 1]});
  return r;
}

TEST(ShflTest, Modes) {
  auto value = [](int lane) { return static_cast<uint32_t>(10 * lane + 1); };
  // c = ((32 - width) << 8) | clamp: width 32, clamp 0 for up, 31 otherwise.
  auto up = runShfl("up", 1, 0);
  auto down = runShfl("down", 1, 31);
  auto bfly = runShfl("bfly", 16, 31);
  auto idx = runShfl("idx", 3, 31);
  // Width 8 segments: c = (24 << 8) | 31 (down, idx) or 24 << 8 (up).
  auto idx8 = runShfl("idx", 3, 0x181F);
  auto down8 = runShfl("down", 1, 0x181F);
  auto up8 = runShfl("up", 2, 0x1800);
  for (int l = 0; l < 32; ++l) {
    // Out-of-range sources keep the lane's own value and clear p.
    EXPECT_EQ(up[l].first, value(l >= 1 ? l - 1 : l)) << l;
    EXPECT_EQ(up[l].second, l >= 1 ? 1u : 0u) << l;
    EXPECT_EQ(down[l].first, value(l <= 30 ? l + 1 : l)) << l;
    EXPECT_EQ(down[l].second, l <= 30 ? 1u : 0u) << l;
    EXPECT_EQ(bfly[l].first, value(l ^ 16)) << l;
    EXPECT_EQ(idx[l].first, value(3)) << l;
    EXPECT_EQ(idx8[l].first, value((l & ~7) + 3)) << l;
    EXPECT_EQ(down8[l].first, value(l % 8 != 7 ? l + 1 : l)) << l;
    EXPECT_EQ(down8[l].second, l % 8 != 7 ? 1u : 0u) << l;
    EXPECT_EQ(up8[l].first, value(l % 8 >= 2 ? l - 2 : l)) << l;
  }
}

TEST(ShflTest, PartialMaskAndItsLimit) {
  // Lanes 0-15 exchange with mask 0xffff; reading lane 16+ is undefined.
  DeviceVector<uint32_t> out(32);
  auto kernel = [&](int distance) {
    return R"(
.visible .entry half(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %laneid;
  setp.ge.u32 %p1, %r1, 16;
  @%p1 bra DONE;
  shfl.sync.bfly.b32 %r3, %r1, )" +
           std::to_string(distance) + R"(, 31, 0xffff;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r3;
DONE:
  ret;
}
)";
  };
  EXPECT_RUNS(runKernel(kernel(1), "half", {out.address()}, 32));
  std::vector<uint32_t> got = out.read();
  for (uint32_t l = 0; l < 16; ++l)
    EXPECT_EQ(got[l], l ^ 1);
  Status status = runKernel(kernel(16), "half", {out.address()}, 32);
  EXPECT_NE(status.code, 0);
  EXPECT_NE(status.error.find("shfl.sync reads lane 16"), std::string::npos)
      << status.error;
}

TEST(VoteTest, BallotAllAnyUniAndRedux) {
  DeviceVector<uint32_t> out(32 * 8);
  std::string ptx = R"(
.visible .entry vote(.param .u64 pout)
{
  .reg .pred %p<8>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %laneid;
  and.b32 %r2, %r1, 1;
  setp.eq.u32 %p1, %r2, 1;
  vote.sync.ballot.b32 %r3, %p1, 0xffffffff;
  setp.lt.u32 %p2, %r1, 32;
  vote.sync.all.pred %p3, %p2, 0xffffffff;
  selp.u32 %r4, 1, 0, %p3;
  setp.eq.u32 %p4, %r1, 5;
  vote.sync.any.pred %p5, %p4, 0xffffffff;
  selp.u32 %r5, 1, 0, %p5;
  vote.sync.uni.pred %p6, %p1, 0xffffffff;
  selp.u32 %r6, 1, 0, %p6;
  redux.sync.add.u32 %r7, %r1, 0xffffffff;
  sub.s32 %r8, %r1, 16;
  redux.sync.max.s32 %r9, %r8, 0xffffffff;
  redux.sync.min.s32 %r10, %r8, 0xffffffff;
  redux.sync.xor.b32 %r11, %r1, 0xffffffff;
  mul.wide.u32 %rd2, %r1, 32;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r3, %r4, %r5, %r6};
  st.global.v4.u32 [%rd3+16], {%r7, %r9, %r10, %r11};
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "vote", {out.address()}, 32));
  std::vector<uint32_t> got = out.read();
  for (int l = 0; l < 32; ++l) {
    const uint32_t *r = &got[8 * l];
    EXPECT_EQ(r[0], 0xAAAAAAAAu);
    EXPECT_EQ(r[1], 1u);
    EXPECT_EQ(r[2], 1u);
    EXPECT_EQ(r[3], 0u);
    EXPECT_EQ(r[4], 496u);
    EXPECT_EQ(r[5], 15u);
    EXPECT_EQ(r[6], static_cast<uint32_t>(-16));
    EXPECT_EQ(r[7], 0u); // xor of 0..31
  }
}

//===----------------------------------------------------------------------===//
// Atomics
//===----------------------------------------------------------------------===//

TEST(AtomTest, AddF32IsExactAndFlushesSubnormals) {
  // 256 threads: out[0] += 1.0 (256 exactly), out[1] += 2^-149 (a
  // subnormal: atom.add.f32 flushes it, the sum stays 0), out[2] += tid
  // through red.add.u32, out[3] counts with atom.inc modulo 100.
  DeviceVector<uint32_t> out(4, 0);
  std::string ptx = R"(
.visible .entry atoms(.param .u64 pout)
{
  .reg .b32 %r<8>;
  .reg .f32 %f<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  atom.global.add.f32 %f1, [%rd1], 0f3F800000;
  atom.global.add.f32 %f2, [%rd1+4], 0f00000001;
  red.global.add.u32 [%rd1+8], %r1;
  atom.global.inc.u32 %r2, [%rd1+12], 99;
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "atoms", {out.address()}, 256));
  std::vector<uint32_t> got = out.read();
  EXPECT_EQ(bitsF32(got[0]), 256.0f);
  EXPECT_EQ(got[1], 0u);
  EXPECT_EQ(got[2], 256u * 255u / 2);
  EXPECT_EQ(got[3], 256u % 100u);
}

TEST(AtomTest, SharedAtomicsDoNotRaceWithEachOther) {
  DeviceVector<uint32_t> out(1, 0);
  std::string ptx = R"(
.visible .entry count(.param .u64 pout)
{
  .shared .align 4 .u32 counter;
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra SKIP;
  st.shared.u32 [counter], 0;
SKIP:
  bar.sync 0;
  atom.shared.add.u32 %r2, [counter], 1;
  bar.sync 0;
  @%p1 bra DONE;
  ld.shared.u32 %r3, [counter];
  st.global.u32 [%rd1], %r3;
DONE:
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "count", {out.address()}, 128));
  EXPECT_EQ(out.read()[0], 128u);
}

TEST(AtomTest, CasAndExch) {
  DeviceVector<uint32_t> out(4, 0);
  std::string ptx = R"(
.visible .entry cas(.param .u64 pout)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  atom.global.cas.b32 %r1, [%rd1], 0, 7;
  atom.global.cas.b32 %r2, [%rd1], 0, 9;
  atom.global.exch.b32 %r3, [%rd1+4], 5;
  st.global.v2.u32 [%rd1+8], {%r1, %r2};
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "cas", {out.address()}, 1));
  std::vector<uint32_t> got = out.read();
  EXPECT_EQ(got[0], 7u); // the second cas saw 7, not 0
  EXPECT_EQ(got[1], 5u);
  EXPECT_EQ(got[2], 0u);
  EXPECT_EQ(got[3], 7u);
}

} // namespace
