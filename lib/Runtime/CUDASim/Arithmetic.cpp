//===- Arithmetic.cpp - Integer, logic and floating-point instructions ----===//
//
// Semantics as the PTX ISA states them ("Integer Arithmetic", "Logic and
// Shift", "Comparison and Selection", "Floating-Point" and "Half Precision"
// instruction chapters). Where the ISA leaves a result unspecified the
// simulator picks one and says so here:
//  * integer division by zero gives all ones (div) and the dividend (rem);
//  * floating-point NaN results are the canonical NaN (all mantissa bits
//    set), as the hardware produces;
//  * `.approx` instructions (sin, cos, lg2, ex2, tanh, rsqrt, rcp/sqrt/div
//    .approx, div.full) return the correctly rounded result; the hardware's
//    differ within the error bound the ISA gives for each.
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Float.h"

#include <cmath>

using namespace slr::sim;

namespace {

inline uint64_t src(const Cta &cta, const Warp &w, const Instr &in, unsigned i,
                    unsigned lane) {
  return operandBits(cta, w, in.operands[i], lane);
}

//===----------------------------------------------------------------------===//
// Integer and logic
//===----------------------------------------------------------------------===//

enum class IntOp {
  Add,
  Sub,
  MulLo,
  MulHi,
  MulWide,
  MadLo,
  MadHi,
  MadWide,
  Mul24Lo,
  Mul24Hi,
  Mad24Lo,
  Mad24Hi,
  Sad,
  Div,
  Rem,
  Abs,
  Neg,
  Min,
  Max,
  Popc,
  Clz,
  Brev,
  Bfind,
  Bfe,
  Bfi,
  Prmt,
  And,
  Or,
  Xor,
  Not,
  Cnot,
  Shl,
  Shr,
  Lop3,
  ShfL,
  ShfR,
  Selp,
  Mov,
};

/// Signed or zero extension of an operand to 64 bits.
inline int64_t ext(uint64_t v, unsigned bits, bool sgn) {
  return sgn ? signExtend(v, bits)
             : static_cast<int64_t>(truncateBits(v, bits));
}

/// The full product of two `bits`-wide operands (at most 64), exactly.
inline __int128 fullProduct(uint64_t a, uint64_t b, unsigned bits, bool sgn) {
  if (sgn)
    return static_cast<__int128>(ext(a, bits, true)) * ext(b, bits, true);
  return static_cast<__int128>(
      static_cast<unsigned __int128>(truncateBits(a, bits)) *
      truncateBits(b, bits));
}

inline uint64_t highProduct(uint64_t a, uint64_t b, unsigned bits, bool sgn) {
  if (bits == 64 && !sgn)
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
  return static_cast<uint64_t>(fullProduct(a, b, bits, sgn) >> bits);
}

inline uint64_t saturateS32(int64_t v) {
  if (v > INT32_MAX)
    v = INT32_MAX;
  if (v < INT32_MIN)
    v = INT32_MIN;
  return static_cast<uint64_t>(v);
}

uint64_t permute(uint32_t a, uint32_t b, uint32_t c, unsigned mode) {
  uint8_t bytes[8];
  for (unsigned i = 0; i < 4; ++i) {
    bytes[i] = static_cast<uint8_t>(a >> (8 * i));
    bytes[4 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  uint32_t result = 0;
  if (mode == 0) { // default: a selector nibble per result byte
    for (unsigned i = 0; i < 4; ++i) {
      unsigned sel = (c >> (4 * i)) & 0xf;
      uint8_t byte = bytes[sel & 7];
      if (sel & 8)
        byte = (byte & 0x80) ? 0xff : 0x00;
      result |= static_cast<uint32_t>(byte) << (8 * i);
    }
    return result;
  }
  unsigned s = c & 3;
  static const uint8_t modes[6][4][4] = {
      // f4e: forward 4 extract
      {{0, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 6}},
      // b4e: backward 4 extract
      {{0, 7, 6, 5}, {1, 0, 7, 6}, {2, 1, 0, 7}, {3, 2, 1, 0}},
      // rc8: replicate 8
      {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 3}},
      // ecl: edge clamp left
      {{0, 1, 2, 3}, {1, 1, 2, 3}, {2, 2, 2, 3}, {3, 3, 3, 3}},
      // ecr: edge clamp right
      {{0, 0, 0, 0}, {0, 1, 1, 1}, {0, 1, 2, 2}, {0, 1, 2, 3}},
      // rc16: replicate 16
      {{0, 1, 0, 1}, {2, 3, 2, 3}, {0, 1, 0, 1}, {2, 3, 2, 3}},
  };
  for (unsigned i = 0; i < 4; ++i)
    result |= static_cast<uint32_t>(bytes[modes[mode - 1][s][i]]) << (8 * i);
  return result;
}

template <IntOp op>
void execInt(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned bits = in.type == Type::Pred ? 1 : typeBits(in.type);
  const bool sgn = isSigned(in.type);
  const uint32_t d = in.operands[0].reg;
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = src(cta, w, in, 1, lane);
    uint64_t r = 0;
    unsigned outBits = bits;
    if constexpr (op == IntOp::Add || op == IntOp::Sub) {
      uint64_t b = src(cta, w, in, 2, lane);
      if (in.sat) { // .sat: s32 only
        int64_t x = ext(a, 32, true), y = ext(b, 32, true);
        r = saturateS32(op == IntOp::Add ? x + y : x - y);
      } else {
        r = op == IntOp::Add ? a + b : a - b;
      }
    } else if constexpr (op == IntOp::MulLo) {
      r = a * src(cta, w, in, 2, lane);
    } else if constexpr (op == IntOp::MulHi) {
      r = highProduct(a, src(cta, w, in, 2, lane), bits, sgn);
    } else if constexpr (op == IntOp::MulWide) {
      r = static_cast<uint64_t>(
          fullProduct(a, src(cta, w, in, 2, lane), bits, sgn));
      outBits = 2 * bits;
    } else if constexpr (op == IntOp::MadLo) {
      uint64_t c = src(cta, w, in, 3, lane);
      if (in.sat) {
        int64_t p = static_cast<int64_t>(
            fullProduct(a, src(cta, w, in, 2, lane), 32, true));
        r = saturateS32(static_cast<int64_t>(static_cast<int32_t>(p)) +
                        ext(c, 32, true));
      } else {
        r = a * src(cta, w, in, 2, lane) + c;
      }
    } else if constexpr (op == IntOp::MadHi) {
      r = highProduct(a, src(cta, w, in, 2, lane), bits, sgn) +
          src(cta, w, in, 3, lane);
    } else if constexpr (op == IntOp::MadWide) {
      r = static_cast<uint64_t>(
              fullProduct(a, src(cta, w, in, 2, lane), bits, sgn)) +
          src(cta, w, in, 3, lane);
      outBits = 2 * bits;
    } else if constexpr (op == IntOp::Mul24Lo || op == IntOp::Mul24Hi ||
                         op == IntOp::Mad24Lo || op == IntOp::Mad24Hi) {
      int64_t p = ext(a, 24, sgn) * ext(src(cta, w, in, 2, lane), 24, sgn);
      r = (op == IntOp::Mul24Hi || op == IntOp::Mad24Hi)
              ? static_cast<uint64_t>(p >> 16)
              : static_cast<uint64_t>(p);
      if constexpr (op == IntOp::Mad24Lo || op == IntOp::Mad24Hi)
        r += src(cta, w, in, 3, lane);
    } else if constexpr (op == IntOp::Sad) {
      // |a - b| + c, the difference taken without signed overflow.
      int64_t x = ext(a, bits, sgn),
              y = ext(src(cta, w, in, 2, lane), bits, sgn);
      bool less =
          sgn ? x < y : static_cast<uint64_t>(x) < static_cast<uint64_t>(y);
      uint64_t diff = less
                          ? static_cast<uint64_t>(y) - static_cast<uint64_t>(x)
                          : static_cast<uint64_t>(x) - static_cast<uint64_t>(y);
      r = diff + src(cta, w, in, 3, lane);
    } else if constexpr (op == IntOp::Div || op == IntOp::Rem) {
      uint64_t b = src(cta, w, in, 2, lane);
      if (truncateBits(b, bits) == 0) {
        r = op == IntOp::Div ? ~uint64_t(0) : a;
      } else if (sgn) {
        int64_t x = ext(a, bits, true), y = ext(b, bits, true);
        if (y == -1) // -x wraps for the most negative x, as on the hardware
          r = op == IntOp::Div ? ~static_cast<uint64_t>(x) + 1 : 0;
        else
          r = static_cast<uint64_t>(op == IntOp::Div ? x / y : x % y);
      } else {
        uint64_t x = truncateBits(a, bits), y = truncateBits(b, bits);
        r = op == IntOp::Div ? x / y : x % y;
      }
    } else if constexpr (op == IntOp::Abs) {
      int64_t x = ext(a, bits, true);
      r = x < 0 ? ~static_cast<uint64_t>(x) + 1 : static_cast<uint64_t>(x);
    } else if constexpr (op == IntOp::Neg) {
      r = ~a + 1;
    } else if constexpr (op == IntOp::Min || op == IntOp::Max) {
      uint64_t b = src(cta, w, in, 2, lane);
      bool less = sgn ? ext(a, bits, true) < ext(b, bits, true)
                      : truncateBits(a, bits) < truncateBits(b, bits);
      r = (op == IntOp::Min) == less ? a : b;
      if (in.relu && sgn && ext(r, bits, true) < 0)
        r = 0;
    } else if constexpr (op == IntOp::Popc) {
      r = static_cast<uint64_t>(__builtin_popcountll(truncateBits(a, bits)));
      outBits = 32;
    } else if constexpr (op == IntOp::Clz) {
      uint64_t x = truncateBits(a, bits);
      r = x == 0 ? bits
                 : static_cast<uint64_t>(__builtin_clzll(x)) - (64 - bits);
      outBits = 32;
    } else if constexpr (op == IntOp::Brev) {
      uint64_t x = truncateBits(a, bits);
      r = 0;
      for (unsigned i = 0; i < bits; ++i)
        if (x >> i & 1)
          r |= uint64_t(1) << (bits - 1 - i);
    } else if constexpr (op == IntOp::Bfind) {
      uint64_t x = truncateBits(a, bits);
      if (sgn && (x >> (bits - 1) & 1))
        x = truncateBits(~x, bits); // negative: the first zero bit
      if (x == 0) {
        r = 0xffffffffu;
      } else {
        unsigned msb = 63 - static_cast<unsigned>(__builtin_clzll(x));
        r = in.flag ? bits - 1 - msb : msb; // .shiftamt
      }
      outBits = 32;
    } else if constexpr (op == IntOp::Bfe) {
      unsigned msb = bits - 1;
      unsigned pos = static_cast<unsigned>(src(cta, w, in, 2, lane) & 0xff);
      unsigned len = static_cast<unsigned>(src(cta, w, in, 3, lane) & 0xff);
      uint64_t x = truncateBits(a, bits);
      uint64_t sbit = 0;
      if (sgn && len != 0)
        sbit = (x >> std::min(pos + len - 1, msb)) & 1;
      r = 0;
      for (unsigned i = 0; i <= msb; ++i) {
        uint64_t bit =
            (i < len && pos + i <= msb) ? (x >> (pos + i)) & 1 : sbit;
        r |= bit << i;
      }
    } else if constexpr (op == IntOp::Bfi) {
      // bfi d, f, b, c, d: insert the low bits of f into b at c, length d.
      uint64_t base = src(cta, w, in, 2, lane);
      unsigned pos = static_cast<unsigned>(src(cta, w, in, 3, lane) & 0xff);
      unsigned len = static_cast<unsigned>(src(cta, w, in, 4, lane) & 0xff);
      r = base;
      for (unsigned i = 0; i < len && pos + i < bits; ++i) {
        uint64_t bit = uint64_t(1) << (pos + i);
        r = (a >> i & 1) ? (r | bit) : (r & ~bit);
      }
    } else if constexpr (op == IntOp::Prmt) {
      r = permute(static_cast<uint32_t>(a),
                  static_cast<uint32_t>(src(cta, w, in, 2, lane)),
                  static_cast<uint32_t>(src(cta, w, in, 3, lane)), in.imm);
    } else if constexpr (op == IntOp::And) {
      r = a & src(cta, w, in, 2, lane);
    } else if constexpr (op == IntOp::Or) {
      r = a | src(cta, w, in, 2, lane);
    } else if constexpr (op == IntOp::Xor) {
      r = a ^ src(cta, w, in, 2, lane);
    } else if constexpr (op == IntOp::Not) {
      r = ~a;
    } else if constexpr (op == IntOp::Cnot) {
      r = truncateBits(a, bits) == 0 ? 1 : 0;
    } else if constexpr (op == IntOp::Shl || op == IntOp::Shr) {
      uint64_t n = src(cta, w, in, 2, lane) & 0xffffffffu;
      if constexpr (op == IntOp::Shl) {
        r = n >= bits ? 0 : a << n;
      } else if (sgn) {
        int64_t x = ext(a, bits, true);
        r = static_cast<uint64_t>(x >> std::min<uint64_t>(n, 63));
      } else {
        r = n >= bits ? 0 : truncateBits(a, bits) >> n;
      }
    } else if constexpr (op == IntOp::Lop3) {
      uint64_t b = src(cta, w, in, 2, lane), c = src(cta, w, in, 3, lane);
      uint32_t lut = in.imm;
      r = 0;
      for (unsigned m = 0; m < 8; ++m) {
        if (!(lut >> m & 1))
          continue;
        uint64_t ta = (m & 4) ? a : ~a, tb = (m & 2) ? b : ~b,
                 tc = (m & 1) ? c : ~c;
        r |= ta & tb & tc;
      }
    } else if constexpr (op == IntOp::ShfL || op == IntOp::ShfR) {
      uint64_t pair = (truncateBits(src(cta, w, in, 2, lane), 32) << 32) |
                      truncateBits(a, 32);
      uint64_t c = src(cta, w, in, 3, lane) & 0xffffffffu;
      unsigned n = in.flag ? static_cast<unsigned>(c & 31) // .wrap
                           : static_cast<unsigned>(std::min<uint64_t>(c, 32));
      r = op == IntOp::ShfL ? (pair << n) >> 32 : pair >> n;
    } else if constexpr (op == IntOp::Selp) {
      r = src(cta, w, in, 3, lane) & 1 ? a : src(cta, w, in, 2, lane);
    } else if constexpr (op == IntOp::Mov) {
      r = a;
    }
    w.reg(d, lane) = truncateBits(r, outBits);
  });
}

