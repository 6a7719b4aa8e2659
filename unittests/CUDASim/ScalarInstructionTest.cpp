//===- ScalarInstructionTest.cpp - Per-thread PTX instruction semantics ---===//
//
// Each test runs one thread per case through a kernel whose body is the
// instruction under test, and compares raw result bits with values worked
// out by hand from the PTX ISA's instruction descriptions and IEEE 754
// rounding (the derivation is in the comment beside each case).
//
//===----------------------------------------------------------------------===//

#include "SimTestUtil.h"

#include <array>
#include <cmath>
#include <cstdint>

using namespace slr::sim;
using namespace slr::sim::test;

namespace {

struct Case {
  uint64_t a, b, c;
  uint64_t expected;
};

/// Runs `body` with the case's a, b, c in %rd10..%rd12 (raw 64-bit), the
/// 32-bit halves in %r1..%r3 and as f32 in %f1..%f3, the 16-bit halves in
/// %rs1..%rs3, f64 in %fd1..%fd3; the body leaves its result in %rd13.
std::vector<uint64_t> evaluate(const std::string &body,
                               const std::vector<Case> &cases,
                               Status *status = nullptr) {
  std::vector<uint64_t> a, b, c;
  for (const Case &k : cases) {
    a.push_back(k.a);
    b.push_back(k.b);
    c.push_back(k.c);
  }
  DeviceVector<uint64_t> da(a), db(b), dc(c), dd(cases.size());
  std::string ptx = R"(
.visible .entry k(.param .u64 pa, .param .u64 pb, .param .u64 pc,
                  .param .u64 pd)
{
  .reg .pred %p<4>;
  .reg .b16 %rs<8>;
  .reg .b32 %r<8>;
  .reg .f32 %f<8>;
  .reg .b64 %rd<24>;
  .reg .f64 %fd<8>;
  ld.param.u64 %rd1, [pa];
  ld.param.u64 %rd2, [pb];
  ld.param.u64 %rd3, [pc];
  ld.param.u64 %rd4, [pd];
  mov.u32 %r7, %tid.x;
  mul.wide.u32 %rd5, %r7, 8;
  add.s64 %rd6, %rd1, %rd5;
  add.s64 %rd7, %rd2, %rd5;
  add.s64 %rd8, %rd3, %rd5;
  add.s64 %rd9, %rd4, %rd5;
  ld.global.u64 %rd10, [%rd6];
  ld.global.u64 %rd11, [%rd7];
  ld.global.u64 %rd12, [%rd8];
  cvt.u32.u64 %r1, %rd10;
  cvt.u32.u64 %r2, %rd11;
  cvt.u32.u64 %r3, %rd12;
  mov.b32 %f1, %r1;
  mov.b32 %f2, %r2;
  mov.b32 %f3, %r3;
  cvt.u16.u64 %rs1, %rd10;
  cvt.u16.u64 %rs2, %rd11;
  cvt.u16.u64 %rs3, %rd12;
  mov.b64 %fd1, %rd10;
  mov.b64 %fd2, %rd11;
  mov.b64 %fd3, %rd12;
  mov.u64 %rd13, 0;
)" + body + R"(
  st.global.u64 [%rd9], %rd13;
  ret;
}
)";
  Status s = runKernel(ptx, "k",
                       {da.address(), db.address(), dc.address(), dd.address()},
                       static_cast<unsigned>(cases.size()));
  if (status)
    *status = s;
  else
    EXPECT_EQ(s.code, 0) << s.error;
  return dd.read();
}

void expectCases(const std::string &body, const std::vector<Case> &cases) {
  std::vector<uint64_t> got = evaluate(body, cases);
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(got[i], cases[i].expected)
        << "case " << i << " of `" << body << "`: got 0x" << std::hex << got[i]
        << ", expected 0x" << cases[i].expected;
}

const std::string kStore32 = "cvt.u64.u32 %rd13, %r4;";
const std::string kStoreF32 = "mov.b32 %r4, %f4;\n  cvt.u64.u32 %rd13, %r4;";
const std::string kStore16 = "cvt.u64.u16 %rd13, %rs4;";

//===----------------------------------------------------------------------===//
// cvt
//===----------------------------------------------------------------------===//

