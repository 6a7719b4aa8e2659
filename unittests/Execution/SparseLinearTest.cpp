//===- SparseLinearTest.cpp - the packed slr.linear CPU kernel ------------===//
//
// Every code path against a float64 reference on the unpacked matrices, on
// constructed data: random n:m masks, weights exactly representable in
// f16 and bf16 (so all storage types compute the same product), shapes that
// leave every tail (groups, rank, rows of x) partial.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/SparseLinear.h"
#include "slr/Runtime/CPURuntime.h"
#include "slr/Sparsity/NMLayout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

extern "C" void _mlir_ciface_slr_rt_sparse_linear_f32_i8(
    StridedMemRefType<float, 2> *, StridedMemRefType<float, 2> *,
    StridedMemRefType<int8_t, 2> *, StridedMemRefType<float, 2> *,
    StridedMemRefType<float, 2> *, StridedMemRefType<float, 1> *,
    StridedMemRefType<float, 2> *, int64_t, int64_t);
extern "C" void _mlir_ciface_slr_rt_sparse_linear_bf16_i16(
    StridedMemRefType<uint16_t, 2> *, StridedMemRefType<uint16_t, 2> *,
    StridedMemRefType<int16_t, 2> *, StridedMemRefType<uint16_t, 2> *,
    StridedMemRefType<uint16_t, 2> *, StridedMemRefType<uint16_t, 1> *,
    StridedMemRefType<uint16_t, 2> *, int64_t, int64_t);

using namespace slr;
using namespace slr::runtime;

namespace {

uint32_t bitsOf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

/// bf16 / f16 bits of a value that both represent exactly (see exactValue).
uint16_t bfloatBits(float f) { return static_cast<uint16_t>(bitsOf(f) >> 16); }
uint16_t halfBits(float f) {
  if (f == 0.0f)
    return 0;
  uint32_t bits = bitsOf(f);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t exponent = ((bits >> 23) & 0xff) - 112;
  return sign |
         static_cast<uint16_t>((exponent << 10) | ((bits & 0x7fffffu) >> 13));
}

/// j/64 for j in [-128, 128]: at most 8 significant bits, a normal number in
/// f16 and bf16.
float exactValue(std::mt19937 &rng) {
  std::uniform_int_distribution<int> dist(-128, 128);
  return static_cast<float>(dist(rng)) / 64.0f;
}

/// A constructed layer: S (dense, n:m), its packed form, U, V, bias.
struct Layer {
  int64_t n, k, rank;
  unsigned keep, group;
  bool hasBias;
  std::vector<float> dense, values, u, v, bias;
  std::vector<uint64_t> positions; // one word per group
};

Layer makeLayer(std::mt19937 &rng, int64_t n, int64_t k, int64_t rank,
                bool hasBias, unsigned keep = 2, unsigned group = 4) {
  Layer layer{n, k, rank, keep, group, hasBias, {}, {}, {}, {}, {}, {}};
  layer.dense.assign(n * k, 0.0f);
  std::vector<unsigned> order(group);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t g = 0; g < k / group; ++g) {
      for (unsigned j = 0; j < group; ++j)
        order[j] = j;
      std::shuffle(order.begin(), order.end(), rng);
      for (unsigned t = 0; t < keep; ++t)
        layer.dense[i * k + g * group + order[t]] = exactValue(rng);
    }
  layer.values.resize(n * (k / group) * keep);
  layer.positions.resize(n * (k / group));
  EXPECT_TRUE(packNM(layer.dense.data(), n, k, keep, group, layer.values.data(),
                     layer.positions.data()));
  for (int64_t i = 0; i < n * rank; ++i)
    layer.u.push_back(exactValue(rng));
  for (int64_t i = 0; i < rank * k; ++i)
    layer.v.push_back(exactValue(rng));
  if (hasBias)
    for (int64_t i = 0; i < n; ++i)
      layer.bias.push_back(exactValue(rng));
  return layer;
}

std::vector<float> makeInput(std::mt19937 &rng, int64_t m, int64_t ld) {
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(m * ld);
  for (float &value : x)
    value = dist(rng);
  return x;
}