//===----------------------------------------------------------------------===//
// Floating point
//===----------------------------------------------------------------------===//

enum class FloatOp {
  Add,
  Sub,
  Mul,
  Fma,
  Div,
  Rcp,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Lg2,
  Ex2,
  Tanh,
  Abs,
  Neg,
  Min,
  Max,
  Copysign,
};

uint64_t canonicalNaN(Format f) {
  switch (f) {
  case Format::F16:
  case Format::BF16:
    return 0x7fff;
  case Format::F64:
    return 0x7fffffffffffffffull;
  default:
    return 0x7fffffff;
  }
}

bool isSubnormal(double v, Format f) {
  if (v == 0 || !std::isfinite(v))
    return false;
  double minNormal = f == Format::F16   ? std::ldexp(1.0, -14)
                     : f == Format::F64 ? 2.2250738585072014e-308
                                        : std::ldexp(1.0, -126);
  return std::fabs(v) < minNormal;
}

/// One element's operation; inputs exact doubles, result bits in `f`.
template <FloatOp op>
uint64_t floatElement(const Instr &in, Format f, double a, double b, double c) {
  // .ftz flushes subnormal inputs (f32 and f16 only).
  if (in.ftz) {
    if (isSubnormal(a, f))
      a = std::copysign(0.0, a);
    if (isSubnormal(b, f))
      b = std::copysign(0.0, b);
    if (isSubnormal(c, f))
      c = std::copysign(0.0, c);
  }
  Rounding mode = in.rounding;
  double hi = 0, lo = 0;
  if constexpr (op == FloatOp::Add || op == FloatOp::Sub) {
    double bb = op == FloatOp::Sub ? -b : b;
    if (f == Format::F64) {
      twoSum(a, bb, hi, lo);
    } else {
      twoSum(a, bb, hi, lo);
    }
  } else if constexpr (op == FloatOp::Mul) {
    hi = a * b; // exact for f32 and narrower
    if (f == Format::F64 && std::isfinite(hi))
      lo = std::fma(a, b, -hi);
  } else if constexpr (op == FloatOp::Fma) {
    if (f == Format::F64) {
      hi = std::fma(a, b, c); // directed modes unsupported by the decoder
    } else {
      twoSum(a * b, c, hi, lo);
    }
  } else if constexpr (op == FloatOp::Div) {
    if (f == Format::F64)
      hi = a / b, lo = std::isfinite(hi) && hi != 0
                           ? std::fma(-hi, b, a) * (b > 0 ? 1 : -1)
                           : 0;
    else
      exactQuotient(a, b, hi, lo);
  } else if constexpr (op == FloatOp::Rcp) {
    if (f == Format::F64)
      hi = 1.0 / a, lo = std::isfinite(hi) && hi != 0
                             ? std::fma(-hi, a, 1.0) * (a > 0 ? 1 : -1)
                             : 0;
    else
      exactQuotient(1.0, a, hi, lo);
  } else if constexpr (op == FloatOp::Sqrt) {
    if (f == Format::F64)
      hi = std::sqrt(a),
      lo = std::isfinite(hi) && hi != 0 ? std::fma(-hi, hi, a) : 0;
    else
      exactSqrt(a, hi, lo);
  } else if constexpr (op == FloatOp::Rsqrt) {
    hi = 1.0 / std::sqrt(a);
  } else if constexpr (op == FloatOp::Sin) {
    hi = std::sin(a);
  } else if constexpr (op == FloatOp::Cos) {
    hi = std::cos(a);
  } else if constexpr (op == FloatOp::Lg2) {
    hi = std::log2(a);
  } else if constexpr (op == FloatOp::Ex2) {
    hi = std::exp2(a);
  } else if constexpr (op == FloatOp::Tanh) {
    hi = std::tanh(a);
  } else if constexpr (op == FloatOp::Abs) {
    if (std::isnan(a))
      return canonicalNaN(f);
    hi = std::fabs(a);
  } else if constexpr (op == FloatOp::Neg) {
    if (std::isnan(a))
      return canonicalNaN(f);
    hi = -a;
  } else if constexpr (op == FloatOp::Min || op == FloatOp::Max) {
    bool nanA = std::isnan(a), nanB = std::isnan(b);
    if (nanA && nanB)
      return canonicalNaN(f);
    if (nanA || nanB) {
      if (in.nanMode)
        return canonicalNaN(f);
      hi = nanA ? b : a;
    } else if (a == b) {
      // -0 orders below +0.
      bool negA = std::signbit(a);
      hi = (op == FloatOp::Min) == negA ? a : b;
    } else {
      hi = (op == FloatOp::Min) == (a < b) ? a : b;
    }
  } else if constexpr (op == FloatOp::Copysign) {
    // copysign d, a, b: |b| with the sign of a.
    hi = std::copysign(b, a);
    if (std::isnan(b))
      return canonicalNaN(f);
  }
  if (std::isnan(hi)) // .sat flushes NaN results to +0
    return in.sat ? 0 : canonicalNaN(f);
  if (in.sat) {
    if (hi < 0 || (hi == 0 && lo < 0))
      hi = 0, lo = 0;
    else if (hi > 1 || (hi == 1 && lo > 0))
      hi = 1, lo = 0;
  }
  if (in.relu && (hi < 0 || (hi == 0 && std::signbit(hi))))
    hi = 0, lo = 0;
  uint64_t bits = roundToFormat(hi, lo, f, mode);
  if (in.ftz) {
    double result = formatToDouble(bits, f);
    if (isSubnormal(result, f))
      bits = roundToFormat(std::copysign(0.0, result), 0, f, Rounding::RN);
  }
  return bits;
}

