//===- SparseLinear.cpp - slr.linear on the packed form (CPU) -------------===//
//
// The kernel reads the packed values and positions of S as they are. Per
// output feature n and block of up to 4 rows of x it walks the groups of the
// row once: for 2:4, eight groups (16 kept values, 32 columns of x) at a time
// on AVX-512 — the positions become lane indices and one two-source permute
// gathers the 16 x entries the values meet — four groups on AVX2 (two
// permutes and a blend). The low-rank term is two dense passes with the same
// row kernels: t = x·Vᵀ first, then t·U[n]ᵀ for each output, added before
// the bias. Calls with many rows of x take SparseStrategy::DenseTiles
// instead (runDenseTiles: sgemm on tiles of S decoded to dense).
//
// Determinism (packed kernels): an output element's sum runs over K in an order
// that depends only on K and the code path (two accumulators alternating over
// chunks, a fixed tail, a fixed horizontal reduction); a thread computes whole
// output columns; the row blocking of x never changes a row's arithmetic.
//
//===----------------------------------------------------------------------===//

// GCC 12's AVX-512 headers pass an undefined vector as the unused merge
// source of masked builtins and warn about it where they are inlined (GCC
// bug 105593): the warning is about the headers, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "slr/Runtime/SparseLinear.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"

#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

using namespace slr::runtime;

namespace {

// f16/bf16 weights as distinct types so overloads pick the conversion.
struct Half {
  uint16_t bits;
};
struct BFloat {
  uint16_t bits;
};
static_assert(sizeof(Half) == 2 && sizeof(BFloat) == 2);

float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

inline float toFloat(float v) { return v; }
inline float toFloat(BFloat v) {
  return bitsToFloat(static_cast<uint32_t>(v.bits) << 16);
}
inline float toFloat(Half v) {
  uint32_t sign = static_cast<uint32_t>(v.bits & 0x8000u) << 16;
  uint32_t exponent = (v.bits >> 10) & 0x1f, mantissa = v.bits & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/// The row kernels compute a block of outputs, up to kMaxBlock rows of S
/// (or of a dense weight) against up to kMaxBlock rows of x, so that each
/// chunk of x is loaded once for several weight rows and each chunk of
/// weights once for several rows of x. out[i * kMaxBlock + r] receives row i
/// of the weights against row r of x. Every output has its own accumulator,
/// fed chunk by chunk in order, then the zero-padded tail: its sum does not
/// depend on the block shape.
constexpr int kMaxBlock = 4;

template <typename T>
using SparseBlockFn = void (*)(const float *x, int64_t ldx, const T *values,
                               int64_t valueStride, const uint8_t *positions,
                               int64_t positionStride, int64_t groups,
                               unsigned keep, unsigned group, float *out);
template <typename T>
using DenseBlockFn = void (*)(const float *x, int64_t ldx, const T *w,
                              int64_t wStride, int64_t len, float *out);

//===----------------------------------------------------------------------===//
// Scalar path: any supported n:m, any position width.
//===----------------------------------------------------------------------===//

template <int NB, int MB, typename T, typename PosT>
void sparseScalar(const float *x, int64_t ldx, const T *values,
                  int64_t valueStride, const uint8_t *positionBytes,
                  int64_t positionStride, int64_t groups, unsigned keep,
                  unsigned group, float *out) {
  for (int i = 0; i < NB; ++i) {
    const auto *positions =
        reinterpret_cast<const PosT *>(positionBytes + i * positionStride);
    const T *rowValues = values + i * valueStride;
    for (int r = 0; r < MB; ++r) {
      const float *xr = x + r * ldx;
      float acc = 0.0f;
      for (int64_t g = 0; g < groups; ++g) {
        PosT word;
        std::memcpy(&word, positions + g, sizeof(PosT));
        for (unsigned t = 0; t < keep; ++t) {
          unsigned position = slr::decodePosition(word, t, group);
          // Canonical words never hold p >= m (slr.linear's contract); skip
          // rather than read outside the group if one does.
          if (position < group)
            acc += xr[g * group + position] * toFloat(rowValues[g * keep + t]);
        }
      }
      out[i * kMaxBlock + r] = acc;
    }
  }
}

template <int NB, int MB, typename T>
void denseScalar(const float *x, int64_t ldx, const T *w, int64_t wStride,
                 int64_t len, float *out) {
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r) {
      float acc = 0.0f;
      for (int64_t j = 0; j < len; ++j)
        acc += x[r * ldx + j] * toFloat(w[i * wStride + j]);
      out[i * kMaxBlock + r] = acc;
    }
}

//===----------------------------------------------------------------------===//
// AVX-512 path (2:4, one-byte positions).
//===----------------------------------------------------------------------===//

#define SLR_AVX512                                                             \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))
#define SLR_AVX2 __attribute__((target("avx2,fma,f16c")))

SLR_AVX512 inline __m512 load16(const float *p) { return _mm512_loadu_ps(p); }
SLR_AVX512 inline __m512 load16(const BFloat *p) {
  __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}
SLR_AVX512 inline __m512 load16(const Half *p) {
  return _mm512_cvtph_ps(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}

/// Lane indices into the 32 columns of eight 2:4 groups: lane 2g+t is
/// 4g + (t-th position of group g).
SLR_AVX512 inline __m512i indices16(const uint8_t *positions) {
  uint64_t word;
  std::memcpy(&word, positions, 8);
  __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(word));
  bytes = _mm_shuffle_epi8(
      bytes, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7));
  __m512i lanes = _mm512_cvtepu8_epi32(bytes);
  lanes = _mm512_srlv_epi32(
      lanes, _mm512_setr_epi32(0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2));
  lanes = _mm512_and_si512(lanes, _mm512_set1_epi32(3));
  return _mm512_add_epi32(lanes, _mm512_setr_epi32(0, 0, 4, 4, 8, 8, 12, 12, 16,
                                                   16, 20, 20, 24, 24, 28, 28));
}

