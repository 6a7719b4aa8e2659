//===- TensorMap.h - The simulator's CUtensorMap contents -------*- C++ -*-===//
//
// Private to lib/Runtime/CUDASim. A CUtensorMap is 128 opaque bytes; the
// simulator's cuTensorMapEncodeTiled stores this in them (with a magic
// number, so that a kernel given anything else is told so).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_RUNTIME_CUDASIM_TENSORMAP_H
#define SLR_LIB_RUNTIME_CUDASIM_TENSORMAP_H

#include <cstdint>

namespace slr::sim {

struct TensorMapContents {
  static constexpr uint32_t kMagic = 0x544d4c53; // "SLMT"
  uint32_t magic;
  uint32_t dataType; // CUtensorMapDataType
  uint32_t rank;
  uint32_t elementBytes;
  uint64_t address;
  uint64_t dims[5];    // elements, innermost first
  uint64_t strides[5]; // bytes; strides[0] is the element size
  uint32_t box[5];     // elements
  uint8_t swizzle;     // CUtensorMapSwizzle: 0 none, 1 32B, 2 64B, 3 128B
  uint8_t oobFill;     // CUtensorMapFloatOOBfill: 0 zeros
  uint8_t interleave;  // CUtensorMapInterleave: 0 none
  uint8_t l2Promotion;
};
static_assert(sizeof(TensorMapContents) == 128, "a CUtensorMap is 128 bytes");

} // namespace slr::sim

#endif // SLR_LIB_RUNTIME_CUDASIM_TENSORMAP_H