template <FloatOp op>
void execFloat(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Format f = formatOf(in.type);
  const bool pair = in.type == Type::F16x2 || in.type == Type::BF16x2;
  const unsigned n = static_cast<unsigned>(in.operands.size());
  const uint32_t d = in.operands[0].reg;
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = src(cta, w, in, 1, lane);
    uint64_t b = n > 2 ? src(cta, w, in, 2, lane) : 0;
    uint64_t c = n > 3 ? src(cta, w, in, 3, lane) : 0;
    if (pair) {
      uint64_t result = 0;
      for (unsigned h = 0; h < 2; ++h) {
        auto half = [&](uint64_t v) {
          return formatToDouble((v >> (16 * h)) & 0xffff, f);
        };
        result |= floatElement<op>(in, f, half(a), half(b), half(c))
                  << (16 * h);
      }
      w.reg(d, lane) = result;
    } else {
      w.reg(d, lane) =
          floatElement<op>(in, f, formatToDouble(a, f), formatToDouble(b, f),
                           formatToDouble(c, f));
    }
  });
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

bool compareInt(Compare cmp, uint64_t a, uint64_t b, unsigned bits, bool sgn) {
  int64_t sa = signExtend(a, bits), sb = signExtend(b, bits);
  uint64_t ua = truncateBits(a, bits), ub = truncateBits(b, bits);
  switch (cmp) {
  case Compare::EQ:
    return ua == ub;
  case Compare::NE:
    return ua != ub;
  case Compare::LT:
    return sgn ? sa < sb : ua < ub;
  case Compare::LE:
    return sgn ? sa <= sb : ua <= ub;
  case Compare::GT:
    return sgn ? sa > sb : ua > ub;
  case Compare::GE:
    return sgn ? sa >= sb : ua >= ub;
  case Compare::LO:
    return ua < ub;
  case Compare::LS:
    return ua <= ub;
  case Compare::HI:
    return ua > ub;
  case Compare::HS:
    return ua >= ub;
  default:
    return false;
  }
}