/// One chunk (eight groups: 32 columns of x, 16 kept values per row of S)
/// for NB rows of S and MB rows of x; the 16 x entries a row's values meet
/// are gathered by one two-source permute.
template <int NB, int MB, typename T>
SLR_AVX512 inline void chunk512(__m512 (&acc)[NB][MB], const float *x,
                                int64_t ldx, const T *values,
                                int64_t valueStride, const uint8_t *positions,
                                int64_t positionStride) {
  __m512 low[MB], high[MB];
  for (int r = 0; r < MB; ++r) {
    low[r] = _mm512_loadu_ps(x + r * ldx);
    high[r] = _mm512_loadu_ps(x + r * ldx + 16);
  }
  for (int i = 0; i < NB; ++i) {
    __m512i index = indices16(positions + i * positionStride);
    __m512 v = load16(values + i * valueStride);
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_fmadd_ps(
          _mm512_permutex2var_ps(low[r], index, high[r]), v, acc[i][r]);
  }
}

template <int NB, int MB, typename T>
SLR_AVX512 void sparse512(const float *x, int64_t ldx, const T *values,
                          int64_t valueStride, const uint8_t *positions,
                          int64_t positionStride, int64_t groups, unsigned,
                          unsigned, float *out) {
  __m512 acc[NB][MB];
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_setzero_ps();
  int64_t g = 0;
  for (; g + 8 <= groups; g += 8)
    chunk512<NB, MB>(acc, x + 4 * g, ldx, values + 2 * g, valueStride,
                     positions + g, positionStride);
  if (g < groups) {
    // 1..7 groups left: zero-padded copies make one more chunk.
    int64_t rest = groups - g;
    alignas(64) float xs[MB][32] = {};
    alignas(64) T vals[NB][16] = {};
    alignas(64) uint8_t pos[NB][8] = {};
    for (int r = 0; r < MB; ++r)
      std::memcpy(xs[r], x + r * ldx + 4 * g, 4 * rest * sizeof(float));
    for (int i = 0; i < NB; ++i) {
      std::memcpy(vals[i], values + i * valueStride + 2 * g,
                  2 * rest * sizeof(T));
      std::memcpy(pos[i], positions + i * positionStride + g, rest);
    }
    chunk512<NB, MB>(acc, &xs[0][0], 32, &vals[0][0], 16, &pos[0][0], 8);
  }
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      out[i * kMaxBlock + r] = _mm512_reduce_add_ps(acc[i][r]);
}

/// Decodes one row of S into lane indices and f32 values, one chunk of 16
/// per eight groups (the last zero-padded), for reuse over many rows of x:
/// sparseDecoded512 then spends no shuffles on positions or conversions.
template <typename T>
SLR_AVX512 void decode512(const T *values, const uint8_t *positions,
                          int64_t groups, int32_t *indices, float *wide) {
  int64_t g = 0;
  for (; g + 8 <= groups; g += 8, indices += 16, wide += 16) {
    _mm512_storeu_si512(indices, indices16(positions + g));
    _mm512_storeu_ps(wide, load16(values + 2 * g));
  }
  if (g < groups) {
    int64_t rest = groups - g;
    alignas(64) T vals[16] = {};
    alignas(64) uint8_t pos[8] = {};
    std::memcpy(vals, values + 2 * g, 2 * rest * sizeof(T));
    std::memcpy(pos, positions + g, rest);
    _mm512_storeu_si512(indices, indices16(pos));
    _mm512_storeu_ps(wide, load16(vals));
  }
}

template <int NB, int MB>
SLR_AVX512 inline void decodedChunk512(__m512 (&acc)[NB][MB], const float *x,
                                       int64_t ldx, const int32_t *indices,
                                       const float *wide, int64_t stride) {
  __m512 low[MB], high[MB];
  for (int r = 0; r < MB; ++r) {
    low[r] = _mm512_loadu_ps(x + r * ldx);
    high[r] = _mm512_loadu_ps(x + r * ldx + 16);
  }
  for (int i = 0; i < NB; ++i) {
    __m512i index = _mm512_loadu_si512(indices + i * stride);
    __m512 v = _mm512_loadu_ps(wide + i * stride);
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_fmadd_ps(
          _mm512_permutex2var_ps(low[r], index, high[r]), v, acc[i][r]);
  }
}

/// sparse512 on decoded rows (decode512; `stride` lanes apart): the same
/// products in the same order, so the same sums bit for bit.
template <int NB, int MB>
SLR_AVX512 void sparseDecoded512(const float *x, int64_t ldx,
                                 const int32_t *indices, const float *wide,
                                 int64_t stride, int64_t groups, float *out) {
  __m512 acc[NB][MB];
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_setzero_ps();
  int64_t g = 0;
  for (; g + 8 <= groups; g += 8)
    decodedChunk512<NB, MB>(acc, x + 4 * g, ldx, indices + 2 * g, wide + 2 * g,
                            stride);
  if (g < groups) {
    alignas(64) float xs[MB][32] = {};
    for (int r = 0; r < MB; ++r)
      std::memcpy(xs[r], x + r * ldx + 4 * g, 4 * (groups - g) * sizeof(float));
    decodedChunk512<NB, MB>(acc, &xs[0][0], 32, indices + 2 * g, wide + 2 * g,
                            stride);
  }
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      out[i * kMaxBlock + r] = _mm512_reduce_add_ps(acc[i][r]);
}

template <int NB, int MB, typename T>
SLR_AVX512 inline void denseChunk512(__m512 (&acc)[NB][MB], const float *x,
                                     int64_t ldx, const T *w, int64_t wStride) {
  __m512 xs[MB];
  for (int r = 0; r < MB; ++r)
    xs[r] = _mm512_loadu_ps(x + r * ldx);
  for (int i = 0; i < NB; ++i) {
    __m512 wv = load16(w + i * wStride);
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_fmadd_ps(xs[r], wv, acc[i][r]);
  }
}

