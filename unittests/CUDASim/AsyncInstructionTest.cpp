//===- AsyncInstructionTest.cpp - mbarrier and elect.sync -----------------===//
//
// The expected values follow from the PTX ISA's definition of the mbarrier
// object: a phase completes when its pending arrival count and its
// transaction count are both zero; the phase then advances and the pending
// count is reset to the expected count. Each kernel records the waits'
// results in order; every kernel is valid sm_90a PTX (ptxas accepts it).
//
//===----------------------------------------------------------------------===//

#include "SimTestUtil.h"

using namespace slr::sim;
using namespace slr::sim::test;

namespace {

Status runHopper(const std::string &ptx, const char *name,
                 std::vector<uint64_t> params, unsigned blockX) {
  return runKernelWithHeader(kHopperHeader, ptx, name, std::move(params),
                             blockX);
}

/// One thread; `body` stores wait results with the RECORD(k) macro below.
std::string singleThreadKernel(const std::string &body) {
  return R"(
.visible .entry seq(.param .u64 pout)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<16>;
  .shared .align 8 .b64 bar;
  ld.param.u64 %rd1, [pout];
)" + body +
         R"(
  ret;
}
)";
}

/// Stores predicate %p1 as word k of the output.
std::string record(unsigned k) {
  return "  selp.u32 %r1, 1, 0, %p1;\n  st.global.u32 [%rd1+" +
         std::to_string(4 * k) + "], %r1;\n";
}

TEST(MbarrierTest, ArrivalsCompleteAPhaseAndStatesNameIt) {
  // count 2: the first arrive leaves 1 pending, the second completes phase
  // 0 (its state, taken before, still names phase 0); phase 1 starts with 2
  // pending again.
  std::string body = R"(
  mbarrier.init.shared::cta.b64 [bar], 2;
  mbarrier.arrive.shared::cta.b64 %rd2, [bar];
  mbarrier.test_wait.shared::cta.b64 %p1, [bar], %rd2;
)" + record(0) + R"(
  mbarrier.arrive.release.cta.shared::cta.b64 %rd3, [bar];
  mbarrier.test_wait.shared::cta.b64 %p1, [bar], %rd2;
)" + record(1) + R"(
  mbarrier.test_wait.acquire.cta.shared::cta.b64 %p1, [bar], %rd3;
)" + record(2) + R"(
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(3) + R"(
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 1;
)" + record(4) + R"(
  mbarrier.arrive.shared::cta.b64 %rd4, [bar];
  mbarrier.test_wait.shared::cta.b64 %p1, [bar], %rd4;
)" + record(5) + R"(
  mbarrier.arrive.shared::cta.b64 %rd5, [bar];
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 1;
)" + record(6) + R"(
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(7);
  DeviceVector<uint32_t> out(8, 7);
  EXPECT_RUNS(runHopper(singleThreadKernel(body), "seq", {out.address()}, 1));
  EXPECT_EQ(out.read(), (std::vector<uint32_t>{0, 1, 1, 1, 0, 0, 1, 0}));
}

TEST(MbarrierTest, ArriveWithACountAndGenericAddresses) {
  // count 3; arrive with count 2 leaves 1; one more completes phase 0.
  std::string body = R"(
  mov.u64 %rd6, bar;
  cvta.shared.u64 %rd7, %rd6;
  mbarrier.init.b64 [%rd7], 3;
  mbarrier.arrive.shared::cta.b64 %rd2, [bar], 2;
  mbarrier.test_wait.b64 %p1, [%rd7], %rd2;
)" + record(0) + R"(
  mbarrier.arrive.b64 %rd3, [%rd7];
  mbarrier.test_wait.b64 %p1, [%rd7], %rd2;
)" + record(1);
  DeviceVector<uint32_t> out(2, 7);
  EXPECT_RUNS(runHopper(singleThreadKernel(body), "seq", {out.address()}, 1));
  EXPECT_EQ(out.read(), (std::vector<uint32_t>{0, 1}));
}

