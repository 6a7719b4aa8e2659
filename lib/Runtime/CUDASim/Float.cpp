//===- Float.cpp - Exactly rounded floating point for the simulator -------===//

#include "Float.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace slr::sim;

static_assert(std::numeric_limits<long double>::digits >= 64,
              "exactInteger needs a 64-bit long double significand");

namespace {

struct FormatInfo {
  int expBits;
  int mantBits;
};

FormatInfo info(Format format) {
  switch (format) {
  case Format::F16:
    return {5, 10};
  case Format::BF16:
    return {8, 7};
  case Format::TF32:
    return {8, 10};
  case Format::F32:
    return {8, 23};
  case Format::F64:
    return {11, 52};
  }
  return {8, 23};
}

double bitsToDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

uint64_t doubleToBits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

/// f64 results: hi is already the round-to-nearest double of the exact
/// value; directed modes step one ulp by the sign of lo.
uint64_t roundToF64(double hi, double lo, Rounding mode) {
  if (std::isnan(hi))
    return 0x7fffffffffffffffull;
  if (lo != 0 && std::isfinite(hi)) {
    bool negative = std::signbit(hi);
    switch (mode) {
    case Rounding::RZ:
      if ((lo < 0) != negative)
        hi = std::nextafter(hi, 0.0);
      break;
    case Rounding::RM:
      if (lo < 0)
        hi = std::nextafter(hi, -INFINITY);
      break;
    case Rounding::RP:
      if (lo > 0)
        hi = std::nextafter(hi, INFINITY);
      break;
    default:
      break;
    }
  }
  return doubleToBits(hi);
}

} // namespace

namespace {
double decode(uint64_t bits, Format format);

/// Every f16 value, decoded once (the mma path reads millions of them).
const double *halfTable() {
  static const std::vector<double> table = [] {
    std::vector<double> t(65536);
    for (uint32_t i = 0; i < 65536; ++i)
      t[i] = decode(i, Format::F16);
    return t;
  }();
  return table.data();
}

float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
} // namespace

double slr::sim::formatToDouble(uint64_t bits, Format format) {
  // bf16, tf32 and f32 are prefixes of f32: exact through a float.
  switch (format) {
  case Format::F64:
    return bitsToDouble(bits);
  case Format::F32:
    return bitsToFloat(static_cast<uint32_t>(bits));
  case Format::BF16:
    return bitsToFloat(static_cast<uint32_t>(bits & 0xffff) << 16);
  case Format::TF32:
    return bitsToFloat(static_cast<uint32_t>(bits & 0x7ffff) << 13);
  case Format::F16:
    return halfTable()[bits & 0xffff];
  }
  return decode(bits, format);
}

namespace {
double decode(uint64_t bits, Format format) {
  FormatInfo f = info(format);
  int bias = (1 << (f.expBits - 1)) - 1;
  uint64_t mantMask = (uint64_t(1) << f.mantBits) - 1;
  uint64_t exponent = (bits >> f.mantBits) & ((uint64_t(1) << f.expBits) - 1);
  uint64_t mantissa = bits & mantMask;
  bool negative = (bits >> (f.expBits + f.mantBits)) & 1;
  double value;
  if (exponent == (uint64_t(1) << f.expBits) - 1)
    value = mantissa ? NAN : INFINITY;
  else if (exponent == 0)
    value = std::ldexp(static_cast<double>(mantissa), 1 - bias - f.mantBits);
  else
    value = std::ldexp(static_cast<double>(mantissa | (mantMask + 1)),
                       static_cast<int>(exponent) - bias - f.mantBits);
  return negative ? -value : value;
}
} // namespace