/// The problem with weights stored as `type` (all buffers owned here).
struct Stored {
  std::vector<uint16_t> values16, u16, v16, bias16;
  std::vector<uint8_t> positions;
  SparseLinearProblem problem;
};

void store(const Layer &layer, WeightType type, unsigned positionBytes,
           Stored &out) {
  SparseLinearProblem &p = out.problem;
  p.n = layer.n;
  p.k = layer.k;
  p.rank = layer.rank;
  p.keep = layer.keep;
  p.group = layer.group;
  p.weightType = type;
  p.positionBytes = positionBytes;
  out.positions.assign(layer.positions.size() * positionBytes, 0);
  for (size_t i = 0; i < layer.positions.size(); ++i)
    std::memcpy(out.positions.data() + i * positionBytes, &layer.positions[i],
                positionBytes); // little-endian
  p.positions = out.positions.data();
  auto convert = [&](const std::vector<float> &from,
                     std::vector<uint16_t> &to) -> const void * {
    if (type == WeightType::F32)
      return from.empty() ? nullptr : from.data();
    to.clear();
    for (float f : from)
      to.push_back(type == WeightType::BF16 ? bfloatBits(f) : halfBits(f));
    return to.empty() ? nullptr : to.data();
  };
  p.values = convert(layer.values, out.values16);
  p.u = convert(layer.u, out.u16);
  p.v = convert(layer.v, out.v16);
  p.bias = layer.hasBias ? convert(layer.bias, out.bias16) : nullptr;
}

/// Float64 reference on the dense S; `bound` gets a float32 rounding bound
/// per element (sum of |terms| times (K + r + 3)·2^-24, generous in r for t).
std::vector<double> reference(const Layer &layer, const float *x, int64_t m,
                              int64_t ldx, std::vector<double> &bound) {
  std::vector<double> y(m * layer.n);
  bound.assign(m * layer.n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    std::vector<double> t(layer.rank), tAbs(layer.rank);
    for (int64_t j = 0; j < layer.rank; ++j)
      for (int64_t c = 0; c < layer.k; ++c) {
        double term = double(x[i * ldx + c]) * layer.v[j * layer.k + c];
        t[j] += term;
        tAbs[j] += std::fabs(term);
      }
    for (int64_t o = 0; o < layer.n; ++o) {
      double sum = layer.hasBias ? layer.bias[o] : 0.0;
      double magnitude = std::fabs(sum);
      for (int64_t c = 0; c < layer.k; ++c) {
        double term = double(x[i * ldx + c]) * layer.dense[o * layer.k + c];
        sum += term;
        magnitude += std::fabs(term);
      }
      for (int64_t j = 0; j < layer.rank; ++j) {
        sum += t[j] * layer.u[o * layer.rank + j];
        magnitude +=
            (tAbs[j] * (layer.k + 2)) * std::fabs(layer.u[o * layer.rank + j]);
      }
      y[i * layer.n + o] = sum;
      bound[i * layer.n + o] =
          magnitude * (layer.k + layer.rank + 3) * std::ldexp(1.0, -24) + 1e-30;
    }
  }
  return y;
}

const WeightType kWeightTypes[] = {WeightType::F32, WeightType::F16,
                                   WeightType::BF16};
const KernelPath kPaths[] = {KernelPath::Scalar, KernelPath::AVX2,
                             KernelPath::AVX512};

const SparseStrategy kStrategies[] = {SparseStrategy::Packed,
                                      SparseStrategy::DenseTiles};

const char *strategyName(SparseStrategy strategy) {
  return strategy == SparseStrategy::Packed ? "packed" : "dense-tiles";
}

const char *typeName(WeightType type) {
  return type == WeightType::F32   ? "f32"
         : type == WeightType::F16 ? "f16"
                                   : "bf16";
}

struct Shape {
  int64_t m, n, k, rank;
  bool bias;
};

