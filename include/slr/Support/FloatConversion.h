//===- FloatConversion.h - fp16 / bf16 <-> fp32 conversions -----*- C++ -*-===//
//
// Bit-exact conversions between IEEE binary16, bfloat16 and binary32, shared by
// the GGUF and safetensors readers (quantised blocks carry fp16 scales) and the
// tests that build such files.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_FLOATCONVERSION_H
#define SLR_SUPPORT_FLOATCONVERSION_H

#include <cstdint>
#include <cstring>

namespace slr {

inline float bitsToFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

inline uint32_t floatToBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// IEEE binary16 -> binary32, exact for every input (subnormals, inf, NaN).
inline float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f) // Inf / NaN keep their payload.
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0)
    return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0)
    return bitsToFloat(sign);
  // Subnormal: value = mantissa * 2^-24, exactly representable in binary32.
  float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
  return sign ? -magnitude : magnitude;
}

/// binary32 -> IEEE binary16 with round-to-nearest-even; overflow gives inf.
inline uint16_t floatToHalf(float value) {
  uint32_t bits = floatToBits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t exponent = (bits >> 23) & 0xffu;
  uint32_t mantissa = bits & 0x7fffffu;
  if (exponent == 0xff) // Inf stays inf; NaN stays a (quiet) NaN.
    return sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0u);
  int32_t halfExponent = static_cast<int32_t>(exponent) - 127 + 15;
  if (halfExponent >= 0x1f)
    return sign | 0x7c00u;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa into place.
    if (halfExponent < -10)
      return sign;
    uint32_t full = mantissa | 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - halfExponent);
    uint32_t result = full >> shift;
    uint32_t remainder = full & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u)))
      ++result;
    return sign | static_cast<uint16_t>(result);
  }
  uint32_t result =
      (static_cast<uint32_t>(halfExponent) << 10) | (mantissa >> 13);
  uint32_t remainder = mantissa & 0x1fffu;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u)))
    ++result;
  return sign | static_cast<uint16_t>(result);
}

/// bfloat16 is the top half of a binary32.
inline float bfloat16ToFloat(uint16_t value) {
  return bitsToFloat(static_cast<uint32_t>(value) << 16);
}

/// binary32 -> bfloat16 with round-to-nearest-even (NaN stays NaN).
inline uint16_t floatToBfloat16(float value) {
  uint32_t bits = floatToBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  uint32_t roundingBias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + roundingBias) >> 16);
}

} // namespace slr

#endif // SLR_SUPPORT_FLOATCONVERSION_H