template <int NB, int MB, typename T>
SLR_AVX512 void dense512(const float *x, int64_t ldx, const T *w,
                         int64_t wStride, int64_t len, float *out) {
  __m512 acc[NB][MB];
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 16 <= len; j += 16)
    denseChunk512<NB, MB>(acc, x + j, ldx, w + j, wStride);
  if (j < len) {
    int64_t rest = len - j;
    alignas(64) float xs[MB][16] = {};
    alignas(64) T ws[NB][16] = {};
    for (int r = 0; r < MB; ++r)
      std::memcpy(xs[r], x + r * ldx + j, rest * sizeof(float));
    for (int i = 0; i < NB; ++i)
      std::memcpy(ws[i], w + i * wStride + j, rest * sizeof(T));
    denseChunk512<NB, MB>(acc, &xs[0][0], 16, &ws[0][0], 16);
  }
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      out[i * kMaxBlock + r] = _mm512_reduce_add_ps(acc[i][r]);
}

//===----------------------------------------------------------------------===//
// AVX2 path (2:4, one-byte positions).
//===----------------------------------------------------------------------===//

SLR_AVX2 inline __m256 load8(const float *p) { return _mm256_loadu_ps(p); }
SLR_AVX2 inline __m256 load8(const BFloat *p) {
  __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}
SLR_AVX2 inline __m256 load8(const Half *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

/// Lane indices for four 2:4 groups (16 columns): lanes 0-3 index the first
/// 8 columns, lanes 4-7 the second 8 (each half permuted on its own).
SLR_AVX2 inline __m256i indices8(const uint8_t *positions) {
  uint32_t word;
  std::memcpy(&word, positions, 4);
  __m128i bytes = _mm_cvtsi32_si128(static_cast<int>(word));
  bytes = _mm_shuffle_epi8(bytes, _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, -1, -1,
                                                -1, -1, -1, -1, -1, -1));
  __m256i lanes = _mm256_cvtepu8_epi32(bytes);
  lanes = _mm256_srlv_epi32(lanes, _mm256_setr_epi32(0, 2, 0, 2, 0, 2, 0, 2));
  lanes = _mm256_and_si256(lanes, _mm256_set1_epi32(3));
  return _mm256_add_epi32(lanes, _mm256_setr_epi32(0, 0, 4, 4, 0, 0, 4, 4));
}

SLR_AVX2 inline float reduce256(__m256 v) {
  __m128 sum =
      _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

/// One chunk (four groups: 16 columns, 8 kept values per row of S).
template <int NB, int MB, typename T>
SLR_AVX2 inline void chunk256(__m256 (&acc)[NB][MB], const float *x,
                              int64_t ldx, const T *values, int64_t valueStride,
                              const uint8_t *positions,
                              int64_t positionStride) {
  __m256 low[MB], high[MB];
  for (int r = 0; r < MB; ++r) {
    low[r] = _mm256_loadu_ps(x + r * ldx);
    high[r] = _mm256_loadu_ps(x + r * ldx + 8);
  }
  for (int i = 0; i < NB; ++i) {
    __m256i index = indices8(positions + i * positionStride);
    __m256 v = load8(values + i * valueStride);
    for (int r = 0; r < MB; ++r) {
      __m256 gathered =
          _mm256_blend_ps(_mm256_permutevar8x32_ps(low[r], index),
                          _mm256_permutevar8x32_ps(high[r], index), 0xF0);
      acc[i][r] = _mm256_fmadd_ps(gathered, v, acc[i][r]);
    }
  }
}

template <int NB, int MB, typename T>
SLR_AVX2 void sparse256(const float *x, int64_t ldx, const T *values,
                        int64_t valueStride, const uint8_t *positions,
                        int64_t positionStride, int64_t groups, unsigned,
                        unsigned, float *out) {
  __m256 acc[NB][MB];
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm256_setzero_ps();
  int64_t g = 0;
  for (; g + 4 <= groups; g += 4)
    chunk256<NB, MB>(acc, x + 4 * g, ldx, values + 2 * g, valueStride,
                     positions + g, positionStride);
  if (g < groups) {
    int64_t rest = groups - g;
    alignas(32) float xs[MB][16] = {};
    alignas(32) T vals[NB][8] = {};
    alignas(32) uint8_t pos[NB][4] = {};
    for (int r = 0; r < MB; ++r)
      std::memcpy(xs[r], x + r * ldx + 4 * g, 4 * rest * sizeof(float));
    for (int i = 0; i < NB; ++i) {
      std::memcpy(vals[i], values + i * valueStride + 2 * g,
                  2 * rest * sizeof(T));
      std::memcpy(pos[i], positions + i * positionStride + g, rest);
    }
    chunk256<NB, MB>(acc, &xs[0][0], 16, &vals[0][0], 8, &pos[0][0], 4);
  }
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      out[i * kMaxBlock + r] = reduce256(acc[i][r]);
}

template <int NB, int MB, typename T>
SLR_AVX2 inline void denseChunk256(__m256 (&acc)[NB][MB], const float *x,
                                   int64_t ldx, const T *w, int64_t wStride) {
  __m256 xs[MB];
  for (int r = 0; r < MB; ++r)
    xs[r] = _mm256_loadu_ps(x + r * ldx);
  for (int i = 0; i < NB; ++i) {
    __m256 wv = load8(w + i * wStride);
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm256_fmadd_ps(xs[r], wv, acc[i][r]);
  }
}

template <int NB, int MB, typename T>
SLR_AVX2 void dense256(const float *x, int64_t ldx, const T *w, int64_t wStride,
                       int64_t len, float *out) {
  __m256 acc[NB][MB];
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      acc[i][r] = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= len; j += 8)
    denseChunk256<NB, MB>(acc, x + j, ldx, w + j, wStride);
  if (j < len) {
    int64_t rest = len - j;
    alignas(32) float xs[MB][8] = {};
    alignas(32) T ws[NB][8] = {};
    for (int r = 0; r < MB; ++r)
      std::memcpy(xs[r], x + r * ldx + j, rest * sizeof(float));
    for (int i = 0; i < NB; ++i)
      std::memcpy(ws[i], w + i * wStride + j, rest * sizeof(T));
    denseChunk256<NB, MB>(acc, &xs[0][0], 8, &ws[0][0], 8);
  }
  for (int i = 0; i < NB; ++i)
    for (int r = 0; r < MB; ++r)
      out[i * kMaxBlock + r] = reduce256(acc[i][r]);
}