// Group counts around the SIMD chunks (8 and 16 groups on AVX-512, 4 and 8
// on AVX2) with every tail, ranks around 8/16/32, rows of x around the
// blocks of 4, M = 1.
const Shape kShapes[] = {
    {1, 1, 4, 0, false},     {1, 7, 28, 3, true},   {3, 5, 32, 8, false},
    {4, 9, 64, 16, true},    {5, 16, 96, 17, true}, {1, 13, 124, 31, false},
    {17, 11, 132, 33, true}, {2, 3, 260, 1, true},  {9, 24, 512, 64, false},
    {6, 2, 1028, 5, true},   {64, 5, 36, 0, false}, {70, 9, 132, 5, true},
    {97, 4, 260, 16, true},
};

TEST(SparseLinear, EveryPathAndStorageTypeMatchesTheDenseReference) {
  std::mt19937 rng(17);
  for (const Shape &shape : kShapes) {
    Layer layer = makeLayer(rng, shape.n, shape.k, shape.rank, shape.bias);
    int64_t ldx = shape.k + 3; // a leading dimension above K
    std::vector<float> x = makeInput(rng, shape.m, ldx);
    std::vector<double> bound;
    std::vector<double> expected =
        reference(layer, x.data(), shape.m, ldx, bound);
    for (KernelPath path : kPaths) {
      if (!isKernelPathSupported(path)) {
        std::printf("[ SKIPPED  ] %s: this CPU lacks it\n",
                    kernelPathName(path));
        continue;
      }
      for (WeightType type : kWeightTypes)
        for (SparseStrategy strategy : kStrategies) {
          Stored stored;
          store(layer, type, 1, stored);
          SparseLinearProblem &p = stored.problem;
          p.m = shape.m;
          p.x = x.data();
          p.ldx = ldx;
          int64_t ldy = shape.n + 1;
          std::vector<float> y(shape.m * ldy, -7.0f);
          p.y = y.data();
          p.ldy = ldy;
          ASSERT_EQ(checkSparseLinearProblem(p), "");
          sparseLinear(p, path, 2, strategy);
          for (int64_t i = 0; i < shape.m; ++i) {
            for (int64_t o = 0; o < shape.n; ++o)
              ASSERT_NEAR(y[i * ldy + o], expected[i * shape.n + o],
                          bound[i * shape.n + o])
                  << kernelPathName(path) << " " << typeName(type) << " "
                  << strategyName(strategy) << " m=" << i << " n=" << o
                  << " shape " << shape.m << "x" << shape.n << "x" << shape.k
                  << " r" << shape.rank;
            EXPECT_EQ(y[i * ldy + shape.n], -7.0f) << "wrote past the row";
          }
        }
    }
  }
}

/// Calls `check(path, type, problem)` for every supported kernel path and
/// weight type with `layer` stored in that type and the problem set up for
/// the m rows of `x` (y unset).
template <typename Check>
void forEveryPathAndType(const Layer &layer, int64_t m,
                         const std::vector<float> &x, Check check) {
  for (KernelPath path : kPaths) {
    if (!isKernelPathSupported(path))
      continue;
    for (WeightType type : kWeightTypes) {
      Stored stored;
      store(layer, type, 1, stored);
      SparseLinearProblem p = stored.problem;
      p.m = m;
      p.x = x.data();
      p.ldx = layer.k;
      p.ldy = layer.n;
      check(path, type, p);
    }
  }
}

// The sum of an output element does not depend on the thread count, on M
// or on where the row falls in the blocks of 4: bit for bit.
TEST(SparseLinear, ResultsAreBitwiseIndependentOfThreadsAndRows) {
  std::mt19937 rng(5);
  Layer layer = makeLayer(rng, 37, 388, 20, true);
  int64_t m = 11;
  std::vector<float> x = makeInput(rng, m, layer.k);
  forEveryPathAndType(
      layer, m, x,
      [&](KernelPath path, WeightType type, SparseLinearProblem p) {
        std::vector<float> first(m * layer.n);
        p.y = first.data();
        sparseLinear(p, path, 1, SparseStrategy::Packed);
        for (unsigned threads : {2u, 3u, 8u}) {
          std::vector<float> again(m * layer.n);
          p.y = again.data();
          sparseLinear(p, path, threads, SparseStrategy::Packed);
          EXPECT_EQ(std::memcmp(first.data(), again.data(), 4 * first.size()),
                    0)
              << kernelPathName(path) << " " << typeName(type) << " threads "
              << threads;
        }
        for (int64_t i = 0; i < m; ++i) {
          SparseLinearProblem one = p;
          std::vector<float> row(layer.n);
          one.m = 1;
          one.x = x.data() + i * layer.k;
          one.y = row.data();
          sparseLinear(one, path, 2, SparseStrategy::Packed);
          EXPECT_EQ(
              std::memcmp(row.data(), first.data() + i * layer.n, 4 * layer.n),
              0)
              << kernelPathName(path) << " " << typeName(type) << " row " << i;
        }
      });
}