TEST(MbarrierTest, TransactionCountsHoldThePhaseUntilZero) {
  // Phase 0: arrive.expect_tx 64 (pending 0, tx 64); complete_tx 32 (tx 32);
  // expect_tx 16 (tx 48); complete_tx 48 (tx 0: complete).
  // Phase 1: complete_tx 8 first (tx -8); arrive (pending 0, tx -8: not
  // complete); expect_tx 8 (tx 0: complete).
  std::string body = R"(
  mbarrier.init.shared::cta.b64 [bar], 1;
  mbarrier.arrive.expect_tx.shared::cta.b64 %rd2, [bar], 64;
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(0) + R"(
  mbarrier.complete_tx.shared::cta.b64 [bar], 32;
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(1) + R"(
  mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [bar], 16;
  mbarrier.complete_tx.shared::cta.b64 [bar], 16;
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(2) + R"(
  mbarrier.complete_tx.shared::cta.b64 [bar], 32;
  mbarrier.test_wait.shared::cta.b64 %p1, [bar], %rd2;
)" + record(3) + R"(
  mbarrier.complete_tx.shared::cta.b64 [bar], 8;
  mbarrier.arrive.shared::cta.b64 %rd3, [bar];
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 1;
)" + record(4) + R"(
  mbarrier.expect_tx.shared::cta.b64 [bar], 8;
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 1;
)" + record(5);
  DeviceVector<uint32_t> out(6, 7);
  EXPECT_RUNS(runHopper(singleThreadKernel(body), "seq", {out.address()}, 1));
  EXPECT_EQ(out.read(), (std::vector<uint32_t>{0, 0, 0, 1, 0, 1}));
}

TEST(MbarrierTest, ArriveDropLowersTheExpectedCountOfLaterPhases) {
  // count 2; arrive_drop: expected 1, pending 1; arrive: phase 0 completes,
  // pending reset to 1; one arrive now completes phase 1.
  std::string body = R"(
  mbarrier.init.shared::cta.b64 [bar], 2;
  mbarrier.arrive_drop.shared::cta.b64 %rd2, [bar];
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(0) + R"(
  mbarrier.arrive.shared::cta.b64 %rd3, [bar];
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 0;
)" + record(1) + R"(
  mbarrier.arrive.shared::cta.b64 %rd4, [bar];
  mbarrier.test_wait.parity.shared::cta.b64 %p1, [bar], 1;
)" + record(2);
  DeviceVector<uint32_t> out(3, 7);
  EXPECT_RUNS(runHopper(singleThreadKernel(body), "seq", {out.address()}, 1));
  EXPECT_EQ(out.read(), (std::vector<uint32_t>{0, 1, 1}));
}

/// Warp 1 (producer) fills shared words and arrives (count 32); warp 0
/// (consumer) waits for phase 0 with try_wait (`spin` false) or a
/// test_wait loop (`spin` true), then copies them out. Thread 0 initialises
/// the barrier with `count`.
std::string producerConsumer(bool spin, unsigned count) {
  std::string wait = spin ? "mbarrier.test_wait.parity.shared::cta.b64"
                          : "mbarrier.try_wait.parity.shared::cta.b64";
  return R"(
.visible .entry pc(.param .u64 pout)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<16>;
  .shared .align 8 .b64 bar;
  .shared .align 4 .b32 data[32];
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra INITED;
  mbarrier.init.shared::cta.b64 [bar], )" +
         std::to_string(count) + R"(;
  fence.mbarrier_init.release.cluster;
INITED:
  bar.sync 0;
  and.b32 %r2, %r1, 31;
  mul.wide.u32 %rd2, %r2, 4;
  mov.u64 %rd3, data;
  add.s64 %rd4, %rd3, %rd2;
  setp.lt.u32 %p2, %r1, 32;
  @%p2 bra CONSUMER;
  mad.lo.u32 %r3, %r2, 2, 1;
  st.shared.u32 [%rd4], %r3;
  mbarrier.arrive.release.cta.shared::cta.b64 _, [bar];
  bra DONE;