/// A path's kernels for every block shape up to kMaxBlock x kMaxBlock,
/// indexed [rows of weights - 1][rows of x - 1].
using DecodedBlockFn = void (*)(const float *x, int64_t ldx,
                                const int32_t *indices, const float *wide,
                                int64_t stride, int64_t groups, float *out);

template <typename T> struct BlockKernels {
  SparseBlockFn<T> sparse[kMaxBlock][kMaxBlock];
  DenseBlockFn<T> dense[kMaxBlock][kMaxBlock];
  /// Optional: decoding a row (lanes of `decodedChunk` per eight groups)
  /// and the kernels on decoded rows, for tiles with many rows of x.
  void (*decode)(const T *values, const uint8_t *positions, int64_t groups,
                 int32_t *indices, float *wide) = nullptr;
  DecodedBlockFn decoded[kMaxBlock][kMaxBlock] = {};
};

#define SLR_BLOCK_ROW(F, NB, ...)                                              \
  {                                                                            \
    F<NB, 1, __VA_ARGS__>, F<NB, 2, __VA_ARGS__>, F<NB, 3, __VA_ARGS__>,       \
        F<NB, 4, __VA_ARGS__>                                                  \
  }
#define SLR_BLOCK_TABLE(F, ...)                                                \
  {                                                                            \
    SLR_BLOCK_ROW(F, 1, __VA_ARGS__), SLR_BLOCK_ROW(F, 2, __VA_ARGS__),        \
        SLR_BLOCK_ROW(F, 3, __VA_ARGS__), SLR_BLOCK_ROW(F, 4, __VA_ARGS__)     \
  }

#define SLR_DECODED_ROW(F, NB)                                                 \
  { F<NB, 1>, F<NB, 2>, F<NB, 3>, F<NB, 4> }
#define SLR_DECODED_TABLE(F)                                                   \
  {                                                                            \
    SLR_DECODED_ROW(F, 1), SLR_DECODED_ROW(F, 2), SLR_DECODED_ROW(F, 3),       \
        SLR_DECODED_ROW(F, 4)                                                  \
  }

template <typename T, typename PosT>
const BlockKernels<T> kScalarKernels = {SLR_BLOCK_TABLE(sparseScalar, T, PosT),
                                        SLR_BLOCK_TABLE(denseScalar, T)};
template <typename T>
const BlockKernels<T> kAVX512Kernels = {
    SLR_BLOCK_TABLE(sparse512, T), SLR_BLOCK_TABLE(dense512, T), decode512<T>,
    SLR_DECODED_TABLE(sparseDecoded512)};
template <typename T>
const BlockKernels<T> kAVX2Kernels = {SLR_BLOCK_TABLE(sparse256, T),
                                      SLR_BLOCK_TABLE(dense256, T)};
#undef SLR_DECODED_TABLE
#undef SLR_DECODED_ROW
#undef SLR_BLOCK_TABLE
#undef SLR_BLOCK_ROW

//===----------------------------------------------------------------------===//
// Threads.
//===----------------------------------------------------------------------===//

/// A small persistent pool: run(count, task) calls task(0..count-1), index 0
/// on the caller, and returns when all are done. Calls are serialised.
class ThreadPool {
public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
  }

  void run(unsigned count, const std::function<void(unsigned)> &task) {
    if (count <= 1) {
      task(0);
      return;
    }
    std::lock_guard<std::mutex> callLock(callMutex);
    {
      std::unique_lock<std::mutex> lock(mutex);
      while (workers.size() + 1 < count) {
        unsigned index = static_cast<unsigned>(workers.size()) + 1;
        workers.emplace_back([this, index] { workerLoop(index); });
      }
      current = &task;
      active = count;
      pending = count - 1;
      ++generation;
    }
    wake.notify_all();
    task(0);
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return pending == 0; });
    current = nullptr;
  }

private:
  void workerLoop(unsigned index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping)
        return;
      seen = generation;
      if (index >= active)
        continue;
      const std::function<void(unsigned)> *task = current;
      lock.unlock();
      (*task)(index);
      lock.lock();
      if (--pending == 0)
        done.notify_one();
    }
  }

  std::mutex callMutex, mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(unsigned)> *current = nullptr;
  unsigned active = 0, pending = 0;
  uint64_t generation = 0;
  bool stopping = false;
};

ThreadPool &threadPool() {
  static ThreadPool pool;
  return pool;
}

/// [begin, end) of part `index` of `count` near-equal parts of [0, total).
std::pair<int64_t, int64_t> share(int64_t total, unsigned count,
                                  unsigned index) {
  int64_t base = total / count, extra = total % count;
  int64_t begin = index * base + std::min<int64_t>(index, extra);
  return {begin, begin + base + (static_cast<int64_t>(index) < extra)};
}

//===----------------------------------------------------------------------===//
// The driver.
//===----------------------------------------------------------------------===//

/// Block shape a path uses (weights rows x rows of x): as large as its
/// registers hold without spilling.
struct BlockShape {
  int weights, rows;
};

