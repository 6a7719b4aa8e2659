//===- WgmmaInstructionTest.cpp - Warpgroup MMA (sm_90a) ------------------===//
//
// wgmma.mma_async{.sp} on one warpgroup: A and B reach shared memory the way
// a Hopper kernel puts them there, by cp.async.bulk.tensor boxes (row-major
// global tensors, each swizzle mode), the descriptors use the canonical
// strides (K-major swizzled: SBO = 8 rows of the swizzle span, LBO unused;
// K-major plain: LBO = the K step between 8-column boxes, SBO = 128;
// MN-major swizzled: LBO = the MN step between span-wide boxes, SBO = 8
// rows; MN-major plain: LBO = 128, SBO = the MN step between 8-wide boxes),
// and every output element is compared with a host product of the logical
// matrices, mapped through the ISA's accumulator fragment layout (row
// 16 warp + lane / 4 + 8 ((i / 2) % 2), column 8 (i / 4) + 2 (lane % 4) +
// i % 2 for register i). The values are multiples of 1/8 below 8, so every
// sum is exact in any order. The error tests expect the simulator's
// one-line messages. Every kernel except WgmmaInvalidPtxTest's is valid
// sm_90a PTX (ctest -R HopperKernelsAreValidPTX).
//
//===----------------------------------------------------------------------===//

#include "SimTestUtil.h"

#include <cmath>
#include <random>

using namespace slr::sim;
using namespace slr::sim::test;

namespace {

uint16_t toBf16(float v) {
  return static_cast<uint16_t>(f32Bits(v) >> 16); // values are bf16-exact
}
uint16_t toF16(float v) {
  if (v == 0)
    return std::signbit(v) ? 0x8000 : 0;
  int e;
  float m = std::frexp(std::fabs(v), &e); // v = m 2^e, m in [0.5, 1)
  uint16_t mant = static_cast<uint16_t>(std::ldexp(m, 11)) & 0x3ff;
  uint16_t exp = static_cast<uint16_t>(e - 1 + 15);
  return static_cast<uint16_t>((v < 0 ? 0x8000 : 0) | exp << 10 | mant);
}

float fromF16(uint16_t h) {
  int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v = exp ? std::ldexp(float(mant | 0x400), exp - 25)
                : std::ldexp(float(mant), -24);
  return (h & 0x8000) ? -v : v;
}

std::string hex64(uint64_t v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%016llx",
                static_cast<unsigned long long>(v));
  return buffer;
}
std::string f32Imm(float v) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0f%08X", f32Bits(v));
  return buffer;
}

struct alignas(64) TensorMapBytes {
  uint8_t bytes[128];
};

/// How an operand lies in shared memory: major-ness and swizzle span
/// (0, 32, 64, 128 bytes).
struct Layout {
  bool mnMajor;
  unsigned swizzle;
};

/// The tensor copies that place an `mn` x `k` operand (16-bit elements) in
/// shared memory, its descriptor's fixed bits (strides, swizzle; start 0)
/// and the start offset of each wgmma's K step of `kStep` elements.
struct Placement {
  struct Box {
    uint32_t offset, c0, c1;
  };
  uint32_t box0 = 0, box1 = 0; // box dimensions (innermost first)
  int swizzleCode = 0;         // CUtensorMapSwizzle
  std::vector<Box> boxes;
  uint64_t descriptor = 0;
  std::vector<uint32_t> stepStart;
  uint32_t bytes = 0;
};

uint64_t descriptorBits(uint32_t lbo, uint32_t sbo, unsigned swizzle) {
  uint64_t mode = swizzle == 128  ? 1
                  : swizzle == 64 ? 2
                  : swizzle == 32 ? 3
                                  : 0;
  return (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) | (mode << 62);
}

/// The global tensor is row-major: mn rows of k (K-major) or k rows of mn
/// (MN-major).
Placement place(Layout l, unsigned mn, unsigned k, unsigned kStep,
                unsigned steps) {
  Placement p;
  const unsigned s = l.swizzle;
  p.swizzleCode = s == 128 ? 3 : s == 64 ? 2 : s == 32 ? 1 : 0;
  const unsigned span = s ? s / 2 : 8; // elements along the contiguous dim
  if (!l.mnMajor) {
    p.box0 = span;
    p.box1 = mn;
    for (unsigned c = 0; c * span < k; ++c)
      p.boxes.push_back({c * mn * (s ? s : 16), c * span, 0});
    if (s) {
      p.descriptor = descriptorBits(16, 8 * s, s);
      for (unsigned j = 0; j < steps; ++j) {
        unsigned byte = 2 * j * kStep;
        p.stepStart.push_back(byte / s * mn * s + byte % s);
      }
    } else {
      p.descriptor = descriptorBits(mn * 16, 128, 0);
      for (unsigned j = 0; j < steps; ++j)
        p.stepStart.push_back(j * kStep / 8 * mn * 16);
    }
  } else {
    p.box0 = span;
    p.box1 = k;
    unsigned rowBytes = s ? s : 16;
    for (unsigned c = 0; c * span < mn; ++c)
      p.boxes.push_back({c * k * rowBytes, c * span, 0});
    if (s)
      p.descriptor = descriptorBits(k * s, 8 * s, s);
    else
      p.descriptor = descriptorBits(128, k * 16, 0);
    for (unsigned j = 0; j < steps; ++j)
      p.stepStart.push_back(j * kStep * rowBytes);
  }
  p.bytes = static_cast<uint32_t>(p.boxes.size()) * p.box0 * p.box1 * 2;
  return p;
}

struct WgmmaCase {
  unsigned n = 64;
  unsigned k = 16; // logical K (per wgmma: 16 dense, 32 sparse)
  bool sparse = false;
  bool bf16 = true;
  bool aFromRegisters = false;
  Layout a{false, 128}, b{false, 128};
  int scaleA = 1, scaleB = 1;
  bool scaleD = false; // first wgmma adds to the initial accumulators
  float init = 0.5f;
  unsigned selector = 0;
  unsigned seed = 1;
  unsigned warpgroups = 1;     // each computes the same product
  bool f16Accumulator = false; // D in N/4 f16x2 registers (f16 inputs)
};