bool compareFloat(Compare cmp, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (cmp) {
  case Compare::EQ:
    return !unordered && a == b;
  case Compare::NE:
    return !unordered && a != b;
  case Compare::LT:
    return !unordered && a < b;
  case Compare::LE:
    return !unordered && a <= b;
  case Compare::GT:
    return !unordered && a > b;
  case Compare::GE:
    return !unordered && a >= b;
  case Compare::EQU:
    return unordered || a == b;
  case Compare::NEU:
    return unordered || a != b;
  case Compare::LTU:
    return unordered || a < b;
  case Compare::LEU:
    return unordered || a <= b;
  case Compare::GTU:
    return unordered || a > b;
  case Compare::GEU:
    return unordered || a >= b;
  case Compare::NUM:
    return !unordered;
  case Compare::NAN_:
    return unordered;
  default:
    return false;
  }
}

bool combine(BoolOp op, bool value, bool c) {
  switch (op) {
  case BoolOp::And:
    return value && c;
  case BoolOp::Or:
    return value || c;
  case BoolOp::Xor:
    return value != c;
  case BoolOp::None:
    break;
  }
  return value;
}

void execSetp(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Operand &dest = in.operands[0];
  const bool floating = isFloat(in.type);
  const Format f = formatOf(in.type);
  const unsigned bits = typeBits(in.type);
  const bool sgn = isSigned(in.type);
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = src(cta, w, in, 1, lane), b = src(cta, w, in, 2, lane);
    bool value;
    if (floating) {
      double x = formatToDouble(a, f), y = formatToDouble(b, f);
      if (in.ftz) {
        if (isSubnormal(x, f))
          x = std::copysign(0.0, x);
        if (isSubnormal(y, f))
          y = std::copysign(0.0, y);
      }
      value = compareFloat(in.compare, x, y);
    } else {
      value = compareInt(in.compare, a, b, bits, sgn);
    }
    bool c = in.boolOp != BoolOp::None && (src(cta, w, in, 3, lane) & 1);
    if (dest.kind == OperandKind::Vector) {
      w.reg(dest.vec[0], lane) = combine(in.boolOp, value, c);
      w.reg(dest.vec[1], lane) = combine(in.boolOp, !value, c);
    } else {
      w.reg(dest.reg, lane) = combine(in.boolOp, value, c);
    }
  });
}