// Many rows of x: tiles of rows, S decoded once per block and tile; a row's
// sums still do not depend on the thread count or on where the row falls
// among the tiles and blocks.
TEST(SparseLinear, ManyRowsAreBitwiseIndependentOfThreadsAndTiles) {
  std::mt19937 rng(7);
  Layer layer = makeLayer(rng, 13, 292, 9, true);
  int64_t m = 100;
  std::vector<float> x = makeInput(rng, m, layer.k);
  forEveryPathAndType(
      layer, m, x,
      [&](KernelPath path, WeightType type, SparseLinearProblem p) {
        std::vector<float> first(m * layer.n), again(m * layer.n);
        p.y = first.data();
        sparseLinear(p, path, 1, SparseStrategy::Packed);
        p.y = again.data();
        sparseLinear(p, path, 3, SparseStrategy::Packed);
        EXPECT_EQ(std::memcmp(first.data(), again.data(), 4 * first.size()), 0)
            << kernelPathName(path) << " " << typeName(type);
        // Rows 5..84 as a call of their own: shifted against the blocks.
        SparseLinearProblem part = p;
        std::vector<float> rows(80 * layer.n);
        part.m = 80;
        part.x = x.data() + 5 * layer.k;
        part.y = rows.data();
        sparseLinear(part, path, 2, SparseStrategy::Packed);
        EXPECT_EQ(std::memcmp(rows.data(), first.data() + 5 * layer.n,
                              4 * rows.size()),
                  0)
            << kernelPathName(path) << " " << typeName(type);
      });
}

// Many rows of x take the dense tiles (Auto from kDenseTilesMinRows): the
// same sums whatever the thread count, and near the packed kernel's.
TEST(SparseLinear, DenseTilesAreIndependentOfThreadsAndChosenForManyRows) {
  // Auto's choice on the shapes BENCHMARKS.md measured.
  EXPECT_TRUE(prefersDenseTiles(512, 14336, 4096));
  EXPECT_TRUE(prefersDenseTiles(128, 1536, 576));
  EXPECT_FALSE(prefersDenseTiles(128, 4096, 4096));
  EXPECT_FALSE(prefersDenseTiles(127, 576, 576));
  EXPECT_FALSE(prefersDenseTiles(16, 14336, 4096));
  std::mt19937 rng(9);
  // 600 rows of S at K = 4100: tiles of 240 rows, the last partial.
  Layer layer = makeLayer(rng, 600, 4100, 7, true);
  int64_t m = kDenseTilesMinRows;
  std::vector<float> x = makeInput(rng, m, layer.k);
  std::vector<double> bound;
  std::vector<double> expected = reference(layer, x.data(), m, layer.k, bound);
  forEveryPathAndType(
      layer, m, x,
      [&](KernelPath path, WeightType type, SparseLinearProblem p) {
        std::vector<float> tiles(m * layer.n), again(m * layer.n),
            automatic(m * layer.n);
        p.y = tiles.data();
        sparseLinear(p, path, 1, SparseStrategy::DenseTiles);
        p.y = again.data();
        sparseLinear(p, path, 3, SparseStrategy::DenseTiles);
        p.y = automatic.data();
        sparseLinear(p, path, 2, SparseStrategy::Auto);
        EXPECT_EQ(std::memcmp(tiles.data(), again.data(), 4 * tiles.size()), 0)
            << kernelPathName(path) << " " << typeName(type);
        EXPECT_EQ(std::memcmp(tiles.data(), automatic.data(), 4 * tiles.size()),
                  0)
            << kernelPathName(path) << " " << typeName(type);
        if (type == WeightType::F32)
          for (int64_t i = 0; i < m * layer.n; ++i)
            ASSERT_NEAR(tiles[i], expected[i], bound[i]) << i;
      });
}