class WgmmaRun {
public:
  explicit WgmmaRun(const WgmmaCase &c) : c(c) {
    std::mt19937 rng(c.seed);
    // f16 accumulators: small integers, so that every sum is exact in f16.
    std::uniform_int_distribution<int> value(c.f16Accumulator ? -3 : -63,
                                             c.f16Accumulator ? 3 : 63);
    const float unit = c.f16Accumulator ? 1.0f : 8.0f;
    std::uniform_int_distribution<int> pair(0, 5);
    static const unsigned pairs[6][2] = {{0, 1}, {0, 2}, {0, 3},
                                         {1, 2}, {1, 3}, {2, 3}};
    kA = c.sparse ? c.k / 2 : c.k;
    steps = c.k / (c.sparse ? 32 : 16);
    logicalA.assign(64 * c.k, 0.0f);
    storedA.assign(64 * kA, 0.0f);
    kept.assign(64 * c.k / 4 * 2, 0);
    for (unsigned m = 0; m < 64; ++m) {
      if (!c.sparse) {
        for (unsigned k = 0; k < c.k; ++k)
          logicalA[m * c.k + k] = storedA[m * kA + k] = value(rng) / unit;
        continue;
      }
      for (unsigned g = 0; g < c.k / 4; ++g) {
        const unsigned *idx = pairs[pair(rng)];
        for (unsigned h = 0; h < 2; ++h) {
          float v = value(rng) / unit;
          logicalA[m * c.k + 4 * g + idx[h]] = v;
          storedA[m * kA + 2 * g + h] = v;
          kept[(m * c.k / 4 + g) * 2 + h] = idx[h];
        }
      }
    }
    logicalB.resize(c.k * c.n);
    for (float &v : logicalB)
      v = value(rng) / unit;
  }

  uint16_t bits(float v) const { return c.bf16 ? toBf16(v) : toF16(v); }