void execTestp(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Format f = formatOf(in.type);
  forLanes(mask, [&](unsigned lane) {
    double x = formatToDouble(src(cta, w, in, 1, lane), f);
    bool r = false;
    switch (in.imm) {
    case 0:
      r = std::isfinite(x);
      break;
    case 1:
      r = std::isinf(x);
      break;
    case 2:
      r = !std::isnan(x);
      break;
    case 3:
      r = std::isnan(x);
      break;
    case 4:
      r = std::isnormal(x);
      break;
    case 5:
      r = isSubnormal(x, f);
      break;
    }
    w.reg(in.operands[0].reg, lane) = r;
  });
}

/// slct.dtype.s32/f32 d, a, b, c: c >= 0 ? a : b.
void execSlct(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    uint64_t c = src(cta, w, in, 3, lane);
    bool choose = in.type2 == Type::F32 ? !(asFloat(c) < 0.0f) // -0.0 >= 0
                                        : signExtend(c, 32) >= 0;
    if (in.ftz && in.type2 == Type::F32 && isSubnormal(asFloat(c), Format::F32))
      choose = true;
    w.reg(in.operands[0].reg, lane) =
        choose ? src(cta, w, in, 1, lane) : src(cta, w, in, 2, lane);
  });
}

/// mov with a vector: pack {a, b, ...} into d, or unpack d into {a, b, ...}.
void execMovPack(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Operand &v = in.operands[1];
  const unsigned element = typeBits(in.type) / v.count;
  forLanes(mask, [&](unsigned lane) {
    uint64_t r = 0;
    for (unsigned i = 0; i < v.count; ++i)
      r |= truncateBits(w.reg(v.vec[i], lane), element) << (element * i);
    w.reg(in.operands[0].reg, lane) = r;
  });
}