uint64_t slr::sim::roundToFormat(double hi, double lo, Format format,
                                 Rounding mode, bool satfinite) {
  if (mode == Rounding::Default)
    mode = Rounding::RN;
  if (format == Format::F64)
    return roundToF64(hi, lo, mode);
  if (format == Format::F32 && mode == Rounding::RN && lo == 0 && !satfinite &&
      !std::isnan(hi)) {
    // The host's double -> float conversion rounds to nearest even,
    // subnormals included: the common case of every mma result.
    float f = static_cast<float>(hi);
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
  }
  const FormatInfo f = info(format);
  const int bias = (1 << (f.expBits - 1)) - 1;
  const uint64_t one = uint64_t(1) << f.mantBits; // implicit bit
  const uint64_t signBit = uint64_t(1) << (f.expBits + f.mantBits);
  const uint64_t expAllOnes = (uint64_t(1) << f.expBits) - 1;
  const uint64_t infBits = expAllOnes << f.mantBits;
  const uint64_t maxFinite = infBits - 1;
  if (std::isnan(hi))
    return infBits | (one - 1);
  const bool negative = std::signbit(hi);
  const uint64_t sign = negative ? signBit : 0;
  if (std::isinf(hi))
    return sign | (satfinite ? maxFinite : infBits);
  if (hi == 0)
    return sign;

  const double magnitude = std::fabs(hi);
  const double loRelative = negative ? -lo : lo; // exact = ±(mag + loRel)
  int e = 0;
  std::frexp(magnitude, &e);
  const int emin = 1 - bias;
  int exponent = e - 1;
  int quantumExp = (exponent < emin ? emin : exponent) - f.mantBits;
  double scaled = std::ldexp(magnitude, -quantumExp); // exact
  double integral = std::floor(scaled);
  double fraction = scaled - integral;
  uint64_t n = static_cast<uint64_t>(integral);

  // Where the exact value lies between n and n + 1 quanta.
  enum { Zero, BelowHalf, Half, AboveHalf } position;
  if (fraction == 0) {
    if (loRelative == 0) {
      position = Zero;
    } else if (loRelative > 0) {
      position = BelowHalf;
    } else {
      // Just below n quanta: n - 1 and almost a whole quantum. At the bottom
      // of a binade the quantum below is half as large.
      if (n == one && exponent > emin) {
        --quantumExp;
        n = 2 * n;
      }
      --n;
      position = AboveHalf;
    }
  } else if (fraction < 0.5) {
    position = BelowHalf;
  } else if (fraction == 0.5) {
    position = loRelative > 0 ? AboveHalf : (loRelative < 0 ? BelowHalf : Half);
  } else {
    position = AboveHalf;
  }

  bool increment = false;
  switch (mode) {
  case Rounding::RN:
    increment = position == AboveHalf || (position == Half && (n & 1));
    break;
  case Rounding::RNA:
    increment = position == AboveHalf || position == Half;
    break;
  case Rounding::RZ:
    break;
  case Rounding::RM:
    increment = negative && position != Zero;
    break;
  case Rounding::RP:
    increment = !negative && position != Zero;
    break;
  default:
    increment = position == AboveHalf || (position == Half && (n & 1));
    break;
  }
  n += increment ? 1 : 0;
  if (n == 0)
    return sign;
  if (n >= 2 * one) { // carried into the next binade
    n >>= 1;
    ++quantumExp;
  }
  uint64_t biased, mantissa;
  if (n >= one) {
    biased = static_cast<uint64_t>(quantumExp + f.mantBits + bias);
    mantissa = n - one;
  } else {
    biased = 0;
    mantissa = n;
  }
  if (biased >= expAllOnes) {
    bool toInfinity;
    switch (mode) {
    case Rounding::RZ:
      toInfinity = false;
      break;
    case Rounding::RM:
      toInfinity = negative;
      break;
    case Rounding::RP:
      toInfinity = !negative;
      break;
    default:
      toInfinity = true;
      break;
    }
    return sign | (toInfinity && !satfinite ? infBits : maxFinite);
  }
  return sign | (biased << f.mantBits) | mantissa;
}

void slr::sim::twoSum(double a, double b, double &s, double &e) {
  s = a + b;
  if (!std::isfinite(s)) {
    e = 0;
    return;
  }
  double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

void slr::sim::exactQuotient(double a, double b, double &hi, double &lo) {
  hi = a / b;
  lo = 0;
  if (!std::isfinite(hi) || hi == 0 || !std::isfinite(a) || !std::isfinite(b))
    return;
  // With q = RN(a / b) in double, a - q b is exactly representable.
  double remainder = std::fma(-hi, b, a);
  lo = remainder == 0 ? 0 : ((remainder > 0) == (b > 0) ? 1e-300 : -1e-300);
}

void slr::sim::exactSqrt(double a, double &hi, double &lo) {
  hi = std::sqrt(a);
  lo = 0;
  if (!std::isfinite(hi) || hi == 0)
    return;
  double remainder = std::fma(-hi, hi, a);
  lo = remainder == 0 ? 0 : (remainder > 0 ? 1e-300 : -1e-300);
}

void slr::sim::exactInteger(int64_t value, bool isUnsigned, double &hi,
                            double &lo) {
  long double exact =
      isUnsigned ? static_cast<long double>(static_cast<uint64_t>(value))
                 : static_cast<long double>(value);
  hi = static_cast<double>(exact);
  lo = static_cast<double>(exact - static_cast<long double>(hi));
}

double slr::sim::roundIntegral(double value, Rounding mode) {
  switch (mode) {
  case Rounding::RZI:
    return std::trunc(value);
  case Rounding::RMI:
    return std::floor(value);
  case Rounding::RPI:
    return std::ceil(value);
  default:
    return std::nearbyint(value); // ties to even in the default host mode
  }
}

uint64_t slr::sim::floatToInteger(double value, Rounding mode,
                                  Type destination) {
  if (std::isnan(value))
    return 0;
  double r = roundIntegral(value, mode);
  unsigned bits = typeBits(destination);
  if (isSigned(destination)) {
    double lowest = -std::ldexp(1.0, static_cast<int>(bits) - 1);
    double highest = std::ldexp(1.0, static_cast<int>(bits) - 1);
    int64_t v;
    if (r < lowest)
      v = bits == 64 ? std::numeric_limits<int64_t>::min()
                     : -(int64_t(1) << (bits - 1));
    else if (r >= highest)
      v = bits == 64 ? std::numeric_limits<int64_t>::max()
                     : (int64_t(1) << (bits - 1)) - 1;
    else
      v = static_cast<int64_t>(r);
    return static_cast<uint64_t>(v);
  }
  double highest = std::ldexp(1.0, static_cast<int>(bits));
  if (r <= 0)
    return 0;
  if (r >= highest)
    return bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  return static_cast<uint64_t>(r);
}

uint32_t slr::sim::flushSubnormalF32(uint32_t bits) {
  if ((bits & 0x7f800000u) == 0)
    return bits & 0x80000000u;
  return bits;
}