CONSUMER:
WAIT:
  )" + wait +
         R"( %p3, [bar], 0;
  @!%p3 bra WAIT;
  ld.shared.u32 %r4, [%rd4];
  add.s64 %rd5, %rd1, %rd2;
  st.global.u32 [%rd5], %r4;
DONE:
  ret;
}
)";
}

TEST(MbarrierTest, ConsumerWarpWaitsForProducerWarp) {
  std::vector<uint32_t> expected(32);
  for (uint32_t i = 0; i < 32; ++i)
    expected[i] = 2 * i + 1;
  for (bool spin : {false, true}) {
    DeviceVector<uint32_t> out(32, 0);
    // The completed phase orders the producer's stores before the
    // consumer's loads: no race is reported.
    EXPECT_RUNS(
        runHopper(producerConsumer(spin, 32), "pc", {out.address()}, 64));
    EXPECT_EQ(out.read(), expected) << (spin ? "test_wait" : "try_wait");
  }
}

TEST(MbarrierTest, AWaitNoArrivalCanEndIsADeadlock) {
  DeviceVector<uint32_t> out(32, 0);
  expectError(runHopper(producerConsumer(false, 33), "pc", {out.address()}, 64),
              {"deadlock",
               "lanes 0xffffffff of warp 0 wait for a phase of parity 0",
               "of the mbarrier at shared offset 0x0",
               "mbarrier.try_wait.parity.shared::cta.b64 %p3, [bar], 0;"});
}

TEST(MbarrierTest, UseUnorderedAfterInitIsARace) {
  // Thread 0 initialises the barrier and leaves; warp 1 arrives on it with
  // (`sync`) and without a bar.sync after the initialisation.
  auto kernel = [](bool sync) {
    return std::string(R"(
.visible .entry initrace()
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .shared .align 8 .b64 bar;
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra INITED;
  mbarrier.init.shared::cta.b64 [bar], 32;
INITED:
)") + (sync ? "  bar.sync 0;\n" : "") +
           R"(
  setp.lt.u32 %p2, %r1, 32;
  @%p2 bra DONE;
  mbarrier.arrive.shared::cta.b64 _, [bar];
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [bar], 0;
  @!%p3 bra WAIT;
DONE:
  ret;
}
)";
  };
  EXPECT_RUNS(runHopper(kernel(true), "initrace", {}, 64));
  expectError(runHopper(kernel(false), "initrace", {}, 64),
              {"shared-memory race", "thread (32, 0, 0)",
               "conflicts with the write by thread (0, 0, 0)",
               "mbarrier.init.shared::cta.b64 [bar], 32;"});
}

TEST(MbarrierTest, UseBeforeInitAndTooManyArrivalsAreErrors) {
  DeviceVector<uint32_t> out(1, 0);
  expectError(runHopper(singleThreadKernel(R"(
  mbarrier.arrive.shared::cta.b64 %rd2, [bar];
)"),
                        "seq", {out.address()}, 1),
              {"the mbarrier at shared offset 0x0 is not initialised"});
  expectError(runHopper(singleThreadKernel(R"(
  mbarrier.init.shared::cta.b64 [bar], 1;
  mbarrier.arrive.shared::cta.b64 %rd2, [bar], 2;
)"),
                        "seq", {out.address()}, 1),
              {"2 arrivals on the mbarrier at shared offset 0x0, whose "
               "current phase has only 1 pending"});
  expectError(runHopper(singleThreadKernel(R"(
  mbarrier.init.shared::cta.b64 [bar], 0;
)"),
                        "seq", {out.address()}, 1),
              {"mbarrier count 0 outside 1..2^20-1"});
}