// Other n:m patterns and position widths take the scalar path from any
// requested path, with the same results.
TEST(SparseLinear, GeneralPatternsAndWiderPositions) {
  std::mt19937 rng(11);
  struct Case {
    unsigned keep, group, positionBytes;
  };
  for (Case c : {Case{2, 4, 2}, Case{2, 4, 8}, Case{1, 4, 1}, Case{3, 8, 2},
                 Case{4, 8, 2}, Case{5, 16, 4}}) {
    Layer layer = makeLayer(rng, 6, 48, 4, true, c.keep, c.group);
    int64_t m = 5;
    std::vector<float> x = makeInput(rng, m, layer.k);
    std::vector<double> bound;
    std::vector<double> expected =
        reference(layer, x.data(), m, layer.k, bound);
    for (KernelPath path : kPaths) {
      if (!isKernelPathSupported(path))
        continue;
      Stored stored;
      store(layer, WeightType::BF16, c.positionBytes, stored);
      SparseLinearProblem &p = stored.problem;
      p.m = m;
      p.x = x.data();
      p.ldx = layer.k;
      std::vector<float> y(m * layer.n);
      p.y = y.data();
      p.ldy = layer.n;
      ASSERT_EQ(checkSparseLinearProblem(p), "");
      for (SparseStrategy strategy : kStrategies) {
        std::fill(y.begin(), y.end(), -7.0f);
        sparseLinear(p, path, 2, strategy);
        for (int64_t i = 0; i < m * layer.n; ++i)
          ASSERT_NEAR(y[i], expected[i], bound[i])
              << c.keep << ":" << c.group << " i" << 8 * c.positionBytes << " "
              << kernelPathName(path) << " " << strategyName(strategy);
      }
    }
  }
}

TEST(SparseLinear, RejectsProblemsItCannotRun) {
  SparseLinearProblem p;
  p.m = 1;
  p.n = 2;
  p.k = 6;
  std::vector<float> buffer(64);
  p.x = p.y = buffer.data();
  p.values = p.positions = buffer.data();
  p.ldx = 6;
  p.ldy = 2;
  EXPECT_NE(checkSparseLinearProblem(p).find("not a multiple of 4"),
            std::string::npos);
  p.k = 8;
  p.ldx = 8;
  EXPECT_EQ(checkSparseLinearProblem(p), "");
  p.keep = 4;
  EXPECT_NE(checkSparseLinearProblem(p).find("unsupported pattern 4:4"),
            std::string::npos);
  p.keep = 9;
  p.group = 16; // 9 x 4 bits do not fit 4-byte words
  p.k = 16;
  p.ldx = 16;
  p.positionBytes = 4;
  EXPECT_NE(checkSparseLinearProblem(p).find("cannot hold"), std::string::npos);
  p.keep = 2;
  p.group = 4;
  p.positionBytes = 3;
  EXPECT_NE(checkSparseLinearProblem(p).find("3 bytes"), std::string::npos);
  p.positionBytes = 1;
  p.rank = 2;
  EXPECT_NE(checkSparseLinearProblem(p).find("missing operand"),
            std::string::npos);
  EXPECT_EQ(parseKernelPath("avx512"), KernelPath::AVX512);
  EXPECT_FALSE(parseKernelPath("sse"));
}

template <typename T, int R>
StridedMemRefType<T, R> memref(T *data, std::array<int64_t, R> sizes,
                               std::array<int64_t, R> strides) {
  StridedMemRefType<T, R> m;
  m.basePtr = m.data = data;
  m.offset = 0;
  for (int d = 0; d < R; ++d) {
    m.sizes[d] = sizes[d];
    m.strides[d] = strides[d];
  }
  return m;
}