  /// The PTX kernel `wg`.
  std::string kernel() const {
    const unsigned regs = c.f16Accumulator ? c.n / 4 : c.n / 2;
    std::string type = c.bf16 ? "bf16" : "f16";
    std::string shape =
        "m64n" + std::to_string(c.n) + "k" + std::to_string(c.sparse ? 32 : 16);
    std::string t = R"(
.visible .entry wg(.param .align 64 .b8 tmapA[128],
                   .param .align 64 .b8 tmapB[128], .param .u64 pout,
                   .param .u64 pa, .param .u64 pmeta, .param .u32 pscaled)
{
  .reg .pred %p<8>;
  .reg .b32 %r<32>;
  .reg .b32 %ra<64>;
  .reg .b32 %rm<16>;
  .reg .b64 %rd<32>;
  .reg .b64 %rda<16>;
  .reg .b64 %rdb<16>;
  .reg )" + std::string(c.f16Accumulator ? ".b32" : ".f32") +
                    " %f<" + std::to_string(regs) +
                    R"(>;
  .shared .align 8 .b64 bar;
  .shared .align 1024 .b8 smemA[)" +
                    std::to_string(std::max(16u, pa.bytes)) + R"(];
  .shared .align 1024 .b8 smemB[)" +
                    std::to_string(pb.bytes) + R"(];
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra ISSUED;
  mbarrier.init.shared::cta.b64 [bar], 1;
  mbarrier.arrive.expect_tx.shared::cta.b64 _, [bar], )" +
                    std::to_string((c.aFromRegisters ? 0 : pa.bytes) +
                                   pb.bytes) +
                    R"(;
  mov.u64 %rd2, tmapA;
  cvta.param.u64 %rd3, %rd2;
  mov.u64 %rd4, tmapB;
  cvta.param.u64 %rd5, %rd4;
  mov.u32 %r2, smemA;
  mov.u32 %r3, smemB;
)";
    auto copies = [&](const Placement &p, const char *map, const char *base) {
      for (const Placement::Box &box : p.boxes)
        t += "  add.u32 %r4, " + std::string(base) + ", " +
             std::to_string(box.offset) + ";\n  mov.u32 %r5, " +
             std::to_string(box.c0) + ";\n  mov.u32 %r6, " +
             std::to_string(box.c1) +
             ";\n  cp.async.bulk.tensor.2d.shared::cluster.global.tile."
             "mbarrier::complete_tx::bytes [%r4], [" +
             map + ", {%r5, %r6}], [bar];\n";
    };
    if (!c.aFromRegisters)
      copies(pa, "%rd3", "%r2");
    copies(pb, "%rd5", "%r3");
    t += R"(ISSUED:
  bar.sync 0;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [bar], 0;
  @!%p2 bra WAIT;
  ld.param.u32 %r7, [pscaled];
  setp.ne.u32 %p3, %r7, 0;
  setp.eq.u32 %p4, %r1, %r1;
  mov.u32 %r2, smemA;
  mov.u32 %r3, smemB;
)";
    // Descriptors: start (shared address >> 4, 14 bits) | fixed bits.
    auto descriptors = [&](const Placement &p, const char *base,
                           const char *prefix) {
      for (unsigned j = 0; j < steps; ++j) {
        std::string d = std::string(prefix) + std::to_string(j);
        t += "  add.u32 %r8, " + std::string(base) + ", " +
             std::to_string(p.stepStart[j]) +
             ";\n  shr.u32 %r8, %r8, 4;\n  and.b32 %r8, %r8, 16383;\n"
             "  cvt.u64.u32 %rd6, %r8;\n  or.b64 " +
             d + ", %rd6, " + hex64(p.descriptor) + ";\n";
      }
    };
    if (!c.aFromRegisters)
      descriptors(pa, "%r2", "%rda");
    descriptors(pb, "%r3", "%rdb");
    // Thread coordinates: warp w, g = lane / 4, t = lane % 4.
    t += R"(  shr.u32 %r9, %r1, 5;
  and.b32 %r9, %r9, 3;
  and.b32 %r10, %r1, 31;
  shr.u32 %r11, %r10, 2;
  and.b32 %r12, %r10, 3;
)";
    if (c.aFromRegisters) {
      // A fragment register q of step j: elements (row, col), (row, col+1)
      // with row = 16 w + g + 8 (q % 2), col = 16 j + 2 t + 8 (q / 2) of
      // the stored (compressed when sparse) 64 x kA matrix, row-major.
      t += "  mad.lo.u32 %r13, %r9, 16, %r11;\n"
           "  mul.lo.u32 %r13, %r13, " +
           std::to_string(kA) +
           ";\n  shl.b32 %r14, %r12, 1;\n  add.u32 %r13, %r13, %r14;\n"
           "  mul.wide.u32 %rd7, %r13, 2;\n  ld.param.u64 %rd8, [pa];\n"
           "  add.s64 %rd9, %rd8, %rd7;\n";
      for (unsigned j = 0; j < steps; ++j)
        for (unsigned q = 0; q < 4; ++q) {
          unsigned offset = 2 * ((8 * (q % 2)) * kA + 16 * j + 8 * (q / 2));
          t += "  ld.global.u32 %ra" + std::to_string(4 * j + q) + ", [%rd9+" +
               std::to_string(offset) + "];\n";
        }
    }
    if (c.sparse) {
      t += "  ld.param.u64 %rd10, [pmeta];\n  and.b32 %r15, %r1, 127;\n"
           "  mul.wide.u32 %rd11, %r15, 4;\n  add.s64 %rd12, %rd10, %rd11;\n";
      for (unsigned j = 0; j < steps; ++j)
        t += "  ld.global.u32 %rm" + std::to_string(j) + ", [%rd12+" +
             std::to_string(512 * j) + "];\n";
    }
    for (unsigned i = 0; i < regs; ++i)
      t += c.f16Accumulator
               ? "  mov.b32 %f" + std::to_string(i) + ", " +
                     std::to_string(uint32_t(toF16(c.init)) * 0x10001u) + ";\n"
               : "  mov.f32 %f" + std::to_string(i) + ", " + f32Imm(c.init) +
                     ";\n";
    std::string acc = "{";
    for (unsigned i = 0; i < regs; ++i)
      acc += (i ? ", %f" : "%f") + std::to_string(i);
    acc += "}";
    t += "  wgmma.fence.sync.aligned;\n";
    for (unsigned j = 0; j < steps; ++j) {
      std::string js = std::to_string(j);
      t += std::string("  wgmma.mma_async") + (c.sparse ? ".sp" : "") +
           ".sync.aligned." + shape + "." + (c.f16Accumulator ? "f16" : "f32") +
           "." + type + "." + type + " " + acc + ", ";
      if (c.aFromRegisters)
        t += "{%ra" + std::to_string(4 * j) + ", %ra" +
             std::to_string(4 * j + 1) + ", %ra" + std::to_string(4 * j + 2) +
             ", %ra" + std::to_string(4 * j + 3) + "}";
      else
        t += "%rda" + js;
      t += ", %rdb" + js;
      if (c.sparse)
        t += ", %rm" + js + ", " + std::to_string(c.selector);
      t += std::string(", ") + (j == 0 ? "%p3" : "%p4") + ", " +
           std::to_string(c.scaleA) + ", " + std::to_string(c.scaleB);
      if (!c.aFromRegisters)
        t += std::string(", ") + (c.a.mnMajor ? "1" : "0");
      t += std::string(", ") + (c.b.mnMajor ? "1" : "0") + ";\n";
    }
    t += "  wgmma.commit_group.sync.aligned;\n"
         "  wgmma.wait_group.sync.aligned 0;\n"
         "  mul.wide.u32 %rd13, %r1, " +
         std::to_string(4 * regs) + ";\n  add.s64 %rd14, %rd1, %rd13;\n";
    for (unsigned i = 0; i < regs; ++i)
      t += std::string("  st.global.") + (c.f16Accumulator ? "b32" : "f32") +
           " [%rd14+" + std::to_string(4 * i) + "], %f" + std::to_string(i) +
           ";\n";
    t += "  ret;\n}\n";
    return t;
  }

  /// Runs the kernel; on success fills `out` (per thread, N/2 values).
  Status run() {
    pa = place(c.a, 64, kA, 16, steps);
    pb = place(c.b, c.n, c.k, c.sparse ? 32 : 16, steps);
    // Global tensors, row-major.
    std::vector<uint16_t> aHost, bHost;
    if (c.a.mnMajor) {
      for (unsigned k = 0; k < kA; ++k)
        for (unsigned m = 0; m < 64; ++m)
          aHost.push_back(bits(storedA[m * kA + k]));
    } else {
      for (unsigned m = 0; m < 64; ++m)
        for (unsigned k = 0; k < kA; ++k)
          aHost.push_back(bits(storedA[m * kA + k]));
    }
    std::vector<uint16_t> aRowMajor;
    for (unsigned m = 0; m < 64; ++m)
      for (unsigned k = 0; k < kA; ++k)
        aRowMajor.push_back(bits(storedA[m * kA + k]));
    if (c.b.mnMajor) {
      for (unsigned k = 0; k < c.k; ++k)
        for (unsigned n = 0; n < c.n; ++n)
          bHost.push_back(bits(logicalB[k * c.n + n]));
    } else {
      for (unsigned n = 0; n < c.n; ++n)
        for (unsigned k = 0; k < c.k; ++k)
          bHost.push_back(bits(logicalB[k * c.n + n]));
    }
    DeviceVector<uint16_t> aTensor(aHost), bTensor(bHost),
        aFragments(aRowMajor);
    TensorMapBytes mapA = {}, mapB = {};
    uint32_t ones[2] = {1, 1};
    auto encode = [&](TensorMapBytes &map, const Placement &p, Layout l,
                      unsigned mn, unsigned k, uint64_t address) {
      uint64_t dims[2] = {l.mnMajor ? mn : k, l.mnMajor ? k : mn};
      uint64_t stride = dims[0] * 2;
      uint32_t box[2] = {p.box0, p.box1};
      return encodeTensorMapTiled(map.bytes, /*UINT16*/ 1, 2,
                                  reinterpret_cast<void *>(address), dims,
                                  &stride, box, ones, 0, p.swizzleCode, 0, 0);
    };
    Status status = encode(mapB, pb, c.b, c.n, c.k, bTensor.address());
    if (!status)
      return status;
    if (!c.aFromRegisters) {
      status = encode(mapA, pa, c.a, 64, kA, aTensor.address());
      if (!status)
        return status;
    } else {
      mapA = mapB; // unused
    }
    // Metadata: step j, thread i at word 128 j + i; threads that hold none
    // get 0xffffffff (invalid if read).
    std::vector<uint32_t> meta(128 * std::max(1u, steps), 0xffffffffu);
    if (c.sparse)
      for (unsigned j = 0; j < steps; ++j)
        for (unsigned tid = 0; tid < 128; ++tid) {
          unsigned w = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
          if (t / 2 != c.selector)
            continue;
          uint32_t word = 0;
          for (unsigned h = 0; h < 2; ++h)
            for (unsigned jj = 0; jj < 4; ++jj) {
              unsigned row = 16 * w + g + 8 * h;
              unsigned group = 8 * j + 4 * (t % 2) + jj;
              const unsigned *idx = &kept[(row * c.k / 4 + group) * 2];
              word |= (idx[0] | idx[1] << 2) << (16 * h + 4 * jj);
            }
          meta[128 * j + tid] = word;
        }
    DeviceVector<uint32_t> metaDevice(meta);
    DeviceVector<uint32_t> outDevice(128 * c.warpgroups * c.n / 2, 0xdeadbeef);

    Simulator &sim = Simulator::instance();
    std::string text = std::string(kHopperHeader) + kernel();
    keepKernel(text);
    Module *module = nullptr;
    status = sim.loadModule(text.c_str(), text.size(), module);
    if (!status)
      return status;
    Function *function = nullptr;
    status = sim.getFunction(module, "wg", function);
    uint64_t outAddress = outDevice.address(), aAddress = aFragments.address(),
             metaAddress = metaDevice.address();
    uint32_t scaled = c.scaleD;
    void *params[] = {&mapA,     &mapB,        &outAddress,
                      &aAddress, &metaAddress, &scaled};
    LaunchConfig config;
    config.block[0] = 128 * c.warpgroups;
    if (status)
      status = sim.launch(function, config, params);
    sim.unloadModule(module);
    if (status)
      out = outDevice.read();
    return status;
  }

  /// Compares every output element with the host product.
  void check() const {
    ASSERT_EQ(out.size(), 128 * c.warpgroups * c.n / 2);
    unsigned wrong = 0;
    for (unsigned tid = 0; tid < 128 * c.warpgroups; ++tid)
      for (unsigned i = 0; i < c.n / 2; ++i) {
        unsigned w = tid / 32 % 4, lane = tid % 32;
        unsigned row = 16 * w + lane / 4 + 8 * ((i / 2) % 2);
        unsigned col = 8 * (i / 4) + 2 * (lane % 4) + i % 2;
        double sum = c.scaleD ? c.init : 0.0;
        for (unsigned k = 0; k < c.k; ++k)
          sum += (c.scaleA * double(logicalA[row * c.k + k])) *
                 (c.scaleB * double(logicalB[k * c.n + col]));
        float expected = static_cast<float>(sum);
        float got = c.f16Accumulator
                        ? fromF16(static_cast<uint16_t>(
                              out[tid * c.n / 4 + i / 2] >> (16 * (i % 2))))
                        : bitsF32(out[tid * c.n / 2 + i]);
        if (got != expected && wrong++ < 8)
          ADD_FAILURE() << "D[" << row << "][" << col << "] (thread " << tid
                        << ", register " << i << ") is " << got << ", expected "
                        << expected;
      }
    EXPECT_EQ(wrong, 0u) << "wrong elements";
  }