TEST(ElectTest, ElectsTheLowestActiveMember) {
  // Lanes 0-3 skip; lanes 4-31 elect among membermask 0xfffffff0.
  const char *ptx = R"(
.visible .entry elect(.param .u64 pout)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %laneid;
  mov.u32 %r2, 99;
  mov.u32 %r3, 99;
  setp.lt.u32 %p1, %r1, 4;
  @%p1 bra STORE;
  elect.sync %r2|%p2, 0xfffffff0;
  selp.u32 %r3, 1, 0, %p2;
STORE:
  mul.wide.u32 %rd2, %r1, 8;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v2.u32 [%rd3], {%r2, %r3};
  ret;
}
)";
  DeviceVector<uint32_t> out(64, 0);
  EXPECT_RUNS(runHopper(ptx, "elect", {out.address()}, 32));
  std::vector<uint32_t> expected;
  for (uint32_t lane = 0; lane < 32; ++lane) {
    expected.push_back(lane < 4 ? 99 : 4);
    expected.push_back(lane < 4 ? 99 : lane == 4);
  }
  EXPECT_EQ(out.read(), expected);
}

} // namespace

//===----------------------------------------------------------------------===//
// cp.async.bulk (non-tensor) completing transactions on an mbarrier
//===----------------------------------------------------------------------===//

/// 64 threads, the mbarrier `bar` at shared offset 0 and 512 bytes of
/// `buf` at 128. Warp 1's first thread expects 512
/// bytes on `bar` and copies src to buf with `copies` (PTX lines using
/// %rd1 = src, `buf`, `bar`); warp 0 waits for phase 0 and copies buf to
/// out (16 bytes a lane), running `beforeWait` first.
std::string bulkKernel(const std::string &copies,
                       const std::string &beforeWait = "") {
  return R"(
.visible .entry bulk(.param .u64 psrc, .param .u64 pout)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .shared .align 8 .b64 bar;
  .shared .align 128 .b8 buf[512];
  ld.param.u64 %rd1, [psrc];
  ld.param.u64 %rd2, [pout];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra INITED;
  mbarrier.init.shared::cta.b64 [bar], 1;
  fence.mbarrier_init.release.cluster;
  fence.proxy.async.shared::cta;
INITED:
  bar.sync 0;
  setp.lt.u32 %p2, %r1, 32;
  @%p2 bra CONSUMER;
  setp.ne.u32 %p1, %r1, 32;
  @%p1 bra DONE;
  mbarrier.arrive.expect_tx.shared::cta.b64 _, [bar], 512;
)" + copies +
         R"(
  bra DONE;
CONSUMER:
)" + beforeWait +
         R"(
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p3, [bar], 0;
  @!%p3 bra WAIT;
  mul.wide.u32 %rd3, %r1, 16;
  mov.u64 %rd4, buf;
  add.s64 %rd5, %rd4, %rd3;
  ld.shared.v4.u32 {%r4, %r5, %r6, %r7}, [%rd5];
  add.s64 %rd6, %rd2, %rd3;
  st.global.v4.u32 [%rd6], {%r4, %r5, %r6, %r7};
DONE:
  ret;
}
)";
}

std::vector<uint32_t> bulkSource() {
  std::vector<uint32_t> src(128);
  for (uint32_t i = 0; i < 128; ++i)
    src[i] = 1000 + 7 * i;
  return src;
}

TEST(BulkCopyTest, OneCopyCompletesTheExpectedTransactions) {
  DeviceVector<uint32_t> src(bulkSource()), out(128, 0);
  // The consumer warp runs first and waits; the copy lands once nothing
  // else can go on, completing phase 0 and waking it.
  EXPECT_RUNS(runHopper(bulkKernel(R"(
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf], [%rd1], 512, [bar];
)"),
                        "bulk", {src.address(), out.address()}, 64));
  EXPECT_EQ(out.read(), bulkSource());
}