// The compiled-IR entry point: a transposed (column-major) x, an absent
// low-rank part (empty memrefs), f32.
TEST(SparseLinear, CInterfaceTakesStridedViewsAndEmptyOptionals) {
  std::mt19937 rng(23);
  Layer layer = makeLayer(rng, 10, 36, 0, true);
  int64_t m = 3;
  std::vector<float> x = makeInput(rng, m, layer.k);
  std::vector<float> xT(m * layer.k);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < layer.k; ++c)
      xT[c * m + i] = x[i * layer.k + c];
  std::vector<double> bound;
  std::vector<double> expected = reference(layer, x.data(), m, layer.k, bound);
  std::vector<int8_t> positions(layer.positions.begin(), layer.positions.end());
  std::vector<float> y(m * layer.n), none;
  auto xView = memref<float, 2>(xT.data(), {m, layer.k}, {1, m});
  auto values = memref<float, 2>(layer.values.data(), {layer.n, layer.k / 2},
                                 {layer.k / 2, 1});
  auto pos = memref<int8_t, 2>(positions.data(), {layer.n, layer.k / 4},
                               {layer.k / 4, 1});
  auto u = memref<float, 2>(none.data(), {0, 0}, {0, 1});
  auto v = memref<float, 2>(none.data(), {0, 0}, {0, 1});
  auto bias = memref<float, 1>(layer.bias.data(), {layer.n}, {1});
  auto yView = memref<float, 2>(y.data(), {m, layer.n}, {layer.n, 1});
  _mlir_ciface_slr_rt_sparse_linear_f32_i8(&xView, &values, &pos, &u, &v, &bias,
                                           &yView, 2, 4);
  for (int64_t i = 0; i < m * layer.n; ++i)
    EXPECT_NEAR(y[i], expected[i], bound[i]) << i;
}

// bf16 activations: x widened, y rounded once to nearest even.
TEST(SparseLinear, CInterfaceRoundsBFloatOutputsOnce) {
  std::mt19937 rng(29);
  Layer layer = makeLayer(rng, 8, 16, 2, false);
  int64_t m = 2;
  std::vector<float> x(m * layer.k);
  for (float &value : x)
    value = exactValue(rng);
  std::vector<double> bound;
  std::vector<double> expected = reference(layer, x.data(), m, layer.k, bound);
  auto bits = [](const std::vector<float> &from) {
    std::vector<uint16_t> to;
    for (float f : from)
      to.push_back(bfloatBits(f));
    return to;
  };
  std::vector<uint16_t> x16 = bits(x), values = bits(layer.values),
                        u16 = bits(layer.u), v16 = bits(layer.v), none,
                        y(m * layer.n);
  std::vector<int16_t> positions(layer.positions.begin(),
                                 layer.positions.end());
  auto xView = memref<uint16_t, 2>(x16.data(), {m, layer.k}, {layer.k, 1});
  auto valuesView = memref<uint16_t, 2>(values.data(), {layer.n, layer.k / 2},
                                        {layer.k / 2, 1});
  auto pos = memref<int16_t, 2>(positions.data(), {layer.n, layer.k / 4},
                                {layer.k / 4, 1});
  auto u = memref<uint16_t, 2>(u16.data(), {layer.n, 2}, {2, 1});
  auto v = memref<uint16_t, 2>(v16.data(), {2, layer.k}, {layer.k, 1});
  auto bias = memref<uint16_t, 1>(none.data(), {0}, {1});
  auto yView = memref<uint16_t, 2>(y.data(), {m, layer.n}, {layer.n, 1});
  _mlir_ciface_slr_rt_sparse_linear_bf16_i16(&xView, &valuesView, &pos, &u, &v,
                                             &bias, &yView, 2, 4);
  for (int64_t i = 0; i < m * layer.n; ++i) {
    // Products of j/64 values summed over 16 + 2 terms are exact in f32;
    // the bf16 result is the nearest-even rounding of the exact sum.
    float exact = static_cast<float>(expected[i]);
    uint32_t b = bitsOf(exact);
    uint16_t rounded =
        static_cast<uint16_t>((b + 0x7fffu + ((b >> 16) & 1)) >> 16);
    EXPECT_EQ(y[i], rounded) << i << " exact " << expected[i];
  }
}

} // namespace