void execMovUnpack(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Operand &v = in.operands[0];
  const unsigned element = typeBits(in.type) / v.count;
  forLanes(mask, [&](unsigned lane) {
    uint64_t x = src(cta, w, in, 1, lane);
    for (unsigned i = 0; i < v.count; ++i)
      if (v.vec[i] != kSinkSlot)
        w.reg(v.vec[i], lane) = truncateBits(x >> (element * i), element);
  });
}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

bool destAndSources(const Instr &in, unsigned sources) {
  if (in.operands.size() != sources + 1 || !isReg(in.operands[0]))
    return false;
  for (unsigned i = 1; i <= sources; ++i)
    if (!isRegOrImm(in.operands[i]))
      return false;
  return true;
}

bool isIntType(Type t) {
  return t != Type::None && !isFloat(t) && t != Type::B128;
}

/// Decimal floating literals were parsed as doubles; f32 instructions take
/// them rounded to f32.
void normaliseFloatImmediates(Instr &in) {
  for (Operand &op : in.operands)
    if (op.kind == OperandKind::Imm && op.symbol == "double" &&
        in.type == Type::F32)
      op.value = static_cast<int64_t>(
          roundToFormat(asDouble(static_cast<uint64_t>(op.value)), 0,
                        Format::F32, Rounding::RN));
}

template <IntOp op> bool decodeIntOp(Instr &in, Modifiers &m, unsigned srcs) {
  in.type = m.takeType();
  if (!isIntType(in.type) || !destAndSources(in, srcs))
    return false;
  in.exec = execInt<op>;
  return true;
}

template <FloatOp op>
bool decodeFloatOp(Instr &in, Modifiers &m, unsigned srcs) {
  in.rounding = m.takeRounding();
  in.ftz = m.take("ftz");
  in.sat = m.take("sat");
  in.relu = m.take("relu");
  in.nanMode = m.take("NaN");
  in.approx = m.take("approx") || m.take("full");
  in.type = m.takeType();
  if (!isFloat(in.type) || in.type == Type::TF32 || !destAndSources(in, srcs))
    return false;
  // Directed rounding of f64 fma is not modelled exactly.
  if (op == FloatOp::Fma && in.type == Type::F64 &&
      in.rounding != Rounding::RN && in.rounding != Rounding::Default)
    return false;
  if (in.rounding >= Rounding::RNA)
    return false;
  normaliseFloatImmediates(in);
  in.exec = execFloat<op>;
  return true;
}

/// add, sub, mul, mad, fma, min, max, div, abs, neg: integer or float by
/// the type suffix.
template <IntOp intOp, FloatOp floatOp>
bool decodeNumeric(Instr &in, Modifiers &m, unsigned srcs) {
  Modifiers probe = m;
  probe.takeRounding();
  probe.take("ftz");
  probe.take("sat");
  probe.take("relu");
  probe.take("NaN");
  probe.take("approx");
  probe.take("full");
  probe.take("lo");
  probe.take("hi");
  probe.take("wide");
  Type t = probe.takeType();
  if (isFloat(t))
    return decodeFloatOp<floatOp>(in, m, srcs);
  if constexpr (intOp == IntOp::MulLo || intOp == IntOp::MadLo) {
    int which = m.takeOneOf({"lo", "hi", "wide"});
    if (which < 0)
      return false;
    in.sat = m.take("sat");
    in.type = m.takeType();
    if (!isIntType(in.type) || !destAndSources(in, srcs))
      return false;
    bool mad = intOp == IntOp::MadLo;
    static const ExecFn mul[] = {execInt<IntOp::MulLo>, execInt<IntOp::MulHi>,
                                 execInt<IntOp::MulWide>};
    static const ExecFn madFns[] = {
        execInt<IntOp::MadLo>, execInt<IntOp::MadHi>, execInt<IntOp::MadWide>};
    in.exec = mad ? madFns[which] : mul[which];
    return true;
  } else {
    in.sat = m.take("sat");
    in.relu = m.take("relu");
    return decodeIntOp<intOp>(in, m, srcs);
  }
}