private:
  WgmmaCase c;
  unsigned kA = 16, steps = 1;
  std::vector<float> logicalA, storedA, logicalB;
  std::vector<unsigned> kept; // kept indices per row and group of 4
  Placement pa, pb;
  std::vector<uint32_t> out;
};

void runCase(const WgmmaCase &c, const std::string &what) {
  SCOPED_TRACE(what);
  WgmmaRun run(c);
  Status status = run.run();
  ASSERT_EQ(status.code, 0) << status.error;
  run.check();
}

//===----------------------------------------------------------------------===//
// Dense wgmma.mma_async
//===----------------------------------------------------------------------===//

TEST(WgmmaDenseTest, KMajorInEverySwizzleMode) {
  // K tiles as wide as the swizzle span: several wgmmas per tile, each
  // advancing the start address by 32 bytes within the swizzled rows.
  for (unsigned swizzle : {128u, 64u, 32u, 0u}) {
    WgmmaCase c;
    c.a = c.b = {false, swizzle};
    c.k = swizzle ? std::max(16u, swizzle / 2) : 32;
    c.n = 64;
    c.seed = swizzle + 3;
    runCase(c, "K-major, swizzle " + std::to_string(swizzle));
  }
}

TEST(WgmmaDenseTest, ShapesFromN8ToN256) {
  for (unsigned n : {8u, 16u, 24u, 120u, 256u}) {
    WgmmaCase c;
    c.n = n;
    c.k = 16;
    c.a = {false, 32};
    c.b = {false, n >= 64 ? 64u : 0u};
    c.k = c.b.swizzle == 64 ? 32 : 16;
    c.seed = n;
    runCase(c, "N = " + std::to_string(n));
  }
}

TEST(WgmmaDenseTest, MNMajorOperandsInEverySwizzleMode) {
  for (unsigned swizzle : {128u, 64u, 32u, 0u}) {
    WgmmaCase c;
    c.a = {true, swizzle};
    c.b = {true, swizzle};
    c.n = 128;
    c.k = 32;
    c.seed = swizzle + 11;
    runCase(c, "MN-major A and B, swizzle " + std::to_string(swizzle));
    c.a = {false, 128};
    c.k = 64;
    runCase(c, "K-major A, MN-major B, swizzle " + std::to_string(swizzle));
  }
}

