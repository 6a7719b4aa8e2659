//===- MMALayout.h - Warp-level MMA fragment maps for slr's GPU path -*- C++ -*-===//
//
// Plain C++, header-only, no MLIR: the per-lane index maps the SLR-to-GPU
// lowering uses to feed the tensor cores from shared memory, and the
// compile-time reordering of slr's packed 2:4 positions into the metadata
// operand of `mma.sp::ordered_metadata.m16n8k32` (f16 / bf16).
//
// The kernel generator (lib/Conversion/SLRToGPU) emits exactly these maps as
// arith ops, the pass reorders constant positions with reorderMetadata(), and
// unittests/GPU checks both against the PTX ISA fragment definitions by
// simulating the 32 lanes of a warp.
//
// Conventions (PTX ISA, "Matrix fragments for mma.m16n8k16" and "for sparse
// mma.m16n8k32 with .f16/.bf16"): lane = 4 * g + t, g = lane >> 2 (groupID),
// t = lane & 3 (threadID_in_group). All operand registers hold two 16-bit
// elements (low half first).
//
//  * A (16 x 16; for the sparse op the 16 x 32 matrix compressed to 16 x 16):
//    register q (0..3) holds row g + 8 * (q & 1), columns 2t, 2t+1 plus
//    8 * (q >> 1).
//  * B (k x 8, k = 16 or 32): register q holds rows k = 8q + 2t, 8q + 2t + 1
//    of column n = g.
//  * C/D (16 x 8, f32): element e holds row g + 8 * (e >> 1), column
//    2t + (e & 1).
//  * Sparse metadata (selector 0): the lanes with t in {0, 1} supply one 32-bit
//    word: bits 0-15 describe row g, bits 16-31 row g + 8, each as four 4-bit
//    groups covering the 16 logical columns 16t .. 16t + 15 (group j at bits
//    4j; within a group bits 0-1 = first kept index, bits 2-3 = second,
//    ascending for ordered metadata) -- the same nibble slr.pack produces.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_CONVERSION_SLRTOGPU_MMALAYOUT_H
#define SLR_CONVERSION_SLRTOGPU_MMALAYOUT_H

#include <cstdint>

namespace slr {
namespace mma {

constexpr unsigned kWarpSize = 32;

/// One term of a lane map: scale * ((lane >> shift) & mask).
struct LaneField {
  unsigned shift;
  unsigned mask;
  int64_t scale;
};

/// An index computed from the lane id as a sum of bit-field terms. The kernel
/// generator emits these as shifts/ands/multiplies; tests evaluate them.
struct LaneMap {
  LaneField fields[3];
  unsigned numFields;