TEST(BulkCopyTest, ThePhaseWaitsForEveryExpectedByte) {
  // Two copies of 256 bytes (one with a cache-policy operand, which changes
  // nothing here); 512 expected. The producer tests the phase between them:
  // the first copy alone leaves a tx-count of 256, so it is not complete
  // (out[128] = 0).
  DeviceVector<uint32_t> src(bulkSource()), out(129, 7);
  EXPECT_RUNS(runHopper(bulkKernel(R"(
  mov.b64 %rd9, 0;
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [buf], [%rd1], 256, [bar], %rd9;
  mbarrier.test_wait.parity.shared::cta.b64 %p3, [bar], 0;
  selp.u32 %r8, 1, 0, %p3;
  st.global.u32 [%rd2+512], %r8;
  add.s64 %rd7, %rd1, 256;
  mov.u64 %rd8, buf;
  cp.async.bulk.shared::cta.global.mbarrier::complete_tx::bytes [%rd8+256], [%rd7], 256, [bar];
)"),
                        "bulk", {src.address(), out.address()}, 64));
  std::vector<uint32_t> expected = bulkSource();
  expected.push_back(0);
  EXPECT_EQ(out.read(), expected);
}

TEST(BulkCopyTest, ReadingBeforeThePhaseCompletesIsStale) {
  DeviceVector<uint32_t> src(bulkSource()), out(128, 0);
  // The producer reads the destination right after issuing.
  expectError(runHopper(bulkKernel(R"(
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf], [%rd1], 512, [bar];
  ld.shared.u32 %r9, [buf+4];
)"),
                        "bulk", {src.address(), out.address()}, 64),
              {"thread (32, 0, 0)", "stale read of shared byte 0x84",
               "while a cp.async.bulk of thread (32, 0, 0)",
               "the phase of its mbarrier had not completed"});
  // The copy has landed (the consumer's test_wait found it) but the phase
  // still lacks 256 bytes: the data is not yet visible.
  expectError(runHopper(bulkKernel(R"(
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf], [%rd1], 256, [bar];
)",
                                   R"(
  mbarrier.test_wait.parity.shared::cta.b64 %p3, [bar], 0;
  ld.shared.u32 %r9, [buf];
)"),
                        "bulk", {src.address(), out.address()}, 64),
              {"thread (0, 0, 0)", "stale read of shared byte 0x80"});
}

TEST(BulkCopyTest, BoundsSizesAndAlignmentAreChecked) {
  DeviceVector<uint32_t> src(bulkSource()), out(128, 0);
  auto run = [&](const std::string &copy) {
    return runHopper(bulkKernel(copy), "bulk", {src.address(), out.address()},
                     64);
  };
  expectError(run(R"(
  add.s64 %rd7, %rd1, 16;
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf], [%rd7], 512, [bar];
)"),
              {"out-of-bounds global read of 512 bytes",
               "16 bytes past the end of the 512-byte device allocation"});
  expectError(run(R"(
  mov.u32 %r10, 24;
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf], [%rd1], %r10, [bar];
)"),
              {"cp.async.bulk size 24 is not a positive multiple of 16"});
  expectError(run(R"(
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf+8], [%rd1], 16, [bar];
)"),
              {"misaligned cp.async.bulk destination at shared offset 0x88"});
  expectError(run(R"(
  cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [buf+256], [%rd1], 512, [bar];
)"),
              {"out-of-bounds bulk copy of 512 bytes to shared offset 0x180",
               "the CTA has 640 bytes of shared memory"});
}

//===----------------------------------------------------------------------===//
// cp.async.bulk.tensor.2d with a CUtensorMap
//===----------------------------------------------------------------------===//

/// 64 threads. Thread 0 expects `pbytes` on the mbarrier and copies the box
/// at (pc0, pc1) of the map (a kernel parameter, by its generic address) to
/// `buf` (1024-byte aligned); after the wait
/// every thread copies 16 bytes of buf to out.
const char *kTensorTile = R"(
.visible .entry tile(.param .align 64 .b8 tmap[128], .param .u64 pout,
                     .param .u32 pc0, .param .u32 pc1, .param .u32 pbytes)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  .shared .align 8 .b64 bar;
  .shared .align 1024 .b8 buf[1024];
  ld.param.u64 %rd1, [pout];
  ld.param.u32 %r1, [pc0];
  ld.param.u32 %r2, [pc1];
  ld.param.u32 %r3, [pbytes];
  mov.u32 %r4, %tid.x;
  setp.ne.u32 %p1, %r4, 0;
  @%p1 bra ISSUED;
  mbarrier.init.shared::cta.b64 [bar], 1;
  mbarrier.arrive.expect_tx.shared::cta.b64 _, [bar], %r3;
  mov.u64 %rd6, tmap;
  cvta.param.u64 %rd7, %rd6;
  cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [buf], [%rd7, {%r1, %r2}], [bar];
