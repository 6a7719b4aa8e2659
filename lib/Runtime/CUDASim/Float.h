//===- Float.h - Exactly rounded floating point for the simulator -*- C++
//-*-===//
//
// Private to lib/Runtime/CUDASim. Every floating-point result the simulator
// produces goes through roundToFormat: the exact value is carried as an
// unevaluated sum hi + lo of two doubles (|lo| at most half an ulp of hi, so
// only lo's sign matters below hi's precision) and rounded once to the target
// format in the requested mode. Sums come from TwoSum, products of f32/f16/
// bf16 values are exact in double, quotients and square roots carry the sign
// of their exact remainder. No host rounding mode is changed.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_RUNTIME_CUDASIM_FLOAT_H
#define SLR_LIB_RUNTIME_CUDASIM_FLOAT_H

#include "Program.h"

#include <cstdint>

namespace slr::sim {

enum class Format : uint8_t { F16, BF16, TF32, F32, F64 };

/// The exact value of `bits` in `format` (NaN payloads not preserved).
double formatToDouble(uint64_t bits, Format format);

/// Rounds the exact value hi + lo to `format`. `mode` is RN, RZ, RM, RP or
/// RNA (Default means RN). NaN becomes the canonical NaN (all mantissa
/// bits set, sign clear); `satfinite` clamps infinities and overflow to the
/// largest finite value. TF32 results are returned in the low 19 bits (the
/// caller places them in bits 13..31 of the f32 container).
uint64_t roundToFormat(double hi, double lo, Format format, Rounding mode,
                       bool satfinite = false);

/// s + e = a + b exactly (TwoSum; a and b finite).
void twoSum(double a, double b, double &s, double &e);

/// Exact hi + lo of a / b and of sqrt(a) for operands of at most 24 bits of
/// precision (f32 and narrower), with IEEE special cases in hi.
void exactQuotient(double a, double b, double &hi, double &lo);
void exactSqrt(double a, double &hi, double &lo);

/// The exact value of an integer as hi + lo.
void exactInteger(int64_t value, bool isUnsigned, double &hi, double &lo);

/// Float to integer (cvt .rni/.rzi/.rmi/.rpi): NaN gives 0, values outside
/// the destination range saturate (PTX semantics). Returns raw bits.
uint64_t floatToInteger(double value, Rounding mode, Type destination);

/// Rounds to an integral value in `mode` (RNI, RZI, RMI, RPI).
double roundIntegral(double value, Rounding mode);

/// Subnormal f32 values flushed to sign-preserving zero (.ftz).
uint32_t flushSubnormalF32(uint32_t bits);

inline Format formatOf(Type type) {
  switch (type) {
  case Type::F16:
  case Type::F16x2:
    return Format::F16;
  case Type::BF16:
  case Type::BF16x2:
    return Format::BF16;
  case Type::TF32:
    return Format::TF32;
  case Type::F64:
    return Format::F64;
  default:
    return Format::F32;
  }
}

} // namespace slr::sim

#endif // SLR_LIB_RUNTIME_CUDASIM_FLOAT_H
