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
// A group's word holds n * bitsPerPosition(m) <= 64 bits: patterns beyond
// that (13:32 and up, 11:64 and up) are not supported (isSupportedPattern).
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SPARSITY_NMLAYOUT_H
#define SLR_SPARSITY_NMLAYOUT_H

#include <cstdint>
#include <optional>
#include <type_traits>

namespace slr {

/// The largest group size m of the layout (packNM's per-group scratch).
inline constexpr unsigned kMaxGroupSize = 64;
/// One group's positions live in one 64-bit word (encodePositions).
inline constexpr unsigned kMaxGroupPositionBits = 64;

/// Bits needed to encode one in-group position 0..m-1 (at least 1).
inline unsigned bitsPerPosition(unsigned m) {
  unsigned bits = 1;
  while (bits < 32 && (1u << bits) < m)
    ++bits;
  return bits;
}

/// Bits that encode all n positions of one group.
inline unsigned groupPositionBits(unsigned n, unsigned m) {
  return n * bitsPerPosition(m);
}

/// The largest n whose positions fit one word for group size m (e.g. 12 for
/// m = 32: 12 x 5 = 60 bits; 13 would need 65).
inline unsigned maxKeptPerGroup(unsigned m) {
  unsigned fit = kMaxGroupPositionBits / bitsPerPosition(m);
  return m == 0 ? 0 : (fit < m - 1 ? fit : m - 1);
}

/// Whether the packed layout can hold n:m: 0 < n < m <= 64 and the n
/// positions of a group fit 64 bits. Every helper below refuses other
/// patterns instead of overflowing the word.
inline bool isSupportedPattern(unsigned n, unsigned m) {
  return n > 0 && n < m && m <= kMaxGroupSize && n <= maxKeptPerGroup(m);
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

/// Packs n ascending positions into one integer; nullopt when n:m is not a
/// supported pattern (its positions would not fit the word).
inline std::optional<uint64_t> encodePositions(const unsigned *kept, unsigned n,
                                               unsigned m) {
  if (!isSupportedPattern(n, m))
    return std::nullopt;
  unsigned bits = bitsPerPosition(m);
  uint64_t word = 0;
  for (unsigned t = 0; t < n; ++t)
    word |= static_cast<uint64_t>(kept[t]) << (t * bits);
  return word;
}

/// Extracts the t-th position from a packed group word; m (no position) when
/// slot t lies outside the word.
inline unsigned decodePosition(uint64_t word, unsigned t, unsigned m) {
  unsigned bits = bitsPerPosition(m);
  if (t * bits + bits > kMaxGroupPositionBits)
    return m;
  return static_cast<unsigned>((word >> (t * bits)) & ((1u << bits) - 1));
}

/// Whether `word` is a group word in the canonical layout of n:m: n distinct
/// ascending positions below m and zero bits above them (what packNM writes
/// and what slr.unpack / slr.linear require).
inline bool isCanonicalGroupWord(uint64_t word, unsigned n, unsigned m) {
  if (!isSupportedPattern(n, m))
    return false;
  unsigned groupBits = groupPositionBits(n, m);
  if (groupBits < 64 && (word >> groupBits) != 0)
    return false;
  for (unsigned t = 0; t < n; ++t) {
    unsigned pos = decodePosition(word, t, m);
    if (pos >= m || (t > 0 && pos <= decodePosition(word, t - 1, m)))
      return false;
  }
  return true;
}

/// Packs a dense row-major rows x cols matrix (cols % m == 0). `values` gets
/// rows * cols/m*n entries, `positions` rows * cols/m words (PosT must hold
/// groupPositionBits(n, m) bits). Returns false, writing nothing, when n:m is
/// not a supported pattern.
template <typename T, typename PosT>
bool packNM(const T *dense, int64_t rows, int64_t cols, unsigned n, unsigned m,
            T *values, PosT *positions) {
  if (!isSupportedPattern(n, m))
    return false;
  int64_t groups = cols / m;
  bool nonZero[kMaxGroupSize];
  unsigned kept[kMaxGroupSize];
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t g = 0; g < groups; ++g) {
      const T *group = dense + i * cols + g * m;
      for (unsigned j = 0; j < m; ++j)
        nonZero[j] = !(group[j] == T(0));
      selectKeptPositions(nonZero, n, m, kept);
      for (unsigned t = 0; t < n; ++t)
        values[(i * groups + g) * n + t] = group[kept[t]];
      positions[i * groups + g] =
          static_cast<PosT>(*encodePositions(kept, n, m));
    }
  }
  return true;
}

/// Inverse of packNM. Returns false, writing nothing, when n:m is not a
/// supported pattern or a group word is not canonical (duplicate,
/// descending or out-of-range positions, stray high bits).
template <typename T, typename PosT>
bool unpackNM(const T *values, const PosT *positions, int64_t rows,
              int64_t cols, unsigned n, unsigned m, T *dense) {
  if (!isSupportedPattern(n, m))
    return false;
  int64_t groups = cols / m;
  // Zero-extend: a signed PosT word with its top bit set is not negative.
  auto word = [&](int64_t i) {
    return static_cast<uint64_t>(
        static_cast<std::make_unsigned_t<PosT>>(positions[i]));
  };
  for (int64_t i = 0; i < rows * groups; ++i)
    if (!isCanonicalGroupWord(word(i), n, m))
      return false;
  for (int64_t i = 0; i < rows * cols; ++i)
    dense[i] = T(0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t g = 0; g < groups; ++g)
      for (unsigned t = 0; t < n; ++t)
        dense[i * cols + g * m + decodePosition(word(i * groups + g), t, m)] =
            values[(i * groups + g) * n + t];
  return true;
}

} // namespace slr

#endif // SLR_SPARSITY_NMLAYOUT_H