TEST(CvtTest, Bf16FromF32RoundsToNearestEven) {
  expectCases("cvt.rn.bf16.f32 %rs4, %f1;\n" + kStore16,
              {
                  // 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: even.
                  {0x3F808000, 0, 0, 0x3F80},
                  // 1 + 3 * 2^-8: halfway between 0x3F81 and 0x3F82: even.
                  {0x3F818000, 0, 0, 0x3F82},
                  // Just above half way rounds up.
                  {0x3F808001, 0, 0, 0x3F81},
                  // The largest f32 rounds up into infinity.
                  {0x7F7FFFFF, 0, 0, 0x7F80},
                  // Negative, below half way.
                  {0xBF807FFF, 0, 0, 0xBF80},
                  // A NaN becomes the canonical NaN.
                  {0x7FC00001, 0, 0, 0x7FFF},
                  // The smallest f32 subnormal is far below half a bf16
                  // subnormal (2^-133): +0.
                  {0x00000001, 0, 0, 0x0000},
              });
}

TEST(CvtTest, Bf16DirectedRoundingAndSatfinite) {
  expectCases("cvt.rz.bf16.f32 %rs4, %f1;\n" + kStore16,
              {{0x3F81FFFF, 0, 0, 0x3F81},
               {0xBF81FFFF, 0, 0, 0xBF81},
               {0x7F7FFFFF, 0, 0, 0x7F7F}});
  expectCases("cvt.rm.bf16.f32 %rs4, %f1;\n" + kStore16,
              {{0xBF800001, 0, 0, 0xBF81}, {0x3F800001, 0, 0, 0x3F80}});
  expectCases("cvt.rp.bf16.f32 %rs4, %f1;\n" + kStore16,
              {{0x3F800001, 0, 0, 0x3F81}, {0xBF800001, 0, 0, 0xBF80}});
  expectCases("cvt.rn.satfinite.bf16.f32 %rs4, %f1;\n" + kStore16,
              {{0x7F7FFFFF, 0, 0, 0x7F7F}, {0xFF800000, 0, 0, 0xFF7F}});
  expectCases("cvt.rn.relu.bf16.f32 %rs4, %f1;\n" + kStore16,
              {{0xBF800000, 0, 0, 0x0000}, {0x40000000, 0, 0, 0x4000}});
}

TEST(CvtTest, F16FromF32OverflowAndSubnormals) {
  expectCases("cvt.rn.f16.f32 %rs4, %f1;\n" + kStore16,
              {
                  // 65519 rounds down to the largest f16, 65504.
                  {0x477FEF00, 0, 0, 0x7BFF},
                  // 65520 is halfway to 65536 (even): overflows to inf.
                  {0x477FF000, 0, 0, 0x7C00},
                  // 2^-25 is half the smallest subnormal 2^-24: even, 0.
                  {0x33000000, 0, 0, 0x0000},
                  // 1.5 * 2^-25 rounds up to 2^-24.
                  {0x33400000, 0, 0, 0x0001},
                  // 1.5 * 2^-24 is a tie between 1 and 2 quanta: even, 2.
                  {0x33C00000, 0, 0, 0x0002},
                  // 1/3 in f16: 0x3555 (0.333251953125).
                  {0x3EAAAAAB, 0, 0, 0x3555},
              });
  expectCases("cvt.rz.f16.f32 %rs4, %f1;\n" + kStore16,
              {{0x477FF000, 0, 0, 0x7BFF}});
}

TEST(CvtTest, PackedPairsPutTheFirstSourceInTheUpperHalf) {
  // cvt.rn.bf16x2.f32 d, a, b: d[31:16] = cvt(a), d[15:0] = cvt(b).
  expectCases("cvt.rn.bf16x2.f32 %r4, %f1, %f2;\n" + kStore32,
              {{0x3F800000, 0x40000000, 0, 0x3F804000},
               {0x3F808000, 0x3F818000, 0, 0x3F803F82}});
  expectCases("cvt.rn.f16x2.f32 %r4, %f1, %f2;\n" + kStore32,
              {{0x3F800000, 0x40000000, 0, 0x3C004000}});
}

TEST(CvtTest, WideningIsExact) {
  expectCases("cvt.f32.bf16 %f4, %rs1;\n" + kStoreF32,
              {{0x3F81, 0, 0, 0x3F810000}, {0x0001, 0, 0, 0x00010000}});
  // f16 subnormal 2^-24 is exact in f32; f16 inf stays inf.
  expectCases("cvt.f32.f16 %f4, %rs1;\n" + kStoreF32,
              {{0x0001, 0, 0, 0x33800000},
               {0x7C00, 0, 0, 0x7F800000},
               {0xBC00, 0, 0, 0xBF800000}});
}