TEST(WgmmaDenseTest, F16AndScalesAndAccumulation) {
  WgmmaCase c;
  c.bf16 = false;
  c.k = 64;
  c.n = 32;
  c.scaleD = true; // adds to the initial 0.5
  runCase(c, "f16, scale-d 1");
  c.scaleA = -1;
  runCase(c, "f16, imm-scale-a -1");
  c.bf16 = true;
  c.scaleA = 1;
  c.scaleB = -1;
  c.init = -2.25f;
  runCase(c, "bf16, imm-scale-b -1, scale-d 1");
}

TEST(WgmmaDenseTest, ThreeWarpgroups) {
  // Warps 4w .. 4w+3 form warpgroup w; each holds rows 16 (warp % 4) ...
  WgmmaCase c;
  c.warpgroups = 3;
  c.k = 32;
  c.n = 16;
  c.b = {false, 64};
  c.a = {true, 64};
  runCase(c, "3 warpgroups, descriptors");
  c.aFromRegisters = true;
  c.scaleD = true;
  runCase(c, "3 warpgroups, A in registers");
}

TEST(WgmmaDenseTest, F16Accumulators) {
  WgmmaCase c;
  c.bf16 = false;
  c.f16Accumulator = true;
  c.k = 64;
  c.n = 24;
  c.scaleD = true;
  runCase(c, "f16 += f16 * f16, descriptors");
  c.aFromRegisters = true;
  c.n = 256;
  c.k = 32;
  c.b = {true, 64};
  runCase(c, "f16 += f16 * f16, A in registers, N = 256");
  c.sparse = true;
  c.aFromRegisters = false;
  c.n = 32;
  c.k = 64;
  c.b = {false, 128};
  c.selector = 1;
  runCase(c, "sparse f16 += f16 * f16");
}

TEST(WgmmaDenseTest, AFromRegisters) {
  WgmmaCase c;
  c.aFromRegisters = true;
  c.k = 64;
  c.n = 48;
  c.b = {false, 128};
  runCase(c, "bf16, B K-major 128B");
  c.bf16 = false;
  c.b = {true, 64};
  c.k = 32;
  c.scaleD = true;
  runCase(c, "f16, B MN-major 64B");
}

TEST(WgmmaDenseTest, DynamicSharedMemoryIsAlignedAsDeclared) {
  // Swizzled tiles in dynamic shared memory after a static mbarrier: the
  // 1024-byte alignment of the declaration holds.
  const char *ptx = R"(
.extern .shared .align 1024 .b8 dyn[];
.visible .entry k(.param .u64 pout)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  .shared .align 8 .b64 bar;
  mov.u32 %r1, dyn;
  mov.u32 %r2, bar;
  ld.param.u64 %rd1, [pout];
  st.global.v2.u32 [%rd1], {%r1, %r2};
  ret;
}
)";
  DeviceVector<uint32_t> out(2, 7);
  EXPECT_RUNS(runKernelWithHeader(kHopperHeader, ptx, "k", {out.address()}, 1,
                                  1, 2048));
  EXPECT_EQ(out.read(), (std::vector<uint32_t>{1024, 0}));
}

//===----------------------------------------------------------------------===//
// Sparse wgmma.mma_async.sp
//===----------------------------------------------------------------------===//

TEST(WgmmaSparseTest, BothSelectorsAndLayouts) {
  WgmmaCase c;
  c.sparse = true;
  c.k = 64; // two k32 wgmmas
  c.n = 64;
  c.a = {false, 64}; // compressed A: 32 columns = 64 bytes
  c.b = {false, 128};
  runCase(c, "selector 0, K-major");
  c.k = 32; // compressed A: 16 columns = 32 bytes
  c.a = {false, 32};
  c.b = {false, 64};
  runCase(c, "selector 0, K-major 32B A");
  c.k = 64;
  c.a = {false, 64};
  c.b = {false, 128};
  c.selector = 1;
  c.seed = 7;
  runCase(c, "selector 1, K-major");
  c.a = {true, 128};
  c.b = {true, 0};
  c.n = 24;
  c.bf16 = false;
  runCase(c, "selector 1, MN-major, f16");
  c.a = {false, 0};
  c.b = {false, 64};
  c.n = 256;
  c.k = 32;
  c.scaleD = true;
  runCase(c, "N = 256, no swizzle A");
}

TEST(WgmmaSparseTest, AFromRegisters) {
  WgmmaCase c;
  c.sparse = true;
  c.aFromRegisters = true;
  c.k = 64;
  c.n = 40;
  c.b = {false, 128};
  c.selector = 1;
  runCase(c, "sparse A in registers");
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

Status runHopper(const std::string &ptx, std::vector<uint64_t> params,
                 unsigned threads = 128) {
  return runKernelWithHeader(kHopperHeader, ptx, "k", std::move(params),
                             threads);
}

/// 128 threads, one m64n8k16 wgmma on descriptors `pdescA | start(smem)`,
/// `pdescB | start(smem + 2048)`; `before` runs between the fence and the
/// wgmma, `between` between the commit and the wait, `after` after it.
std::string
errorKernel(const std::string &before, const std::string &between,
            const std::string &after = "",
            const std::string &fence = "  wgmma.fence.sync.aligned;\n") {
  return R"(
.visible .entry k(.param .u64 pdescA, .param .u64 pdescB, .param .u64 pout)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .reg .f32 %f<4>;
  .shared .align 1024 .b8 smem[4096];
  ld.param.u64 %rd1, [pdescA];
  ld.param.u64 %rd2, [pdescB];
  ld.param.u64 %rd3, [pout];
  mov.u32 %r1, smem;
  shr.u32 %r2, %r1, 4;
  cvt.u64.u32 %rd4, %r2;
  or.b64 %rd1, %rd1, %rd4;
  add.u32 %r3, %r1, 2048;
  shr.u32 %r3, %r3, 4;
  cvt.u64.u32 %rd5, %r3;
  or.b64 %rd2, %rd2, %rd5;
  mov.u32 %r4, %tid.x;
  setp.eq.u32 %p1, %r4, %r4;
  mov.f32 %f0, 0f00000000;
  mov.f32 %f1, 0f00000000;
  mov.f32 %f2, 0f00000000;
  mov.f32 %f3, 0f00000000;
)" + fence +
         before +
         R"(  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd2, %p1, 1, 1, 0, 0;
  wgmma.commit_group.sync.aligned;
)" + between +
         R"(  wgmma.wait_group.sync.aligned 0;
)" + after +
         R"(  mul.wide.u32 %rd6, %r4, 4;
  add.s64 %rd7, %rd3, %rd6;
  st.global.f32 [%rd7], %f0;
  ret;
}
)";
}

