//===- TensorMap.cpp - cuTensorMapEncodeTiled -----------------------------===//
//
// The checks the CUDA driver documents for cuTensorMapEncodeTiled, and the
// encoding of the map. The simulator implements tiled maps without
// interleave, with element strides 1 and zero fill; anything else is refused
// by name rather than guessed.
//
//===----------------------------------------------------------------------===//

#include "TensorMap.h"
#include "slr/Runtime/CUDASim/Simulator.h"

#include <cstring>
#include <string>

using namespace slr::sim;

namespace {

constexpr int kErrorInvalidValue = 1;
constexpr int kErrorNotSupported = 801;

Status invalid(const std::string &what) {
  return {kErrorInvalidValue, "cuTensorMapEncodeTiled: " + what};
}

/// Bytes of an element of CUtensorMapDataType `type` (0 if not
/// implemented): UINT8, UINT16, UINT32, INT32, UINT64, INT64, FLOAT16,
/// FLOAT32, FLOAT64, BFLOAT16, FLOAT32_FTZ, TFLOAT32, TFLOAT32_FTZ.
unsigned elementBytes(int type) {
  static const unsigned bytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  return type >= 0 && type < 13 ? bytes[type] : 0;
}

} // namespace

Status slr::sim::encodeTensorMapTiled(
    void *map, int dataType, uint32_t rank, void *globalAddress,
    const uint64_t *globalDim, const uint64_t *globalStrides,
    const uint32_t *boxDim, const uint32_t *elementStrides, int interleave,
    int swizzle, int l2Promotion, int oobFill) {
  if (!map || reinterpret_cast<uintptr_t>(map) % 64 != 0)
    return invalid("the tensor map must be 64-byte aligned");
  unsigned bytes = elementBytes(dataType);
  if (!bytes)
    return {kErrorNotSupported,
            "cuTensorMapEncodeTiled: the simulator does not implement data "
            "type " +
                std::to_string(dataType)};
  if (rank < 1 || rank > 5)
    return invalid("tensorRank " + std::to_string(rank) + " is not 1..5");
  if (reinterpret_cast<uintptr_t>(globalAddress) % 16 != 0)
    return invalid("globalAddress must be 16-byte aligned");
  if (interleave != 0)
    return {kErrorNotSupported,
            "cuTensorMapEncodeTiled: the simulator "
            "implements only CU_TENSOR_MAP_INTERLEAVE_NONE"};
  if (swizzle < 0 || swizzle > 3)
    return {kErrorNotSupported,
            "cuTensorMapEncodeTiled: the simulator implements the swizzle "
            "modes NONE, 32B, 64B and 128B only"};
  if (oobFill != 0)
    return {kErrorNotSupported,
            "cuTensorMapEncodeTiled: the simulator implements only "
            "CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE (zeros)"};
  if (l2Promotion < 0 || l2Promotion > 3)
    return invalid("l2Promotion " + std::to_string(l2Promotion));
  TensorMapContents c;
  std::memset(&c, 0, sizeof(c));
  c.magic = TensorMapContents::kMagic;
  c.dataType = static_cast<uint32_t>(dataType);
  c.rank = rank;
  c.elementBytes = bytes;
  c.address = reinterpret_cast<uintptr_t>(globalAddress);
  c.strides[0] = bytes;
  for (uint32_t d = 0; d < rank; ++d) {
    if (globalDim[d] == 0 || globalDim[d] > (uint64_t(1) << 32))
      return invalid("globalDim[" + std::to_string(d) + "] must be 1..2^32");
    if (boxDim[d] == 0 || boxDim[d] > 256)
      return invalid("boxDim[" + std::to_string(d) + "] must be 1..256");
    if (elementStrides[d] != 1)
      return {kErrorNotSupported,
              "cuTensorMapEncodeTiled: the simulator implements element "
              "strides of 1 only"};
    c.dims[d] = globalDim[d];
    c.box[d] = boxDim[d];
    if (d > 0) {
      uint64_t stride = globalStrides[d - 1];
      if (stride % 16 != 0 || stride >= (uint64_t(1) << 40))
        return invalid("globalStrides[" + std::to_string(d - 1) +
                       "] must be a multiple of 16 below 2^40");
      c.strides[d] = stride;
    }
  }
  uint64_t inner = uint64_t(boxDim[0]) * bytes;
  if (inner % 16 != 0)
    return invalid("boxDim[0] * element size (" + std::to_string(inner) +
                   " bytes) must be a multiple of 16 bytes");
  if (swizzle != 0 && inner > (uint64_t(16) << swizzle))
    return invalid("boxDim[0] * element size (" + std::to_string(inner) +
                   " bytes) exceeds the " + std::to_string(16 << swizzle) +
                   "-byte swizzle span");
  c.swizzle = static_cast<uint8_t>(swizzle);
  c.l2Promotion = static_cast<uint8_t>(l2Promotion);
  std::memcpy(map, &c, sizeof(c));
  return {};
}