TEST(CvtTest, FloatToIntegerRoundsAndSaturates) {
  expectCases("cvt.rzi.s32.f32 %r4, %f1;\n" + kStore32,
              {
                  {f32Bits(3e9f), 0, 0, 0x7FFFFFFF},  // saturates
                  {f32Bits(-3e9f), 0, 0, 0x80000000}, // saturates
                  {0x7FC00000, 0, 0, 0},              // NaN -> 0
                  {f32Bits(-1.5f), 0, 0, 0xFFFFFFFF}, // toward zero: -1
              });
  expectCases("cvt.rni.s32.f32 %r4, %f1;\n" + kStore32,
              {{f32Bits(2.5f), 0, 0, 2},
               {f32Bits(3.5f), 0, 0, 4},
               {f32Bits(-2.5f), 0, 0, 0xFFFFFFFE}});
  expectCases("cvt.rmi.s32.f32 %r4, %f1;\n" + kStore32,
              {{f32Bits(-1.5f), 0, 0, 0xFFFFFFFE}});
  expectCases("cvt.rpi.u32.f32 %r4, %f1;\n" + kStore32,
              {{f32Bits(-1.0f), 0, 0, 0}, {f32Bits(1.25f), 0, 0, 2}});
}

TEST(CvtTest, IntegerToFloatRoundsOnceFromTheExactValue) {
  // 2^60 + 2^36 + 1: just above half an f32 ulp (2^37) above 2^60, so
  // round-to-nearest gives 2^60 + 2^37 (0x5D800001). Rounding through a
  // double first would lose the +1 and tie to 2^60.
  uint64_t x = (uint64_t(1) << 60) + (uint64_t(1) << 36) + 1;
  expectCases("cvt.rn.f32.s64 %f4, %rd10;\n" + kStoreF32,
              {{x, 0, 0, 0x5D800001}});
  expectCases("cvt.rz.f32.u64 %f4, %rd10;\n" + kStoreF32,
              {{x, 0, 0, 0x5D800000}});
  // -1 as s32 is -1.0; as u32 it is 4294967295 -> 2^32 (rn).
  expectCases("cvt.rn.f32.s32 %f4, %r1;\n" + kStoreF32,
              {{0xFFFFFFFF, 0, 0, 0xBF800000}});
  expectCases("cvt.rn.f32.u32 %f4, %r1;\n" + kStoreF32,
              {{0xFFFFFFFF, 0, 0, 0x4F800000}});
}

TEST(CvtTest, IntegerToIntegerExtendsAndSaturates) {
  expectCases("cvt.s32.s8 %r4, %r1;\n" + kStore32, {{0x80, 0, 0, 0xFFFFFF80}});
  expectCases("cvt.u32.u8 %r4, %r1;\n" + kStore32, {{0x180, 0, 0, 0x80}});
  expectCases("cvt.sat.s8.s32 %r4, %r1;\n" + kStore32,
              {{300, 0, 0, 0x7F}, {0xFFFFFF00, 0, 0, 0x80}});
  expectCases("cvt.sat.u8.s32 %r4, %r1;\n" + kStore32,
              {{0xFFFFFFFF, 0, 0, 0}, {300, 0, 0, 0xFF}});
}

TEST(CvtTest, F64ToF32) {
  // 1 + 2^-24 + 2^-50 (f64): above the f32 tie, rounds up under rn.
  double v = 1.0 + std::ldexp(1.0, -24) + std::ldexp(1.0, -50);
  expectCases(
      "cvt.rn.f32.f64 %f4, %fd1;\n" + kStoreF32,
      {{f64Bits(v), 0, 0, 0x3F800001}, {f64Bits(1e300), 0, 0, 0x7F800000}});
  expectCases(
      "cvt.rz.f32.f64 %f4, %fd1;\n" + kStoreF32,
      {{f64Bits(v), 0, 0, 0x3F800000}, {f64Bits(1e300), 0, 0, 0x7F7FFFFF}});
}

