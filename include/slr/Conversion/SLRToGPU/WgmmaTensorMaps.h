//===- WgmmaTensorMaps.h - The TMA maps of wgmma_sp_sm90a ------*- C++ -*-===//
//
// Plain C++, header-only, no MLIR: the CTA tile of the sm_90a kernel and
// the 2-D tensor maps its launch encodes (cuTensorMapEncodeTiled), shared
// by the kernel generator (lib/Conversion/SLRToGPU), the launchers it
// materializes and slr-bench-gpu, so that the boxes and swizzles the kernel
// assumes are stated once.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_CONVERSION_SLRTOGPU_WGMMATENSORMAPS_H
#define SLR_CONVERSION_SLRTOGPU_WGMMATENSORMAPS_H

#include <cstdint>
#include <vector>

namespace slr {
namespace wgmma {

/// The CTA tile of wgmma_sp_sm90a: 128 rows of S (two consumer warpgroups
/// of 64, the wgmma M) by 128 rows of x (the wgmma N), K in blocks of 64
/// (two m64n128k32 sparse steps), the rank in blocks of 64 (four dense
/// m64n128k16 steps).
inline constexpr int64_t kTileN = 128;
inline constexpr int64_t kTileM = 128;
inline constexpr int64_t kTileK = 64;
inline constexpr int64_t kRankBlock = 64;

/// Slots of the maps the kernel reads (memref<Mapsx16xi64>, 128 bytes
/// each): x, S values, metadata words, then U and t with a low-rank part.
enum TensorMapSlot : int64_t { kMapX, kMapS, kMapMeta, kMapU, kMapT };

/// CUtensorMapSwizzle values the maps use.
inline constexpr int64_t kSwizzleNone = 0, kSwizzle64B = 2, kSwizzle128B = 3;

/// One map: a row-major [rows, cols] tensor in boxes of boxRows x boxCols.
/// `rowsAreM`: the tensor has one row per row of x (x, t), so its row count
/// is the call's M; otherwise `rows`. `words`: the metadata words (u32),
/// else the layer's element type.
struct TensorMap {
  TensorMapSlot slot;
  bool rowsAreM;
  int64_t rows, cols, boxRows, boxCols, swizzle;
  bool words;
};

/// The maps of an [n, k] layer of rank `rank` (0: sparse only).
inline std::vector<TensorMap> tensorMaps(int64_t n, int64_t k, int64_t rank) {
  std::vector<TensorMap> maps = {
      {kMapX, true, 0, k, kTileM, kTileK, kSwizzle128B, false},
      // Packed values: K/2 per row of S, 64 bytes per K block.
      {kMapS, false, n, k / 2, kTileN, kTileK / 2, kSwizzle64B, false},
      // The metadata tiles (16 rows of S each) as rows of an [N/16, K/2]
      // u32 tensor: the CTA's 8 tiles per K block.
      {kMapMeta, false, n / 16, k / 2, kTileN / 16, kTileK / 2, kSwizzleNone,
       true}};
  if (rank) {
    maps.push_back(
        {kMapU, false, n, rank, kTileN, kRankBlock, kSwizzle128B, false});
    maps.push_back(
        {kMapT, true, 0, rank, kTileM, kRankBlock, kSwizzle128B, false});
  }
  return maps;
}

} // namespace wgmma
} // namespace slr

#endif // SLR_CONVERSION_SLRTOGPU_WGMMATENSORMAPS_H