const uint64_t kPlain = descriptorBits(128, 256, 0); // K-major, no swizzle
const uint64_t kSwizzled128 = descriptorBits(16, 1024, 128);

TEST(WgmmaDenseTest, InlineAsmBlocksWithTheirOwnPredicates) {
  // The form of MLIR's NVVM wgmma and of inline asm: a scoped block per
  // instruction declaring its own `p`.
  const char *ptx = R"(
.visible .entry k(.param .u64 pdesc, .param .u64 pout)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  .reg .f32 %f<4>;
  .shared .align 1024 .b8 smem[4096];
  ld.param.u64 %rd1, [pdesc];
  mov.u32 %r1, smem;
  shr.u32 %r2, %r1, 4;
  cvt.u64.u32 %rd4, %r2;
  or.b64 %rd1, %rd1, %rd4;
  mov.u32 %r3, 0;
  mov.u32 %r4, 1;
  wgmma.fence.sync.aligned;
  {
  .reg .pred p;
  setp.ne.b32 p, %r3, 0;
  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd1, p, 1, 1, 0, 0;
  }
  {
  .reg .pred p;
  setp.ne.b32 p, %r4, 0;
  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd1, p, 1, 1, 0, 0;
  }
  wgmma.commit_group.sync.aligned;
  wgmma.wait_group.sync.aligned 0;
  mov.u32 %r5, %tid.x;
  ld.param.u64 %rd2, [pout];
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd3, %rd2, %rd3;
  st.global.f32 [%rd3], %f0;
  ret;
}
)";
  // Shared memory of 0x3f80 halves (bf16 1.0 pairs): A and B all ones, so
  // each element is 16 after the first wgmma and 32 after the second.
  std::string fill = ptx;
  fill.replace(fill.find("  mov.u32 %r3, 0;\n"), 0, R"(  mov.u32 %r6, %tid.x;
  mul.lo.u32 %r6, %r6, 32;
  add.u32 %r6, %r6, %r1;
  mov.u32 %r7, 0x3f803f80;
  st.shared.v4.u32 [%r6], {%r7, %r7, %r7, %r7};
  st.shared.v4.u32 [%r6+16], {%r7, %r7, %r7, %r7};
  bar.sync 0;
  fence.proxy.async.shared::cta;
)");
  DeviceVector<float> out(128, 0.0f);
  EXPECT_RUNS(runHopper(fill, {descriptorBits(128, 256, 0), out.address()}));
  EXPECT_EQ(out.read(), std::vector<float>(128, 32.0f));
}

TEST(WgmmaErrorTest, TheErrorKernelRunsWhenCorrect) {
  DeviceVector<float> out(128, 1.0f);
  EXPECT_RUNS(
      runHopper(errorKernel("", ""), {kPlain, kSwizzled128, out.address()}));
}

TEST(WgmmaErrorTest, BadDescriptors) {
  DeviceVector<float> out(128);
  expectError(runHopper(errorKernel("", ""),
                        {kPlain | (uint64_t(1) << 46), kPlain, out.address()}),
              {"PTX line", "the A matrix descriptor", "sets reserved bits",
               "0x400000000000"});
  // SBO of 16 KiB: rows 8.. of A lie beyond the 4096 bytes.
  expectError(runHopper(errorKernel("", ""),
                        {descriptorBits(128, 16384, 0), kPlain, out.address()}),
              {"the A matrix descriptor", "beyond the CTA's 4096 bytes"});
  // 128B swizzle, start 112 bytes into a row: k = 8.. leave the row.
  expectError(
      runHopper(errorKernel("", ""), {kPlain, kSwizzled128 | 7, out.address()}),
      {"misaligned B matrix descriptor", "128-byte swizzle row",
       "the start is 112 bytes into a row"});
  expectError(
      runHopper(errorKernel("", ""),
                {kSwizzled128 | (uint64_t(1) << 49), kPlain, out.address()}),
      {"base offset 1", "implements base offset 0 only"});
}

TEST(WgmmaErrorTest, NonUniformDescriptor) {
  DeviceVector<float> out(128);
  // Thread 37 adds 16 bytes to its A start.
  std::string before = R"(  setp.eq.u32 %p2, %r4, 37;
  @%p2 add.s64 %rd1, %rd1, 1;
)";
  expectError(
      runHopper(errorKernel(before, ""), {kPlain, kPlain, out.address()}),
      {"thread (37, 0, 0)", "A matrix descriptor",
       "must be the same in all threads"});
}

TEST(WgmmaErrorTest, AccumulatorsBeforeTheWait) {
  DeviceVector<float> out(128);
  expectError(
      runHopper(errorKernel("", "  mov.b32 %r5, %f2;\n"),
                {kPlain, kPlain, out.address()}),
      {"accesses %f2, an accumulator of the wgmma.mma_async at PTX line",
       "still in flight", "needs a wgmma.wait_group"});
  expectError(runHopper(errorKernel("", "  mov.f32 %f0, 0f3F800000;\n"),
                        {kPlain, kPlain, out.address()}),
              {"accesses %f0", "still in flight"});
  // After the wait the registers are free again.
  EXPECT_RUNS(runHopper(errorKernel("", "", "  mov.b32 %r5, %f2;\n"),
                        {kPlain, kPlain, out.address()}));
}