ISSUED:
  bar.sync 0;
WAIT:
  mbarrier.try_wait.parity.shared::cta.b64 %p2, [bar], 0;
  @!%p2 bra WAIT;
  mul.wide.u32 %rd2, %r4, 16;
  mov.u64 %rd3, buf;
  add.s64 %rd4, %rd3, %rd2;
  ld.shared.v4.u32 {%r5, %r6, %r7, %r8}, [%rd4];
  add.s64 %rd5, %rd1, %rd2;
  st.global.v4.u32 [%rd5], {%r5, %r6, %r7, %r8};
  ret;
}
)";

struct alignas(64) TensorMapBytes {
  uint8_t bytes[128];
};

/// A 2D u32 tensor (dims innermost first, row stride in bytes) holding
/// 100 * y + x, encoded with `box` and `swizzle`; the tile kernel's output.
class TensorTile {
public:
  TensorTile(uint64_t dim0, uint64_t dim1, uint64_t rowStride)
      : dims{dim0, dim1}, stride(rowStride),
        tensor(std::vector<uint32_t>(rowStride / 4 * dim1, 0)) {
    std::vector<uint32_t> host(rowStride / 4 * dim1, 0xdeadbeef);
    for (uint64_t y = 0; y < dim1; ++y)
      for (uint64_t x = 0; x < dim0; ++x)
        host[y * (rowStride / 4) + x] = static_cast<uint32_t>(100 * y + x);
    std::memcpy(reinterpret_cast<void *>(tensor.address()), host.data(),
                host.size() * 4);
  }

  Status encode(uint32_t box0, uint32_t box1, int swizzle) {
    uint32_t box[2] = {box0, box1}, ones[2] = {1, 1};
    boxBytes = box0 * box1 * 4;
    return encodeTensorMapTiled(map.bytes, /*UINT32*/ 2, 2,
                                reinterpret_cast<void *>(tensor.address()),
                                dims, &stride, box, ones, 0, swizzle, 0, 0);
  }

  Status run(int32_t c0, int32_t c1) {
    Simulator &sim = Simulator::instance();
    std::string text = std::string(kHopperHeader) + kTensorTile;
    keepKernel(text);
    Module *module = nullptr;
    Status status = sim.loadModule(text.c_str(), text.size(), module);
    if (!status)
      return status;
    Function *function = nullptr;
    status = sim.getFunction(module, "tile", function);
    uint64_t outAddress = out.address();
    void *params[] = {&map, &outAddress, &c0, &c1, &boxBytes};
    LaunchConfig config;
    config.block[0] = 64;
    if (status)
      status = sim.launch(function, config, params);
    sim.unloadModule(module);
    return status;
  }

  std::vector<uint32_t> tile() const {
    std::vector<uint32_t> all = out.read();
    return std::vector<uint32_t>(all.begin(), all.begin() + boxBytes / 4);
  }

  TensorMapBytes map = {};

private:
  uint64_t dims[2];
  uint64_t stride;
  DeviceVector<uint32_t> tensor;
  DeviceVector<uint32_t> out{256, 0};
  uint32_t boxBytes = 0;
};

TEST(TensorCopyTest, BoxesAreDenseRowMajorWithZerosOutOfBounds) {
  // 6 x 5 elements in rows of 32 bytes (8 words, 2 of padding); box 4 x 4.
  TensorTile t(6, 5, 32);
  ASSERT_TRUE(t.encode(4, 4, 0));
  for (auto [c0, c1] : {std::pair{4, 3}, std::pair{-2, -1}, std::pair{1, 0}}) {
    EXPECT_RUNS(t.run(c0, c1));
    std::vector<uint32_t> expected;
    for (int y = c1; y < c1 + 4; ++y)
      for (int x = c0; x < c0 + 4; ++x)
        expected.push_back(x >= 0 && x < 6 && y >= 0 && y < 5
                               ? static_cast<uint32_t>(100 * y + x)
                               : 0);
    EXPECT_EQ(t.tile(), expected) << "box at (" << c0 << ", " << c1 << ")";
  }
}