TEST(CvtTest, Tf32RoundsHalfAway) {
  // tf32 keeps 10 mantissa bits: 1 + 2^-11 is a tie, .rna rounds away.
  expectCases("cvt.rna.tf32.f32 %r4, %f1;\n" + kStore32,
              {{0x3F801000, 0, 0, 0x3F802000}, {0x3F800FFF, 0, 0, 0x3F800000}});
}

//===----------------------------------------------------------------------===//
// Floating-point arithmetic
//===----------------------------------------------------------------------===//

TEST(FloatTest, AddRoundingModes) {
  // 1 + 2^-24: a tie between 1 and 1 + 2^-23, even: 1.
  expectCases("add.rn.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x33800000, 0, 0x3F800000},
               // 1 + 3 * 2^-24: tie between 1 + 2^-23 and 1 + 2^-22: even.
               {0x3F800000, 0x34400000, 0, 0x3F800002}});
  // 1 + 2^-30 under the directed modes.
  expectCases("add.rp.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x30800000, 0, 0x3F800001}});
  expectCases("add.rz.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x30800000, 0, 0x3F800000},
               // 1 - 2^-30 toward zero: the largest float below 1.
               {0x3F800000, 0xB0800000, 0, 0x3F7FFFFF}});
  expectCases("add.rm.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0xBF800000, 0xB0800000, 0, 0xBF800001}});
  expectCases("sub.rn.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x40400000, 0x3F800000, 0, 0x40000000}});
}

TEST(FloatTest, FmaRoundsOnce) {
  // a = b = 1 + 2^-12, c = -(1 + 2^-11): a b + c = 2^-24 exactly. Rounding
  // a b first (to 1 + 2^-11, a tie to even) would give 0.
  expectCases("fma.rn.f32 %f4, %f1, %f2, %f3;\n" + kStoreF32,
              {{0x3F800800, 0x3F800800, 0xBF801000, 0x33800000}});
  expectCases("mul.rn.f32 %f5, %f1, %f2;\n  add.rn.f32 %f4, %f5, %f3;\n" +
                  kStoreF32,
              {{0x3F800800, 0x3F800800, 0xBF801000, 0x00000000}});
}

TEST(FloatTest, DivisionAndSquareRoot) {
  expectCases("div.rn.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x40400000, 0, 0x3EAAAAAB}});
  expectCases("div.rz.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x40400000, 0, 0x3EAAAAAA}});
  expectCases("sqrt.rn.f32 %f4, %f1;\n" + kStoreF32,
              {{0x40000000, 0, 0, 0x3FB504F3}});
  expectCases("rcp.rn.f32 %f4, %f1;\n" + kStoreF32,
              {{0x40400000, 0, 0, 0x3EAAAAAB}});
}

TEST(FloatTest, MinMaxAndNaN) {
  // min/max return the non-NaN operand; .NaN propagates (canonical NaN).
  expectCases("min.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x7FC00000, 0x3F800000, 0, 0x3F800000},
               {0x3F800000, 0x40000000, 0, 0x3F800000}});
  expectCases("max.NaN.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x7FC00000, 0x3F800000, 0, 0x7FFFFFFF}});
  expectCases("add.rn.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x7F800000, 0xFF800000, 0, 0x7FFFFFFF}});
}

TEST(FloatTest, FlushToZero) {
  // The smallest subnormal plus zero: kept, or flushed with .ftz.
  expectCases("add.rn.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x00000001, 0x00000000, 0, 0x00000001}});
  expectCases("add.rn.ftz.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x00000001, 0x00000000, 0, 0x00000000},
               {0x80000001, 0x00000000, 0, 0x00000000}});
  // A normal result that is subnormal after rounding is flushed.
  expectCases("mul.rn.ftz.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x00800000, 0x3F000000, 0, 0x00000000}});
}

TEST(FloatTest, HalfPrecisionArithmetic) {
  // f16: 1 + 2^-11 is a tie (even: 1); 1 + 2^-11 + 2^-20 rounds up.
  expectCases("add.rn.f16 %rs4, %rs1, %rs2;\n" + kStore16,
              {{0x3C00, 0x1000, 0, 0x3C00}, {0x3C00, 0x1001, 0, 0x3C01}});
  // bf16x2: each half on its own (c = -0, -0 keeps the products).
  expectCases("fma.rn.bf16x2 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x40003F80, 0x40404000, 0x80008000, 0x40C04000}});
  expectCases("fma.rn.bf16 %rs4, %rs1, %rs2, %rs3;\n" + kStore16,
              {{0x3F80, 0x4000, 0x3F80, 0x4040}});
}

TEST(FloatTest, SaturateClampsToUnitInterval) {
  expectCases("add.rn.sat.f32 %f4, %f1, %f2;\n" + kStoreF32,
              {{0x3F800000, 0x3F800000, 0, 0x3F800000},
               {0xBF800000, 0x00000000, 0, 0x00000000},
               // NaN results of .sat are flushed to +0.
               {0x7FC00000, 0x00000000, 0, 0x00000000}});
}

//===----------------------------------------------------------------------===//
// Integer arithmetic and logic
//===----------------------------------------------------------------------===//

TEST(IntegerTest, MultiplyForms) {
  expectCases("mul.hi.s32 %r4, %r1, %r2;\n" + kStore32,
              {{0x80000000, 2, 0, 0xFFFFFFFF}, {0x40000000, 4, 0, 1}});
  expectCases("mul.wide.s32 %rd13, %r1, %r2;",
              {{0xFFFFFFFD, 5, 0, 0xFFFFFFFFFFFFFFF1ull}});
  expectCases("mul.wide.u32 %rd13, %r1, %r2;",
              {{0xFFFFFFFF, 0xFFFFFFFF, 0, 0xFFFFFFFE00000001ull}});
  expectCases("mul.hi.u64 %rd13, %rd10, %rd11;",
              {{~0ull, ~0ull, 0, 0xFFFFFFFFFFFFFFFEull}});
  expectCases("mad.lo.s32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{7, 6, 0xFFFFFFFF, 41}});
  expectCases("mad.wide.u32 %rd13, %r1, %r2, %rd12;",
              {{0x80000000, 4, 5, 0x200000005ull}});
  expectCases("mul24.lo.u32 %r4, %r1, %r2;\n" + kStore32,
              {{0x01000003, 2, 0, 6}}); // only the low 24 bits take part
}

TEST(IntegerTest, DivisionRemainderAndSaturation) {
  expectCases("div.s32 %r4, %r1, %r2;\n" + kStore32,
              {{0xFFFFFFF9, 2, 0, 0xFFFFFFFD}}); // -7 / 2 = -3
  expectCases("rem.s32 %r4, %r1, %r2;\n" + kStore32,
              {{0xFFFFFFF9, 2, 0, 0xFFFFFFFF}}); // -7 % 2 = -1
  expectCases("div.u32 %r4, %r1, %r2;\n" + kStore32,
              {{7, 0, 0, 0xFFFFFFFF}}); // the simulator's choice for / 0
  expectCases("add.sat.s32 %r4, %r1, %r2;\n" + kStore32,
              {{0x7FFFFFFF, 1, 0, 0x7FFFFFFF},
               {0x80000000, 0xFFFFFFFF, 0, 0x80000000}});
  expectCases("sad.u32 %r4, %r1, %r2, %r3;\n" + kStore32, {{3, 7, 1, 5}});
}

TEST(IntegerTest, ShiftsClampTheirAmount) {
  expectCases(
      "shr.s32 %r4, %r1, %r2;\n" + kStore32,
      {{0xFFFFFFF8, 1, 0, 0xFFFFFFFC}, {0x80000000, 40, 0, 0xFFFFFFFF}});
  expectCases("shr.u32 %r4, %r1, %r2;\n" + kStore32,
              {{0x80000000, 31, 0, 1}, {0x80000000, 32, 0, 0}});
  expectCases("shl.b32 %r4, %r1, %r2;\n" + kStore32,
              {{1, 32, 0, 0}, {1, 31, 0, 0x80000000}});
  // Funnel shifts: {b:a} as 64 bits.
  expectCases("shf.l.wrap.b32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x80000000, 0x00000001, 33, 0x00000003}});
  expectCases("shf.r.clamp.b32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x00000000, 0x00000001, 40, 0x00000001}});
}

TEST(IntegerTest, BitFieldsAndPermutes) {
  // bfe: bits [pos, pos + len) of a; the signed form replicates the top bit.
  expectCases("bfe.u32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x0000F000, 12, 4, 0xF}, {0x0000F000, 12, 0, 0}});
  expectCases("bfe.s32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x0000F000, 12, 4, 0xFFFFFFFF}, {0x00007000, 12, 4, 7}});
  expectCases("bfe.u64 %rd13, %rd10, %r2, %r3;",
              {{0xABCD000000000000ull, 48, 16, 0xABCD}});
  // bfi d, f, b, pos, len: the low len bits of f replace bits of b.
  expectCases("bfi.b32 %r4, %r1, %r2, %r3, 2;\n" + kStore32,
              {{0xF, 0x0, 4, 0x30}, {0x0, 0xFF, 2, 0xF3}});
  // prmt: result byte i is byte sel_i of {b, a} (a = bytes 0-3), sel bit 3
  // replicates the selected byte's sign.
  expectCases("prmt.b32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x33221100, 0x77665544, 0x5140, 0x55114400},
               {0x000000F0, 0, 0x0008, 0xF0F0F0FF}});
  expectCases("prmt.b32.f4e %r4, %r1, %r2, %r3;\n" + kStore32,
              {{0x33221100, 0x77665544, 1, 0x44332211}});
  expectCases("lop3.b32 %r4, %r1, %r2, %r3, 0x96;\n" + kStore32,
              {{0xF0F0F0F0, 0xCCCCCCCC, 0xAAAAAAAA,
                0xF0F0F0F0 ^ 0xCCCCCCCC ^ 0xAAAAAAAA}});
  expectCases("popc.b64 %r4, %rd10;\n" + kStore32,
              {{0xFFFF00000000FFFFull, 0, 0, 32}});
  expectCases("clz.b32 %r4, %r1;\n" + kStore32, {{1, 0, 0, 31}, {0, 0, 0, 32}});
  expectCases("brev.b32 %r4, %r1;\n" + kStore32, {{1, 0, 0, 0x80000000}});
  expectCases("bfind.u32 %r4, %r1;\n" + kStore32,
              {{0x10, 0, 0, 4}, {0, 0, 0, 0xFFFFFFFF}});
  expectCases("bfind.s32 %r4, %r1;\n" + kStore32,
              {{0xFFFFFFF0, 0, 0, 3}, {0xFFFFFFFF, 0, 0, 0xFFFFFFFF}});
}

TEST(IntegerTest, ComparisonAndSelection) {
  const std::string store = "selp.u64 %rd13, 1, 0, %p1;";
  expectCases("setp.lt.u32 %p1, %r1, %r2;\n" + store,
              {{0xFFFFFFFF, 1, 0, 0}, {1, 2, 0, 1}});
  expectCases("setp.lt.s32 %p1, %r1, %r2;\n" + store, {{0xFFFFFFFF, 1, 0, 1}});
  expectCases("setp.hi.u32 %p1, %r1, %r2;\n" + store, {{0xFFFFFFFF, 1, 0, 1}});
  // Ordered comparisons are false on NaN, unordered ones true.
  expectCases("setp.lt.f32 %p1, %f1, %f2;\n" + store,
              {{0x7FC00000, 0x3F800000, 0, 0}});
  expectCases("setp.ltu.f32 %p1, %f1, %f2;\n" + store,
              {{0x7FC00000, 0x3F800000, 0, 1}});
  // setp.cmp.and p|q, a, b, !c: p = (a cmp b) & !c, q = !(a cmp b) & !c.
  expectCases("setp.eq.s32 %p2, %r3, 1;\n  setp.ne.and.s32 %p1|%p3, %r1, "
              "%r2, !%p2;\n  selp.u64 %rd14, 2, 0, %p3;\n  selp.u64 %rd15, 1, "
              "0, %p1;\n  or.b64 %rd13, %rd14, %rd15;",
              {{1, 2, 0, 1}, {1, 1, 0, 2}, {1, 2, 1, 0}});
  expectCases("slct.u32.s32 %r4, %r1, %r2, %r3;\n" + kStore32,
              {{7, 9, 0xFFFFFFFF, 9}, {7, 9, 0, 7}});
}

TEST(IntegerTest, MovPacksAndUnpacks) {
  expectCases("mov.b64 %rd13, {%r1, %r2};",
              {{0x11111111, 0x22222222, 0, 0x2222222211111111ull}});
  expectCases("mov.b64 {%r4, %r5}, %rd10;\n  cvt.u64.u32 %rd13, %r5;",
              {{0x2222222211111111ull, 0, 0, 0x22222222}});
  expectCases("mov.b32 %r4, {%rs1, %rs2};\n" + kStore32,
              {{0x1111, 0x2222, 0, 0x22221111}});
}

} // namespace