bool decodeAdd(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Add, FloatOp::Add>(in, m, 2);
}
bool decodeSub(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Sub, FloatOp::Sub>(in, m, 2);
}
bool decodeMul(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::MulLo, FloatOp::Mul>(in, m, 2);
}
bool decodeMad(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::MadLo, FloatOp::Fma>(in, m, 3);
}
bool decodeFma(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Fma>(in, m, 3);
}
bool decodeMin(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Min, FloatOp::Min>(in, m, 2);
}
bool decodeMax(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Max, FloatOp::Max>(in, m, 2);
}
bool decodeDiv(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Div, FloatOp::Div>(in, m, 2);
}
bool decodeRem(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Rem>(in, m, 2);
}
bool decodeAbs(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Abs, FloatOp::Abs>(in, m, 1);
}
bool decodeNeg(Instr &in, Modifiers &m) {
  return decodeNumeric<IntOp::Neg, FloatOp::Neg>(in, m, 1);
}
bool decodeMul24(Instr &in, Modifiers &m) {
  int which = m.takeOneOf({"lo", "hi"});
  in.type = m.takeType();
  if (which < 0 || (in.type != Type::U32 && in.type != Type::S32) ||
      !destAndSources(in, 2))
    return false;
  in.exec = which ? execInt<IntOp::Mul24Hi> : execInt<IntOp::Mul24Lo>;
  return true;
}
bool decodeMad24(Instr &in, Modifiers &m) {
  int which = m.takeOneOf({"lo", "hi"});
  in.type = m.takeType();
  if (which < 0 || (in.type != Type::U32 && in.type != Type::S32) ||
      !destAndSources(in, 3))
    return false;
  in.exec = which ? execInt<IntOp::Mad24Hi> : execInt<IntOp::Mad24Lo>;
  return true;
}
bool decodeSad(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Sad>(in, m, 3);
}
bool decodePopc(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Popc>(in, m, 1);
}
bool decodeClz(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Clz>(in, m, 1);
}
bool decodeBrev(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Brev>(in, m, 1);
}
bool decodeBfind(Instr &in, Modifiers &m) {
  in.flag = m.take("shiftamt");
  return decodeIntOp<IntOp::Bfind>(in, m, 1);
}
bool decodeBfe(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Bfe>(in, m, 3);
}
bool decodeBfi(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Bfi>(in, m, 4);
}
bool decodePrmt(Instr &in, Modifiers &m) {
  int mode = m.takeOneOf({"f4e", "b4e", "rc8", "ecl", "ecr", "rc16"});
  in.imm = static_cast<uint32_t>(mode + 1);
  return decodeIntOp<IntOp::Prmt>(in, m, 3);
}
bool decodeAnd(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::And>(in, m, 2);
}
bool decodeOr(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Or>(in, m, 2);
}
bool decodeXor(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Xor>(in, m, 2);
}
bool decodeNot(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Not>(in, m, 1);
}
bool decodeCnot(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Cnot>(in, m, 1);
}
bool decodeShl(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Shl>(in, m, 2);
}
bool decodeShr(Instr &in, Modifiers &m) {
  return decodeIntOp<IntOp::Shr>(in, m, 2);
}
bool decodeLop3(Instr &in, Modifiers &m) {
  in.type = m.takeType();
  if (in.type != Type::B32 || in.operands.size() != 5 ||
      !destAndSources(in, 4) || in.operands[4].kind != OperandKind::Imm)
    return false;
  in.imm = static_cast<uint32_t>(in.operands[4].value & 0xff);
  in.exec = execInt<IntOp::Lop3>;
  return true;
}
bool decodeShf(Instr &in, Modifiers &m) {
  int dir = m.takeOneOf({"l", "r"});
  int mode = m.takeOneOf({"wrap", "clamp"});
  in.type = m.takeType();
  if (dir < 0 || mode < 0 || in.type != Type::B32 || !destAndSources(in, 3))
    return false;
  in.flag = mode == 0;
  in.exec = dir == 0 ? execInt<IntOp::ShfL> : execInt<IntOp::ShfR>;
  return true;
}
bool decodeSelp(Instr &in, Modifiers &m) {
  in.type = m.takeType();
  if (in.type == Type::None || !destAndSources(in, 3))
    return false;
  normaliseFloatImmediates(in);
  in.exec = execInt<IntOp::Selp>;
  return true;
}
bool decodeSlct(Instr &in, Modifiers &m) {
  in.ftz = m.take("ftz");
  in.type = m.takeType();
  in.type2 = m.takeType();
  if (in.type == Type::None ||
      (in.type2 != Type::S32 && in.type2 != Type::F32) ||
      !destAndSources(in, 3))
    return false;
  in.exec = execSlct;
  return true;
}
bool decodeMov(Instr &in, Modifiers &m) {
  in.type = m.takeType();
  if (in.type == Type::None || in.operands.size() != 2)
    return false;
  const Operand &d = in.operands[0], &a = in.operands[1];
  if (isReg(d) && a.kind == OperandKind::Vector) {
    if (typeBits(in.type) % a.count)
      return false;
    in.exec = execMovPack;
    return true;
  }
  if (d.kind == OperandKind::Vector && isRegOrImm(a)) {
    if (typeBits(in.type) % d.count)
      return false;
    in.exec = execMovUnpack;
    return true;
  }
  if (!destAndSources(in, 1))
    return false;
  normaliseFloatImmediates(in);
  in.exec = execInt<IntOp::Mov>;
  return true;
}
bool decodeSetp(Instr &in, Modifiers &m) {
  static const char *const names[] = {"eq",  "ne",  "lt",  "le",  "gt",  "ge",
                                      "lo",  "ls",  "hi",  "hs",  "equ", "neu",
                                      "ltu", "leu", "gtu", "geu", "num", "nan"};
  int cmp = m.takeOneOf({names[0], names[1], names[2], names[3], names[4],
                         names[5], names[6], names[7], names[8], names[9],
                         names[10], names[11], names[12], names[13], names[14],
                         names[15], names[16], names[17]});
  int op = m.takeOneOf({"and", "or", "xor"});
  in.ftz = m.take("ftz");
  in.type = m.takeType();
  if (cmp < 0 || in.type == Type::None || in.type == Type::F16x2 ||
      in.type == Type::BF16x2)
    return false;
  in.compare = static_cast<Compare>(cmp);
  in.boolOp = op < 0 ? BoolOp::None : static_cast<BoolOp>(op + 1);
  size_t expected = op < 0 ? 3 : 4;
  const Operand &d = in.operands.empty() ? Operand() : in.operands[0];
  if (in.operands.size() != expected || !(isReg(d) || isVector(d, 2)))
    return false;
  for (size_t i = 1; i < expected; ++i)
    if (!isRegOrImm(in.operands[i]))
      return false;
  normaliseFloatImmediates(in);
  in.exec = execSetp;
  return true;
}
bool decodeTestp(Instr &in, Modifiers &m) {
  int which = m.takeOneOf(
      {"finite", "infinite", "number", "notanumber", "normal", "subnormal"});
  in.type = m.takeType();
  if (which < 0 || (in.type != Type::F32 && in.type != Type::F64) ||
      !destAndSources(in, 1))
    return false;
  in.imm = static_cast<uint32_t>(which);
  in.exec = execTestp;
  return true;
}
bool decodeCopysign(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Copysign>(in, m, 2);
}
bool decodeRcp(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Rcp>(in, m, 1);
}
bool decodeSqrt(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Sqrt>(in, m, 1);
}
bool decodeRsqrt(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Rsqrt>(in, m, 1);
}
bool decodeSin(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Sin>(in, m, 1);
}
bool decodeCos(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Cos>(in, m, 1);
}
bool decodeLg2(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Lg2>(in, m, 1);
}
bool decodeEx2(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Ex2>(in, m, 1);
}
bool decodeTanh(Instr &in, Modifiers &m) {
  return decodeFloatOp<FloatOp::Tanh>(in, m, 1);
}

} // namespace