TEST(TensorCopyTest, SwizzleModesPermuteSixteenByteChunks) {
  // Box rows as wide as the span (8, 16, 32 words). Swizzle<B, 4, 3>: the
  // 16-byte chunk index (address bits 4.., B bits) is XORed with address
  // bits 7.. (B bits) of the 1024-byte aligned buffer. Word w of the buffer
  // lies in row y = w / rowWords, chunk c, word j of the chunk; it holds
  // element x = (c ^ r) * 4 + j of row y, where r is bits 7.. of the row's
  // address y * rowBytes: 32B: (y / 4) & 1; 64B: (y / 2) & 3; 128B: y & 7.
  struct Mode {
    int swizzle;
    uint32_t rowWords;
    uint32_t (*r)(uint32_t y);
  };
  const Mode modes[] = {{1, 8, [](uint32_t y) { return (y / 4) & 1; }},
                        {2, 16, [](uint32_t y) { return (y / 2) & 3; }},
                        {3, 32, [](uint32_t y) { return y & 7; }}};
  for (const Mode &mode : modes) {
    TensorTile t(mode.rowWords, 8, mode.rowWords * 4);
    ASSERT_TRUE(t.encode(mode.rowWords, 8, mode.swizzle));
    EXPECT_RUNS(t.run(0, 0));
    std::vector<uint32_t> expected;
    for (uint32_t w = 0; w < mode.rowWords * 8; ++w) {
      uint32_t y = w / mode.rowWords, c = (w % mode.rowWords) / 4, j = w % 4;
      expected.push_back(100 * y + (c ^ mode.r(y)) * 4 + j);
    }
    EXPECT_EQ(t.tile(), expected) << "swizzle mode " << mode.swizzle;
  }
}

TEST(TensorCopyTest, EncodingChecksTheDriverRules) {
  TensorTile t(32, 8, 128);
  EXPECT_TRUE(t.encode(32, 8, 3));
  Status s = t.encode(64, 8, 3); // 256-byte rows, 128-byte span
  EXPECT_NE(s.error.find("exceeds the 128-byte swizzle span"),
            std::string::npos)
      << s.error;
  s = t.encode(3, 8, 0); // 12-byte rows
  EXPECT_NE(s.error.find("must be a multiple of 16 bytes"), std::string::npos)
      << s.error;
  uint64_t dims[2] = {32, 8}, stride = 24;
  uint32_t box[2] = {4, 4}, ones[2] = {1, 1};
  DeviceVector<uint32_t> data(64);
  s = encodeTensorMapTiled(t.map.bytes, 2, 2,
                           reinterpret_cast<void *>(data.address()), dims,
                           &stride, box, ones, 0, 0, 0, 0);
  EXPECT_NE(s.error.find("globalStrides[0] must be a multiple of 16"),
            std::string::npos)
      << s.error;
  s = encodeTensorMapTiled(t.map.bytes + 8, 2, 2,
                           reinterpret_cast<void *>(data.address()), dims,
                           &stride, box, ones, 0, 0, 0, 0);
  EXPECT_NE(s.error.find("64-byte aligned"), std::string::npos) << s.error;
}

TEST(TensorCopyTest, AMapNotMadeByTheEncoderIsRefused) {
  TensorTile t(32, 8, 128);
  ASSERT_TRUE(t.encode(32, 8, 0));
  std::memset(t.map.bytes, 0, 16);
  expectError(t.run(0, 0), {"thread (0, 0, 0)", "is not a CUtensorMap made by "
                                                "cuTensorMapEncodeTiled"});
}
