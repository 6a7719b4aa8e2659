//===- Conversion.cpp - cvt -----------------------------------------------===//
//
// `cvt` between every pair of integer and floating-point types the PTX ISA
// defines (fp8 and fp6/fp4 aside), with its rounding (.rn/.rz/.rm/.rp/.rna
// to a float, .rni/.rzi/.rmi/.rpi to an integer or integral float),
// saturation (.sat, and the implicit clamping of float-to-integer
// conversions), .ftz, .relu and .satfinite, and the packing forms
// `cvt.rn.{f16x2,bf16x2}.f32 d, a, b` (a in the upper half of d).
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Float.h"

#include <cmath>

using namespace slr::sim;

namespace {

bool isSubnormalF32(double v) {
  return v != 0 && std::isfinite(v) && std::fabs(v) < std::ldexp(1.0, -126);
}

/// One float-destination conversion of the exact value hi + lo.
uint64_t toFloat(const Instr &in, double hi, double lo, Type destination) {
  Format f = formatOf(destination);
  if (std::isnan(hi)) {
    uint64_t bits = roundToFormat(hi, 0, f, Rounding::RN);
    return f == Format::TF32 ? bits << 13 : bits;
  }
  if (in.sat) {
    if (hi < 0 || (hi == 0 && lo < 0))
      hi = 0, lo = 0;
    else if (hi > 1 || (hi == 1 && lo > 0))
      hi = 1, lo = 0;
  }
  if (in.relu && (hi < 0 || (hi == 0 && lo < 0)))
    hi = 0, lo = 0;
  Rounding mode = in.rounding;
  if (mode >= Rounding::RNI) {
    // Integral rounding of a float to the same or a wider float.
    hi = roundIntegral(hi, mode), lo = 0;
    mode = Rounding::RN;
  }
  uint64_t bits = roundToFormat(hi, lo, f, mode, in.satfinite);
  if (in.ftz && destination == Type::F32 &&
      isSubnormalF32(formatToDouble(bits, Format::F32)))
    bits &= 0x80000000u;
  return f == Format::TF32 ? bits << 13 : bits;
}

void execCvt(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Type dst = in.type, srcType = in.type2;
  const bool dstFloat = isFloat(dst), srcFloat = isFloat(srcType);
  const unsigned srcBits = typeBits(srcType), dstBits = typeBits(dst);
  const uint32_t d = in.operands[0].reg;
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = operandBits(cta, w, in.operands[1], lane);
    uint64_t r;
    if (srcFloat) {
      double value =
          formatToDouble(truncateBits(a, srcBits), formatOf(srcType));
      if (in.ftz && srcType == Type::F32 && isSubnormalF32(value))
        value = std::copysign(0.0, value);
      if (dstFloat)
        r = toFloat(in, value, 0, dst);
      else
        r = floatToInteger(value, in.rounding, dst);
    } else if (dstFloat) {
      double hi, lo;
      exactInteger(isSigned(srcType)
                       ? signExtend(a, srcBits)
                       : static_cast<int64_t>(truncateBits(a, srcBits)),
                   !isSigned(srcType), hi, lo);
      r = toFloat(in, hi, lo, dst);
    } else {
      // Integer to integer: extend by the source's signedness, truncate or
      // (.sat) clamp to the destination's range.
      __int128 value = isSigned(srcType)
                           ? static_cast<__int128>(signExtend(a, srcBits))
                           : static_cast<__int128>(truncateBits(a, srcBits));
      if (in.sat) {
        __int128 lowest =
            isSigned(dst) ? -(static_cast<__int128>(1) << (dstBits - 1)) : 0;
        __int128 highest = isSigned(dst)
                               ? (static_cast<__int128>(1) << (dstBits - 1)) - 1
                               : (static_cast<__int128>(1) << dstBits) - 1;
        value = value < lowest ? lowest : (value > highest ? highest : value);
      }
      r = static_cast<uint64_t>(value);
    }
    w.reg(d, lane) = truncateBits(r, dstBits);
  });
}

void execCvtPack(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const Type element = in.type == Type::F16x2 ? Type::F16 : Type::BF16;
  const uint32_t d = in.operands[0].reg;
  forLanes(mask, [&](unsigned lane) {
    double a = asFloat(operandBits(cta, w, in.operands[1], lane));
    double b = asFloat(operandBits(cta, w, in.operands[2], lane));
    uint64_t upper = toFloat(in, a, 0, element);
    uint64_t lower = toFloat(in, b, 0, element);
    w.reg(d, lane) = (upper << 16) | lower;
  });
}

bool decodeCvt(Instr &in, Modifiers &m) {
  in.rounding = m.takeRounding();
  in.ftz = m.take("ftz");
  in.sat = m.take("sat");
  in.relu = m.take("relu");
  in.satfinite = m.take("satfinite");
  in.type = m.takeType();
  in.type2 = m.takeType();
  if (in.type == Type::None || in.type2 == Type::None ||
      in.type == Type::Pred || in.type2 == Type::Pred ||
      in.type == Type::B128 || in.type2 == Type::B128)
    return false;
  const bool dstFloat = isFloat(in.type), srcFloat = isFloat(in.type2);
  if (in.type == Type::F16x2 || in.type == Type::BF16x2) {
    if (in.type2 != Type::F32 || in.operands.size() != 3 ||
        !isReg(in.operands[0]) || !isRegOrImm(in.operands[1]) ||
        !isRegOrImm(in.operands[2]) ||
        (in.rounding != Rounding::RN && in.rounding != Rounding::RZ))
      return false;
    in.exec = execCvtPack;
    return true;
  }
  if (in.type2 == Type::F16x2 || in.type2 == Type::BF16x2 ||
      in.type2 == Type::TF32 || in.operands.size() != 2 ||
      !isReg(in.operands[0]) || !isRegOrImm(in.operands[1]))
    return false;
  // The ISA's rounding rules: float to narrower float and integer to float
  // need a float rounding; float to integer an integer rounding.
  bool integral = in.rounding >= Rounding::RNI;
  if (srcFloat && !dstFloat && !integral)
    return false;
  if (!srcFloat && dstFloat && (integral || in.rounding == Rounding::Default))
    return false;
  if (srcFloat && dstFloat) {
    bool narrowing = typeBits(in.type) < typeBits(in.type2) ||
                     in.type == Type::TF32 ||
                     (in.type == Type::BF16 && in.type2 == Type::F16) ||
                     (in.type == Type::F16 && in.type2 == Type::BF16);
    if (narrowing && (in.rounding == Rounding::Default || integral))
      return false;
    if (in.rounding == Rounding::RNA && in.type != Type::TF32)
      return false;
  }
  in.exec = execCvt;
  return true;
}

} // namespace

void slr::sim::appendConversionDecoders(std::vector<DecoderEntry> &t) {
  t.push_back({"cvt", decodeCvt});
}