TEST(WgmmaErrorTest, SharedOperandsBeforeTheWait) {
  DeviceVector<float> out(128);
  // Each thread stores to its own word of A.
  const std::string store = "  mul.lo.u32 %r6, %r4, 4;\n  add.u32 %r6, %r6, "
                            "%r1;\n  st.shared.u32 [%r6], %r4;\n";
  expectError(
      runHopper(errorKernel("", store), {kPlain, kPlain, out.address()}),
      {"st.shared.u32", "write into shared byte 0x",
       "which the wgmma.mma_async at PTX line", "still reads",
       "wgmma.wait_group covering it"});
  // After the wait the warpgroup may overwrite its operands.
  EXPECT_RUNS(
      runHopper(errorKernel("", "", store), {kPlain, kPlain, out.address()}));
}

TEST(WgmmaErrorTest, BulkCopyIntoAnOperandInFlight) {
  // The producer pattern gone wrong: the next tile's copy is issued into
  // the buffer before the wgmma reading it was waited for.
  const char *ptx = R"(
.visible .entry k(.param .u64 pdesc, .param .u64 psrc)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .reg .f32 %f<4>;
  .shared .align 8 .b64 bar;
  .shared .align 1024 .b8 smem[4096];
  ld.param.u64 %rd1, [pdesc];
  ld.param.u64 %rd2, [psrc];
  mov.u32 %r1, smem;
  shr.u32 %r2, %r1, 4;
  cvt.u64.u32 %rd4, %r2;
  or.b64 %rd1, %rd1, %rd4;
  mov.u32 %r4, %tid.x;
  setp.eq.u32 %p1, %r4, %r4;
  setp.eq.u32 %p2, %r4, 0;
  @%p2 mbarrier.init.shared::cta.b64 [bar], 1;
  bar.sync 0;
  wgmma.fence.sync.aligned;
  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd1, %p1, 1, 1, 0, 0;
  wgmma.commit_group.sync.aligned;
  @%p2 mbarrier.arrive.expect_tx.shared::cta.b64 _, [bar], 16;
  @%p2 cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%r1], [%rd2], 16, [bar];
  wgmma.wait_group.sync.aligned 0;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [bar], 0;
  @!%p3 bra WAIT;
  ret;
}
)";
  DeviceVector<uint32_t> source(4, 0);
  expectError(runHopper(ptx, {kPlain, source.address()}),
              {"thread (0, 0, 0)", "bulk copy into shared byte 0x0,",
               "which the wgmma.mma_async at PTX line", "still reads"});
}

TEST(WgmmaErrorTest, AccumulatorsBeforeTheCommit) {
  // Uncommitted: no wait_group can complete it yet.
  DeviceVector<float> out(128);
  std::string ptx = errorKernel("", "");
  ptx.replace(ptx.find("  wgmma.commit_group.sync.aligned;\n"), 0,
              "  mov.b32 %r5, %f3;\n");
  expectError(runHopper(ptx, {kPlain, kPlain, out.address()}),
              {"accesses %f3", "needs a wgmma.commit_group and a "
                               "wgmma.wait_group first"});
}

TEST(WgmmaErrorTest, FenceRules) {
  DeviceVector<float> out(128);
  expectError(
      runHopper(errorKernel("", "", "", ""), {kPlain, kPlain, out.address()}),
      {"wgmma.mma_async before any wgmma.fence"});
  expectError(runHopper(errorKernel("  mov.f32 %f1, 0f3F800000;\n", ""),
                        {kPlain, kPlain, out.address()}),
              {"accumulator %f1 was written after the last wgmma.fence"});
}

/// Two m64n8k16 wgmmas in two groups, accumulators `second` for the
/// second; `afterFirst` runs after `wgmma.wait_group 1`.
std::string twoGroupKernel(const std::string &second,
                           const std::string &afterFirst) {
  return R"(
.visible .entry k(.param .u64 pdesc)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .reg .f32 %f<8>;
  .shared .align 1024 .b8 smem[4096];
  ld.param.u64 %rd1, [pdesc];
  mov.u32 %r1, smem;
  shr.u32 %r2, %r1, 4;
  cvt.u64.u32 %rd4, %r2;
  or.b64 %rd1, %rd1, %rd4;
  mov.u32 %r4, %tid.x;
  setp.ne.u32 %p1, %r4, %r4;
  wgmma.fence.sync.aligned;
  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd1, %p1, 1, 1, 0, 0;
  wgmma.commit_group.sync.aligned;
  wgmma.mma_async.sync.aligned.m64n8k16.f32.bf16.bf16 )" +
         second + R"(, %rd1, %rd1, %p1, 1, 1, 0, 0;
  wgmma.commit_group.sync.aligned;
  wgmma.wait_group.sync.aligned 1;
)" + afterFirst +
         R"(  wgmma.wait_group.sync.aligned 0;
  mov.b32 %r6, %f4;
  mov.b32 %r7, %f0;
  ret;
}
)";
}

TEST(WgmmaErrorTest, WaitGroupCompletesTheOldestGroups) {
  const uint64_t desc = descriptorBits(128, 256, 0);
  const std::string second = "{%f4, %f5, %f6, %f7}";
  // After wait_group 1 the first group's accumulators are free...
  EXPECT_RUNS(
      runHopper(twoGroupKernel(second, "  mov.b32 %r5, %f0;\n"), {desc}));
  // ...the second's are not.
  expectError(
      runHopper(twoGroupKernel(second, "  mov.b32 %r5, %f5;\n"), {desc}),
      {"accesses %f5, an accumulator", "still in flight"});
  // Chaining in-flight accumulators needs the same registers.
  expectError(runHopper(twoGroupKernel("{%f2, %f3, %f4, %f5}", ""), {desc}),
              {"accumulator %f2 belongs to the in-flight wgmma.mma_async",
               "with different accumulators"});
}