template <typename T>
void run(const SparseLinearProblem &p, const BlockKernels<T> &kernels,
         BlockShape block, unsigned threads) {
  const auto *values = static_cast<const T *>(p.values);
  const auto *u = static_cast<const T *>(p.u);
  const auto *v = static_cast<const T *>(p.v);
  const auto *bias = static_cast<const T *>(p.bias);
  const auto *positions = static_cast<const uint8_t *>(p.positions);
  int64_t groups = p.k / p.group, rowValues = groups * p.keep;
  int64_t rowPositionBytes = groups * p.positionBytes;
  auto blocks = [](int64_t total, int size) {
    return (total + size - 1) / size;
  };

  // t = x·Vᵀ, [m, rank], split over blocks of the rank.
  std::vector<float> t(p.m * p.rank);
  if (p.rank > 0) {
    int64_t rankBlocks = blocks(p.rank, block.weights);
    unsigned parts =
        static_cast<unsigned>(std::min<int64_t>(threads, rankBlocks));
    threadPool().run(parts, [&](unsigned index) {
      auto [begin, end] = share(rankBlocks, parts, index);
      float sums[kMaxBlock * kMaxBlock];
      for (int64_t jb = begin; jb < end; ++jb) {
        int64_t j = jb * block.weights;
        int nRows =
            static_cast<int>(std::min<int64_t>(block.weights, p.rank - j));
        for (int64_t m0 = 0; m0 < p.m; m0 += block.rows) {
          int rows = static_cast<int>(std::min<int64_t>(block.rows, p.m - m0));
          kernels.dense[nRows - 1][rows - 1](p.x + m0 * p.ldx, p.ldx,
                                             v + j * p.k, p.k, p.k, sums);
          for (int i = 0; i < nRows; ++i)
            for (int r = 0; r < rows; ++r)
              t[(m0 + r) * p.rank + j + i] = sums[i * kMaxBlock + r];
        }
      }
    });
  }

  // Tiles that stay in a core's L2: rows of x (kTileBytes of x) and output
  // features (kTileBytes of packed S); S streams from memory once per call.
  constexpr int64_t kTileBytes = 512 * 1024;
  int64_t xRowBytes = p.k * static_cast<int64_t>(sizeof(float));
  int64_t mTile = std::max<int64_t>(
      block.rows,
      kTileBytes / std::max<int64_t>(xRowBytes, 1) / block.rows * block.rows);
  int64_t sRowBytes =
      rowValues * static_cast<int64_t>(sizeof(T)) + rowPositionBytes;
  int64_t nTile = std::max<int64_t>(
      block.weights, kTileBytes / std::max<int64_t>(sRowBytes, 1) /
                         block.weights * block.weights);
  int64_t nBlocks = blocks(p.n, block.weights);
  unsigned parts = static_cast<unsigned>(std::min<int64_t>(threads, nBlocks));
  threadPool().run(parts, [&](unsigned index) {
    auto [blockBegin, blockEnd] = share(nBlocks, parts, index);
    int64_t begin = blockBegin * block.weights;
    int64_t end = std::min(p.n, blockEnd * block.weights);
    float sums[kMaxBlock * kMaxBlock], lowRank[kMaxBlock * kMaxBlock] = {};
    // 16 lanes per eight groups (decode512's chunks).
    int64_t decodedStride = (groups + 7) / 8 * 16;
    std::vector<int32_t> indices;
    std::vector<float> wide;
    if (kernels.decode) {
      indices.resize(block.weights * decodedStride);
      wide.resize(block.weights * decodedStride);
    }
    for (int64_t n0 = begin; n0 < end; n0 += nTile) {
      int64_t n1 = std::min(end, n0 + nTile);
      for (int64_t mt = 0; mt < p.m; mt += mTile) {
        int64_t mEnd = std::min(p.m, mt + mTile);
        // Decode a block of S once when several blocks of x rows meet it.
        bool decode = kernels.decode && mEnd - mt > 2 * block.rows;
        for (int64_t n = n0; n < n1; n += block.weights) {
          int nRows =
              static_cast<int>(std::min<int64_t>(block.weights, n1 - n));
          if (decode)
            for (int i = 0; i < nRows; ++i)
              kernels.decode(values + (n + i) * rowValues,
                             positions + (n + i) * rowPositionBytes, groups,
                             indices.data() + i * decodedStride,
                             wide.data() + i * decodedStride);
          for (int64_t m0 = mt; m0 < mEnd; m0 += block.rows) {
            int rows =
                static_cast<int>(std::min<int64_t>(block.rows, mEnd - m0));
            if (decode)
              kernels.decoded[nRows - 1][rows - 1](p.x + m0 * p.ldx, p.ldx,
                                                   indices.data(), wide.data(),
                                                   decodedStride, groups, sums);
            else
              kernels.sparse[nRows - 1][rows - 1](
                  p.x + m0 * p.ldx, p.ldx, values + n * rowValues, rowValues,
                  positions + n * rowPositionBytes, rowPositionBytes, groups,
                  p.keep, p.group, sums);
            if (p.rank > 0)
              kernels.dense[nRows - 1][rows - 1](t.data() + m0 * p.rank, p.rank,
                                                 u + n * p.rank, p.rank, p.rank,
                                                 lowRank);
            for (int i = 0; i < nRows; ++i) {
              float b = bias ? toFloat(bias[n + i]) : 0.0f;
              for (int r = 0; r < rows; ++r)
                p.y[(m0 + r) * p.ldy + n + i] =
                    (sums[i * kMaxBlock + r] + lowRank[i * kMaxBlock + r]) + b;
            }
          }
        }
      }
    }
  });
}

