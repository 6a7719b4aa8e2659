//===- NMLayout.h - Packed N:M sparsity layout ------------------*- C++ -*-===//
//
// The packed N:M layout shared by the slr dialect (folders, lowerings), the
// runtime and the compression library. Plain C++, header-only.
//
// For a row of K = G*m entries split into G aligned groups of m:
//   values[g*n + t]  = t-th kept entry of group g (ascending position)
//   positions[g]     = sum_t pos_t << (t * bitsPerPosition(m))
// Kept positions: the first n non-zero entries of the group, topped up with
// the lowest-index zero entries when the group has fewer than n non-zeros.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SPARSITY_NMLAYOUT_H
#define SLR_SPARSITY_NMLAYOUT_H

#include <cstdint>

namespace slr {

/// Bits needed to encode one in-group position 0..m-1 (at least 1).
inline unsigned bitsPerPosition(unsigned m) {
  unsigned bits = 1;
  while ((1u << bits) < m)
    ++bits;
  return bits;
}

/// Selects the kept positions of one group of m entries given which entries
/// are non-zero; writes n ascending positions to `kept`.
inline void selectKeptPositions(const bool *nonZero, unsigned n, unsigned m,
                                unsigned *kept) {
  unsigned numNonZero = 0;
  for (unsigned j = 0; j < m; ++j)
    numNonZero += nonZero[j] ? 1 : 0;
  unsigned zerosToKeep = numNonZero >= n ? 0 : n - numNonZero;
  unsigned slot = 0, nonZeroSeen = 0, zeroSeen = 0;
  for (unsigned j = 0; j < m && slot < n; ++j) {
    bool keep = nonZero[j] ? nonZeroSeen++ < n : zeroSeen++ < zerosToKeep;
    if (keep)
      kept[slot++] = j;
  }
}

/// Packs n ascending positions into one integer.
inline uint64_t encodePositions(const unsigned *kept, unsigned n, unsigned m) {
  unsigned bits = bitsPerPosition(m);
  uint64_t word = 0;
  for (unsigned t = 0; t < n; ++t)
    word |= static_cast<uint64_t>(kept[t]) << (t * bits);
  return word;
}

/// Extracts the t-th position from a packed group word.
inline unsigned decodePosition(uint64_t word, unsigned t, unsigned m) {
  unsigned bits = bitsPerPosition(m);
  return static_cast<unsigned>((word >> (t * bits)) & ((1u << bits) - 1));
}

/// Packs a dense row-major rows x cols matrix (cols % m == 0). `values` gets
/// rows * cols/m*n entries, `positions` rows * cols/m words.
template <typename T, typename PosT>
void packNM(const T *dense, int64_t rows, int64_t cols, unsigned n,
            unsigned m, T *values, PosT *positions) {
  int64_t groups = cols / m;
  bool nonZero[64];
  unsigned kept[64];
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t g = 0; g < groups; ++g) {
      const T *group = dense + i * cols + g * m;
      for (unsigned j = 0; j < m; ++j)
        nonZero[j] = !(group[j] == T(0));
      selectKeptPositions(nonZero, n, m, kept);
      for (unsigned t = 0; t < n; ++t)
        values[(i * groups + g) * n + t] = group[kept[t]];
      positions[i * groups + g] =
          static_cast<PosT>(encodePositions(kept, n, m));
    }
  }
}

/// Inverse of packNM; positions outside 0..m-1 cannot occur (bits mask).
template <typename T, typename PosT>
void unpackNM(const T *values, const PosT *positions, int64_t rows,
              int64_t cols, unsigned n, unsigned m, T *dense) {
  int64_t groups = cols / m;
  for (int64_t i = 0; i < rows * cols; ++i)
    dense[i] = T(0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t g = 0; g < groups; ++g) {
      uint64_t word = static_cast<uint64_t>(positions[i * groups + g]);
      for (unsigned t = 0; t < n; ++t) {
        unsigned pos = decodePosition(word, t, m);
        if (pos < m)
          dense[i * cols + g * m + pos] = values[(i * groups + g) * n + t];
      }
    }
}

} // namespace slr

#endif // SLR_SPARSITY_NMLAYOUT_H