  constexpr int64_t eval(unsigned lane) const {
    int64_t value = 0;
    for (unsigned i = 0; i < numFields; ++i)
      value += fields[i].scale *
               static_cast<int64_t>((lane >> fields[i].shift) & fields[i].mask);
    return value;
  }
};

//===----------------------------------------------------------------------===//
// ldmatrix address maps. `ldmatrix.x4` loads four 8x8 matrices of 16-bit
// elements; lanes 8q .. 8q+7 supply the row addresses of matrix q and every
// lane receives, from matrix q, the elements (row g, columns 2t, 2t+1) in
// register q. (.x2: lanes 0-15 supply the addresses of matrices 0 and 1.)
//===----------------------------------------------------------------------===//

/// A operand (16 x 16 tile, row-major in shared memory): lane supplies the
/// address of tile element (row, col) so that matrix q is rows 8 * (q & 1),
/// columns 8 * (q >> 1): registers come out as a0..a3 in mma order.
inline constexpr LaneMap kLdmatrixARow = {{{0, 7, 1}, {3, 1, 8}}, 2};
inline constexpr LaneMap kLdmatrixACol = {{{4, 1, 8}}, 1};

/// B operand from an activation tile X[n][k] (n rows = the MMA's N dimension,
/// row-major in shared memory). Row n of the 8-row slice:
inline constexpr LaneMap kLdmatrixBRow = {{{0, 7, 1}}, 1};
/// .x4 over k = 32 (m16n8k32): matrix q is columns 8q .. 8q + 7.
inline constexpr LaneMap kLdmatrixBColX4 = {{{3, 3, 8}}, 1};
/// .x2 over k = 16 (m16n8k16): matrix q is columns 8q .. 8q + 7, q in {0, 1}
/// (lanes 16-31 repeat the addresses of lanes 0-15).
inline constexpr LaneMap kLdmatrixBColX2 = {{{3, 1, 8}}, 1};

//===----------------------------------------------------------------------===//
// Accumulators and metadata.
//===----------------------------------------------------------------------===//

/// C/D element e of a lane: row = kAccRow(lane) + 8 * (e >> 1),
/// column = kAccCol(lane) + (e & 1).
inline constexpr LaneMap kAccRow = {{{2, 7, 1}}, 1};
inline constexpr LaneMap kAccCol = {{{0, 3, 2}}, 1};

/// Metadata words per (16-row, 32-column) tile of S, one per contributing lane.
constexpr unsigned kMetaWordsPerTile = 16;

/// Which word of its tile's 16 a lane passes as the metadata operand: word
/// 2g + (t & 1). Lanes with t in {2, 3} are ignored by the hardware with
/// sparsity selector 0; they read their partner's word.
inline constexpr LaneMap kMetadataWord = {{{2, 7, 2}, {0, 1, 1}}, 2};

/// Row (within the 16-row tile) described by half `h` (0: bits 0-15, 1: bits
/// 16-31) of metadata word `w`, and the first of the four groups (of the
/// tile's eight 4-column groups) it covers.
constexpr unsigned metadataWordRow(unsigned w, unsigned h) {
  return w / 2 + 8 * h;
}
constexpr unsigned metadataWordFirstGroup(unsigned w) { return 4 * (w % 2); }

/// Position of the word for (16-row tile `nTile`, 32-column tile `kTile`,
/// word `w`) in the reordered buffer, laid out [N/16][K/32][16].
constexpr int64_t metadataWordIndex(int64_t nTile, int64_t kTile,
                                    int64_t numKTiles, unsigned w) {
  return (nTile * numKTiles + kTile) * kMetaWordsPerTile + w;
}

/// Number of 32-bit words of the reordered metadata of an N x K matrix.
constexpr int64_t metadataWordCount(int64_t rows, int64_t cols) {
  return rows / 16 * (cols / 32) * kMetaWordsPerTile;
}

/// True if a 2:4 group nibble is valid for ordered metadata: two distinct
/// ascending positions (bits 0-1 < bits 2-3).
constexpr bool isOrderedNibble(unsigned nibble) {
  return (nibble & 3u) < ((nibble >> 2) & 3u);
}

/// Builds metadata word `w` of tile (nTile, kTile) from slr's packed 2:4
/// positions (row-major [rows][groupsPerRow], one group per element, bits 0-3
/// = the group's nibble, see slr.pack).
template <typename PosT>
uint32_t buildMetadataWord(const PosT *positions, int64_t groupsPerRow,
                           int64_t nTile, int64_t kTile, unsigned w) {
  uint32_t word = 0;
  for (unsigned h = 0; h < 2; ++h) {
    int64_t row = nTile * 16 + metadataWordRow(w, h);
    int64_t group = kTile * 8 + metadataWordFirstGroup(w);
    for (unsigned j = 0; j < 4; ++j) {
      uint32_t nibble =
          static_cast<uint32_t>(positions[row * groupsPerRow + group + j]) &
          0xFu;
      word |= nibble << (16 * h + 4 * j);
    }
  }
  return word;
}

/// Reorders the packed positions of a rows x cols 2:4 matrix (rows % 16 == 0,
/// cols % 32 == 0) into the [rows/16][cols/32][16] metadata word layout.
/// Returns false, with the first offending (row, group), if a group is not
/// strictly ascending -- ordered metadata would be undefined behaviour.
template <typename PosT>
bool reorderMetadata(const PosT *positions, int64_t rows, int64_t cols,
                     uint32_t *words, int64_t *badRow = nullptr,
                     int64_t *badGroup = nullptr) {
  int64_t groupsPerRow = cols / 4;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groupsPerRow; ++g)
      if (!isOrderedNibble(
              static_cast<unsigned>(positions[r * groupsPerRow + g]) & 0xFu)) {
        if (badRow)
          *badRow = r;
        if (badGroup)
          *badGroup = g;
        return false;
      }
  int64_t numKTiles = cols / 32;
  for (int64_t nt = 0; nt < rows / 16; ++nt)
    for (int64_t kt = 0; kt < numKTiles; ++kt)
      for (unsigned w = 0; w < kMetaWordsPerTile; ++w)
        words[metadataWordIndex(nt, kt, numKTiles, w)] =
            buildMetadataWord(positions, groupsPerRow, nt, kt, w);
  return true;
}

} // namespace mma
} // namespace slr

#endif // SLR_CONVERSION_SLRTOGPU_MMALAYOUT_H