/// SparseStrategy::DenseTiles. Duplicate positions in a group add up, as in
/// the scalar kernel.
template <typename T, typename PosT>
void runDenseTiles(const SparseLinearProblem &p, unsigned threads) {
  const auto *values = static_cast<const T *>(p.values);
  const auto *positions = static_cast<const PosT *>(p.positions);
  int64_t groups = p.k / p.group, rowValues = groups * p.keep;
  auto widen = [](const void *data, int64_t count, std::vector<float> &wide) {
    const auto *typed = static_cast<const T *>(data);
    if constexpr (std::is_same_v<T, float>) {
      return typed;
    } else {
      wide.resize(count);
      for (int64_t i = 0; i < count; ++i)
        wide[i] = toFloat(typed[i]);
      return static_cast<const float *>(wide.data());
    }
  };

  // Rows of decoded S per tile: about 4 MiB (at least 16 rows). sgemm
  // repacks x for every tile; with 1 MiB tiles that cost 5-10% at 512 rows.
  constexpr int64_t kTileBytes = 4 << 20;
  int64_t tileRows = std::clamp<int64_t>(
      kTileBytes / std::max<int64_t>(4 * p.k, 1) / 16 * 16, 16, 4096);
  tileRows = std::min(tileRows, p.n);
  std::vector<float> tile(tileRows * p.k);
  bool twoOfFour = p.keep == 2 && p.group == 4 && sizeof(PosT) == 1;
  for (int64_t n0 = 0; n0 < p.n; n0 += tileRows) {
    int64_t rows = std::min(tileRows, p.n - n0);
    unsigned parts = static_cast<unsigned>(std::min<int64_t>(threads, rows));
    threadPool().run(parts, [&](unsigned index) {
      auto [begin, end] = share(rows, parts, index);
      for (int64_t r = begin; r < end; ++r) {
        float *dense = tile.data() + r * p.k;
        const T *rowV = values + (n0 + r) * rowValues;
        const PosT *rowP = positions + (n0 + r) * groups;
        if (twoOfFour) {
          // One pass, group by group: the generic loop's fill and
          // per-position decode were a third of the call.
          for (int64_t g = 0; g < groups; ++g) {
            float *d = dense + 4 * g;
            d[0] = d[1] = d[2] = d[3] = 0.0f;
            unsigned word = static_cast<unsigned>(rowP[g]);
            d[word & 3] += toFloat(rowV[2 * g]);
            d[(word >> 2) & 3] += toFloat(rowV[2 * g + 1]);
          }
          continue;
        }
        std::fill(dense, dense + p.k, 0.0f);
        for (int64_t g = 0; g < groups; ++g) {
          PosT word;
          std::memcpy(&word, rowP + g, sizeof(PosT));
          for (unsigned t = 0; t < p.keep; ++t) {
            unsigned position = slr::decodePosition(word, t, p.group);
            if (position < p.group)
              dense[g * p.group + position] += toFloat(rowV[g * p.keep + t]);
          }
        }
      }
    });
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p.m, rows, p.k, 1.0f,
                p.x, p.ldx, tile.data(), p.k, 0.0f, p.y + n0, p.ldy);
  }
  tile = {};

  if (p.rank > 0) {
    std::vector<float> uWide, vWide, t(p.m * p.rank);
    const float *u = widen(p.u, p.n * p.rank, uWide);
    const float *v = widen(p.v, p.rank * p.k, vWide);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p.m, p.rank, p.k, 1.0f,
                p.x, p.ldx, v, p.k, 0.0f, t.data(), p.rank);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p.m, p.n, p.rank, 1.0f,
                t.data(), p.rank, u, p.rank, 1.0f, p.y, p.ldy);
  }
  if (p.bias) {
    std::vector<float> biasWide;
    const float *bias = widen(p.bias, p.n, biasWide);
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        p.y[i * p.ldy + j] += bias[j];
  }
}

template <typename T>
void dispatchDenseTiles(const SparseLinearProblem &p, unsigned threads) {
  switch (p.positionBytes) {
  case 1:
    return runDenseTiles<T, uint8_t>(p, threads);
  case 2:
    return runDenseTiles<T, uint16_t>(p, threads);
  case 4:
    return runDenseTiles<T, uint32_t>(p, threads);
  default:
    return runDenseTiles<T, uint64_t>(p, threads);
  }
}

template <typename T>
void dispatch(const SparseLinearProblem &p, KernelPath path, unsigned threads,
              SparseStrategy strategy) {
  if (strategy == SparseStrategy::DenseTiles ||
      (strategy == SparseStrategy::Auto && prefersDenseTiles(p.m, p.n, p.k)))
    return dispatchDenseTiles<T>(p, threads);
  bool simd = p.keep == 2 && p.group == 4 && p.positionBytes == 1;
  if (simd && path == KernelPath::AVX512)
    return run<T>(p, kAVX512Kernels<T>, {4, 4}, threads);
  if (simd && path == KernelPath::AVX2)
    return run<T>(p, kAVX2Kernels<T>, {2, 2}, threads);
  BlockShape scalar = {2, 2};
  switch (p.positionBytes) {
  case 1:
    return run<T>(p, kScalarKernels<T, uint8_t>, scalar, threads);
  case 2:
    return run<T>(p, kScalarKernels<T, uint16_t>, scalar, threads);
  case 4:
    return run<T>(p, kScalarKernels<T, uint32_t>, scalar, threads);
  default:
    return run<T>(p, kScalarKernels<T, uint64_t>, scalar, threads);
  }
}

} // namespace

const char *slr::runtime::kernelPathName(KernelPath path) {
  switch (path) {
  case KernelPath::Scalar:
    return "scalar";
  case KernelPath::AVX2:
    return "avx2";
  case KernelPath::AVX512:
    return "avx512";
  }
  return "?";
}

std::optional<KernelPath>
slr::runtime::parseKernelPath(const std::string &name) {
  for (KernelPath path :
       {KernelPath::Scalar, KernelPath::AVX2, KernelPath::AVX512})
    if (name == kernelPathName(path))
      return path;
  return std::nullopt;
}

bool slr::runtime::isKernelPathSupported(KernelPath path) {
  switch (path) {
  case KernelPath::Scalar:
    return true;
  case KernelPath::AVX2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  case KernelPath::AVX512:
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") &&
           isKernelPathSupported(KernelPath::AVX2);
  }
  return false;
}

KernelPath slr::runtime::defaultKernelPath() {
  static const KernelPath path = [] {
    if (const char *forced = std::getenv("SLR_CPU_KERNEL")) {
      std::optional<KernelPath> parsed = parseKernelPath(forced);
      if (parsed && isKernelPathSupported(*parsed))
        return *parsed;
      std::fprintf(stderr,
                   "slr: SLR_CPU_KERNEL=%s is not a path this CPU runs "
                   "(scalar, avx2, avx512); using the best one\n",
                   forced);
    }
    for (KernelPath best : {KernelPath::AVX512, KernelPath::AVX2})
      if (isKernelPathSupported(best))
        return best;
    return KernelPath::Scalar;
  }();
  return path;
}