TEST(WgmmaErrorTest, FormsNotImplementedAreNamed) {
  // tf32 inputs are valid PTX the simulator does not implement.
  const char *ptx = R"(
.visible .entry k(.param .u64 pdesc)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  .reg .f32 %f<4>;
  ld.param.u64 %rd1, [pdesc];
  mov.u32 %r3, %tid.x;
  setp.eq.u32 %p1, %r3, %r3;
  wgmma.fence.sync.aligned;
  wgmma.mma_async.sync.aligned.m64n8k8.f32.tf32.tf32 {%f0, %f1, %f2, %f3}, %rd1, %rd1, %p1, 1, 1;
  wgmma.commit_group.sync.aligned;
  wgmma.wait_group.sync.aligned 0;
  ret;
}
)";
  expectError(runHopper(ptx, {kPlain}),
              {"PTX line 15",
               "the simulator does not implement this form of "
               "`wgmma.mma_async.sync.aligned.m64n8k8.f32.tf32.tf32`"});
}

TEST(WgmmaErrorTest, IncompleteWarpgroup) {
  DeviceVector<float> out(128);
  expectError(
      runHopper(errorKernel("", ""), {kPlain, kPlain, out.address()}, 96),
      {"CTA of 96 threads", "warpgroup 0", "is incomplete"});
}

TEST(WgmmaErrorTest, SparseMetadataWithARepeatedIndex) {
  // Lane 0 (selector 0) describes groups 0..3 of row 0: 0b0101 repeats 1.
  std::string ptx = R"(
.visible .entry k(.param .u64 pdesc)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .reg .f32 %f<4>;
  .shared .align 1024 .b8 smem[8192];
  ld.param.u64 %rd1, [pdesc];
  mov.u32 %r1, smem;
  shr.u32 %r2, %r1, 4;
  cvt.u64.u32 %rd4, %r2;
  or.b64 %rd1, %rd1, %rd4;
  mov.u32 %r4, %tid.x;
  setp.eq.u32 %p1, %r4, %r4;
  mov.u32 %r5, 0x4e4e4e4e;
  setp.eq.u32 %p2, %r4, 0;
  @%p2 mov.u32 %r5, 0x4e4e4e45;
  wgmma.fence.sync.aligned;
  wgmma.mma_async.sp.sync.aligned.m64n8k32.f32.bf16.bf16 {%f0, %f1, %f2, %f3}, %rd1, %rd1, %r5, 0, %p1, 1, 1, 0, 0;
  wgmma.commit_group.sync.aligned;
  wgmma.wait_group.sync.aligned 0;
  ret;
}
)";
  expectError(runHopper(ptx, {descriptorBits(128, 256, 0)}),
              {"sparse metadata of row 0, group 0 is 0x5",
               "both kept elements have index 1"});
}

//===----------------------------------------------------------------------===//
// setmaxnreg
//===----------------------------------------------------------------------===//

/// Warpgroup 0 (warps 0-3) decreases, warpgroup 1 increases; with `split`,
/// warp 1 takes the other branch.
std::string setmaxnregKernel(bool split) {
  return std::string(R"(
.visible .entry k(.param .u64 pout)
.maxntid 256, 1, 1
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  mov.u32 %r1, %tid.x;
  shr.u32 %r2, %r1, 5;
)") +
         (split ? "  setp.ne.u32 %p1, %r2, 1;\n  @%p1 shr.u32 %r2, %r2, 2;\n"
                : "  shr.u32 %r2, %r2, 2;\n") +
         R"(  setp.eq.u32 %p2, %r2, 0;
  @%p2 bra PRODUCER;
  setmaxnreg.inc.sync.aligned.u32 232;
  bra DONE;
PRODUCER:
  setmaxnreg.dec.sync.aligned.u32 40;
DONE:
  ld.param.u64 %rd1, [pout];
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r2;
  ret;
}
)";
}

TEST(SetmaxnregTest, WarpgroupsChangeTheirRegisterCounts) {
  DeviceVector<uint32_t> out(256, 7);
  EXPECT_RUNS(runHopper(setmaxnregKernel(false), {out.address()}, 256));
  std::vector<uint32_t> got = out.read();
  for (unsigned t = 0; t < 256; ++t)
    EXPECT_EQ(got[t], t / 128) << "thread " << t;
}

TEST(SetmaxnregTest, NonUniformWithinAWarpgroup) {
  DeviceVector<uint32_t> out(256, 7);
  expectError(runHopper(setmaxnregKernel(true), {out.address()}, 256),
              {"the warps of warpgroup 0 execute different warpgroup "
               "instructions",
               "setmaxnreg"});
}

TEST(WgmmaInvalidPtxTest, SetmaxnregCountOutOfRange) {
  // ptxas refuses these counts; the simulator reports them when executed.
  for (const char *count : {"20", "100", "264"}) {
    std::string ptx = std::string(R"(
.visible .entry k()
{
  setmaxnreg.inc.sync.aligned.u32 )") +
                      count + R"(;
  ret;
}
)";
    expectError(runHopper(ptx, {}), {"setmaxnreg count " + std::string(count),
                                     "is not a multiple of 8 in [24, 256]"});
  }
}

TEST(TensorMapFenceTest, AcquireNamesTheMapAndReleaseNothing) {
  DeviceVector<uint64_t> map(16);
  EXPECT_RUNS(runHopper(R"(
.visible .entry k(.param .u64 pmap)
{
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [pmap];
  fence.proxy.tensormap::generic.release.cta;
  fence.proxy.tensormap::generic.acquire.gpu [%rd1], 128;
  ret;
}
)",
                        {map.address()}));
}

TEST(WgmmaInvalidPtxTest, TensorMapFenceOfOtherThan128Bytes) {
  DeviceVector<uint64_t> map(16);
  Status status = runHopper(R"(
.visible .entry k(.param .u64 pmap)
{
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [pmap];
  fence.proxy.tensormap::generic.acquire.gpu [%rd1], 64;
  ret;
}
)",
                            {map.address()});
  expectError(status, {"fence.proxy.tensormap::generic.acquire.gpu"});
}

} // namespace