void slr::sim::appendArithmeticDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {
                        {"add", decodeAdd},     {"sub", decodeSub},
                        {"mul", decodeMul},     {"mad", decodeMad},
                        {"fma", decodeFma},     {"mul24", decodeMul24},
                        {"mad24", decodeMad24}, {"sad", decodeSad},
                        {"div", decodeDiv},     {"rem", decodeRem},
                        {"abs", decodeAbs},     {"neg", decodeNeg},
                        {"min", decodeMin},     {"max", decodeMax},
                        {"popc", decodePopc},   {"clz", decodeClz},
                        {"brev", decodeBrev},   {"bfind", decodeBfind},
                        {"bfe", decodeBfe},     {"bfi", decodeBfi},
                        {"prmt", decodePrmt},   {"and", decodeAnd},
                        {"or", decodeOr},       {"xor", decodeXor},
                        {"not", decodeNot},     {"cnot", decodeCnot},
                        {"shl", decodeShl},     {"shr", decodeShr},
                        {"lop3", decodeLop3},   {"shf", decodeShf},
                        {"selp", decodeSelp},   {"slct", decodeSlct},
                        {"mov", decodeMov},     {"setp", decodeSetp},
                        {"testp", decodeTestp}, {"copysign", decodeCopysign},
                        {"rcp", decodeRcp},     {"sqrt", decodeSqrt},
                        {"rsqrt", decodeRsqrt}, {"sin", decodeSin},
                        {"cos", decodeCos},     {"lg2", decodeLg2},
                        {"ex2", decodeEx2},     {"tanh", decodeTanh},
                    });
}