unsigned slr::runtime::defaultThreadCount() {
  static const unsigned count = [] {
    if (const char *text = std::getenv("SLR_NUM_THREADS")) {
      long parsed = std::strtol(text, nullptr, 10);
      if (parsed > 0 && parsed <= 1024)
        return static_cast<unsigned>(parsed);
    }
    return std::max(1u, std::thread::hardware_concurrency());
  }();
  return count;
}

std::string
slr::runtime::checkSparseLinearProblem(const SparseLinearProblem &p) {
  if (!isSupportedPattern(p.keep, p.group))
    return "unsupported pattern " + std::to_string(p.keep) + ":" +
           std::to_string(p.group);
  if (p.m < 0 || p.n < 0 || p.k < 0 || p.rank < 0)
    return "negative size";
  if (p.k % p.group != 0)
    return "K = " + std::to_string(p.k) + " is not a multiple of " +
           std::to_string(p.group);
  unsigned bytes = p.positionBytes;
  if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8)
    return "positions of " + std::to_string(bytes) + " bytes";
  if (groupPositionBits(p.keep, p.group) > 8 * bytes)
    return "positions of " + std::to_string(bytes) +
           " bytes cannot hold a group of " + std::to_string(p.keep) + ":" +
           std::to_string(p.group);
  if (p.m > 0 && (p.ldx < p.k || p.ldy < p.n))
    return "leading dimension below the row length";
  if ((p.m > 0 && (!p.x || !p.y)) ||
      (p.m > 0 && p.n > 0 && p.k > 0 && (!p.values || !p.positions)) ||
      (p.rank > 0 && (!p.u || !p.v)))
    return "missing operand";
  return {};
}

void slr::runtime::sparseLinear(const SparseLinearProblem &p, KernelPath path,
                                unsigned threads, SparseStrategy strategy) {
  std::string problem = checkSparseLinearProblem(p);
  if (!problem.empty() || !isKernelPathSupported(path)) {
    std::fprintf(stderr, "slr: sparse linear: %s\n",
                 problem.empty() ? "unsupported kernel path" : problem.c_str());
    std::abort();
  }
  if (p.m == 0 || p.n == 0)
    return;
  if (threads == 0)
    threads = defaultThreadCount();
  switch (p.weightType) {
  case WeightType::F32:
    return dispatch<float>(p, path, threads, strategy);
  case WeightType::F16:
    return dispatch<Half>(p, path, threads, strategy);
  case WeightType::BF16:
    return dispatch<BFloat>(p, path, threads, strategy);
  }
}

//===----------------------------------------------------------------------===//
// C ABI for compiled IR (--convert-slr-to-cpu-runtime).
//===----------------------------------------------------------------------===//

namespace {

/// f32 -> bf16/f16 bits, round to nearest even (arith.truncf's rounding).
uint16_t toBFloatBits(float f) {
  uint32_t bits = floatToBits(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40); // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t toHalfBits(float f) {
  uint32_t bits = floatToBits(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u)
    return sign | 0x7e00u;      // quiet NaN
  if (magnitude >= 0x477ff000u) // rounds to or beyond 65520: infinity
    return sign | 0x7c00u;
  if (magnitude < 0x38800000u) {
    // Below the smallest normal half: a multiple of 2^-24, rounded.
    float scaled = bitsToFloat(magnitude) * 0x1p24f;
    // Exact in f32 up to 2^10; nearbyint rounds to nearest even.
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  uint32_t exponent = (magnitude >> 23) - 112, mantissa = magnitude & 0x7fffffu;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
    ++half; // may carry into the exponent, which is right
  return sign | static_cast<uint16_t>(half);
}

inline uint16_t fromFloat(float f, BFloat *) { return toBFloatBits(f); }
inline uint16_t fromFloat(float f, Half *) { return toHalfBits(f); }

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "slr: sparse linear: %s\n", message.c_str());
  std::abort();
}

/// A row-major copy of a strided 2-D view unless its rows are already
/// contiguous; returns the data and the leading dimension.
template <typename T>
std::pair<const T *, int64_t> rows(const StridedMemRefType<T, 2> &view,
                                   std::vector<T> &copy) {
  int64_t r = view.sizes[0], c = view.sizes[1];
  const T *base = view.data + view.offset;
  if (view.strides[1] == 1 && (r <= 1 || view.strides[0] >= c))
    return {base, std::max<int64_t>(view.strides[0], c)};
  copy.resize(r * c);
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j)
      copy[i * c + j] = base[i * view.strides[0] + j * view.strides[1]];
  return {copy.data(), c};
}

template <typename T>
const T *contiguous(const StridedMemRefType<T, 2> &view, std::vector<T> &copy) {
  auto [data, ld] = rows(view, copy);
  if (ld == view.sizes[1])
    return data;
  copy.resize(view.sizes[0] * view.sizes[1]);
  for (int64_t i = 0; i < view.sizes[0]; ++i)
    std::memcpy(copy.data() + i * view.sizes[1], data + i * ld,
                view.sizes[1] * sizeof(T));
  return copy.data();
}

/// One compiled slr.linear: x, values, u, v, bias, y of element type E (f32,
/// or the f16/bf16 bit pattern), positions of P. An absent low-rank part or
/// bias is passed as an empty memref.
template <typename E, typename W, typename P>
void linearCall(StridedMemRefType<E, 2> *x, StridedMemRefType<E, 2> *values,
                StridedMemRefType<P, 2> *positions, StridedMemRefType<E, 2> *u,
                StridedMemRefType<E, 2> *v, StridedMemRefType<E, 1> *bias,
                StridedMemRefType<E, 2> *y, int64_t keep, int64_t group,
                WeightType weightType) {
  SparseLinearProblem p;
  p.m = x->sizes[0];
  p.k = x->sizes[1];
  p.n = y->sizes[1];
  p.keep = static_cast<unsigned>(keep);
  p.group = static_cast<unsigned>(group);
  p.weightType = weightType;
  p.positionBytes = sizeof(P);
  p.rank = u->sizes[0] == p.n && u->sizes[0] > 0 ? u->sizes[1] : 0;
  if (y->sizes[0] != p.m || values->sizes[0] != p.n ||
      positions->sizes[0] != p.n ||
      (group > 0 && positions->sizes[1] != p.k / group) ||
      (group > 0 && values->sizes[1] != p.k / group * keep) ||
      (p.rank > 0 && (v->sizes[0] != p.rank || v->sizes[1] != p.k)) ||
      (bias->sizes[0] != 0 && bias->sizes[0] != p.n))
    fail("operand shapes do not agree");

  std::vector<E> valuesCopy, uCopy, vCopy;
  std::vector<P> positionsCopy;
  p.values = contiguous(*values, valuesCopy);
  p.positions = contiguous(*positions, positionsCopy);
  if (p.rank > 0) {
    p.u = contiguous(*u, uCopy);
    p.v = contiguous(*v, vCopy);
  }
  std::vector<E> biasCopy;
  if (bias->sizes[0] != 0) {
    biasCopy.resize(p.n);
    for (int64_t i = 0; i < p.n; ++i)
      biasCopy[i] = bias->data[bias->offset + i * bias->strides[0]];
    p.bias = biasCopy.data();
  }

  if constexpr (std::is_same_v<E, float>) {
    std::vector<float> xCopy;
    auto [xData, ldx] = rows(*x, xCopy);
    p.x = xData;
    p.ldx = ldx;
    float *yBase = y->data + y->offset;
    bool yRows = y->strides[1] == 1 && (p.m <= 1 || y->strides[0] >= p.n);
    std::vector<float> yTemp;
    if (yRows) {
      p.y = yBase;
      p.ldy = std::max<int64_t>(y->strides[0], p.n);
    } else {
      yTemp.resize(p.m * p.n);
      p.y = yTemp.data();
      p.ldy = p.n;
    }
    if (std::string problem = checkSparseLinearProblem(p); !problem.empty())
      fail(problem);
    sparseLinear(p);
    if (!yRows)
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j)
          yBase[i * y->strides[0] + j * y->strides[1]] = yTemp[i * p.n + j];
  } else {
    // f16/bf16 activations: widen x, compute in f32, round y once (the
    // reference lowering's numerics).
    std::vector<float> xWide(p.m * p.k), yWide(p.m * p.n);
    const E *xBase = x->data + x->offset;
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.k; ++j)
        xWide[i * p.k + j] =
            toFloat(W{xBase[i * x->strides[0] + j * x->strides[1]]});
    p.x = xWide.data();
    p.ldx = p.k;
    p.y = yWide.data();
    p.ldy = p.n;
    if (std::string problem = checkSparseLinearProblem(p); !problem.empty())
      fail(problem);
    sparseLinear(p);
    E *yBase = y->data + y->offset;
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j)
        yBase[i * y->strides[0] + j * y->strides[1]] =
            fromFloat(yWide[i * p.n + j], static_cast<W *>(nullptr));
  }
}

} // namespace

// (symbol suffix, memref element, weight type, positions element, WeightType)
#define SLR_SPARSE_LINEAR_ENTRIES(X)                                           \
  X(f32_i8, float, float, int8_t, WeightType::F32)                             \
  X(f32_i16, float, float, int16_t, WeightType::F32)                           \
  X(f32_i32, float, float, int32_t, WeightType::F32)                           \
  X(f32_i64, float, float, int64_t, WeightType::F32)                           \
  X(f16_i8, uint16_t, Half, int8_t, WeightType::F16)                           \
  X(f16_i16, uint16_t, Half, int16_t, WeightType::F16)                         \
  X(f16_i32, uint16_t, Half, int32_t, WeightType::F16)                         \
  X(f16_i64, uint16_t, Half, int64_t, WeightType::F16)                         \
  X(bf16_i8, uint16_t, BFloat, int8_t, WeightType::BF16)                       \
  X(bf16_i16, uint16_t, BFloat, int16_t, WeightType::BF16)                     \
  X(bf16_i32, uint16_t, BFloat, int32_t, WeightType::BF16)                     \
  X(bf16_i64, uint16_t, BFloat, int64_t, WeightType::BF16)

#define SLR_SPARSE_LINEAR_ENTRY(NAME, E, W, P, TYPE)                           \
  extern "C" void _mlir_ciface_slr_rt_sparse_linear_##NAME(                    \
      StridedMemRefType<E, 2> *x, StridedMemRefType<E, 2> *values,             \
      StridedMemRefType<P, 2> *positions, StridedMemRefType<E, 2> *u,          \
      StridedMemRefType<E, 2> *v, StridedMemRefType<E, 1> *bias,               \
      StridedMemRefType<E, 2> *y, int64_t keep, int64_t group) {               \
    linearCall<E, W, P>(x, values, positions, u, v, bias, y, keep, group,      \
                        TYPE);                                                 \
  }
SLR_SPARSE_LINEAR_ENTRIES(SLR_SPARSE_LINEAR_ENTRY)
#undef SLR_SPARSE_LINEAR_ENTRY

std::vector<std::pair<const char *, void *>>
slr::runtime::sparseLinearSymbols() {
  return {
#define SLR_SPARSE_LINEAR_SYMBOL(NAME, E, W, P, TYPE)                          \
  {"_mlir_ciface_slr_rt_sparse_linear_" #NAME,                                 \
   reinterpret_cast<void *>(&_mlir_ciface_slr_rt_sparse_linear_##NAME)},
      SLR_SPARSE_LINEAR_ENTRIES(SLR_SPARSE_LINEAR_SYMBOL)
#undef SLR_SPARSE_LINEAR_SYMBOL
  };
}
