//===- CheckTest.cpp - The simulator's sanitizer checks -------------------===//
//
// Each defect class a kernel can have is planted in a small kernel and must
// end the launch with a one-line error naming the kernel, the PTX line, the
// thread and block and what went wrong; the same kernel without the defect
// runs and gives the right answer.
//
//===----------------------------------------------------------------------===//

#include "SimTestUtil.h"

using namespace slr::sim;
using namespace slr::sim::test;

namespace {

/// 1-based line (counting the header runKernel prepends) of the first line
/// of `ptx` containing `needle`.
unsigned lineOf(const std::string &ptx, const std::string &needle) {
  std::string text = std::string(kHeader) + ptx;
  size_t at = text.find(needle);
  unsigned line = 1;
  for (size_t i = 0; i < at; ++i)
    line += text[i] == '\n';
  return line;
}

//===----------------------------------------------------------------------===//
// Global memory
//===----------------------------------------------------------------------===//

/// out[i] = in[i + shift] for 64 threads x 2 blocks.
const char *kShiftedCopy = R"(
.visible .entry copy(.param .u64 pin, .param .u64 pout, .param .u64 pshift)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [pin];
  ld.param.u64 %rd2, [pout];
  ld.param.u64 %rd3, [pshift];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mad.lo.u32 %r3, %r2, 64, %r1;
  cvt.u64.u32 %rd4, %r3;
  add.s64 %rd5, %rd4, %rd3;
  shl.b64 %rd6, %rd5, 2;
  add.s64 %rd7, %rd1, %rd6;
  ld.global.u32 %r4, [%rd7];
  shl.b64 %rd8, %rd4, 2;
  add.s64 %rd9, %rd2, %rd8;
  st.global.u32 [%rd9], %r4;
  ret;
}
)";

TEST(GlobalCheckTest, InBoundsCopyRuns) {
  std::vector<uint32_t> data(128);
  for (uint32_t i = 0; i < 128; ++i)
    data[i] = i * 3;
  DeviceVector<uint32_t> in(data), out(128);
  EXPECT_RUNS(
      runKernel(kShiftedCopy, "copy", {in.address(), out.address(), 0}, 64, 2));
  EXPECT_EQ(out.read(), data);
}

TEST(GlobalCheckTest, ReadPastTheEndNamesTheThreadAndTheAllocation) {
  DeviceVector<uint32_t> in(128), out(128);
  // Shift 5: thread 59 of block 1 is the first to read element 128.
  Status status =
      runKernel(kShiftedCopy, "copy", {in.address(), out.address(), 5}, 64, 2);
  expectError(
      status,
      {"kernel 'copy'",
       "PTX line " + std::to_string(lineOf(kShiftedCopy, "ld.global.u32")),
       "`ld.global.u32 %r4, [%rd7];`", "thread (59, 0, 0) of block (1, 0, 0)",
       "out-of-bounds global read of 4 bytes at 0x",
       "4 bytes past the end of the 512-byte device allocation"});
}

TEST(GlobalCheckTest, HostPointersAndFreedMemoryAreNotDeviceMemory) {
  // Static storage: heap memory could reuse a freed device allocation.
  static uint32_t host[256];
  DeviceVector<uint32_t> out(128);
  expectError(runKernel(kShiftedCopy, "copy",
                        {reinterpret_cast<uint64_t>(host), out.address(), 0},
                        64, 2),
              {"thread (0, 0, 0) of block (0, 0, 0)",
               "not inside any device allocation"});
  uint64_t freed;
  {
    DeviceVector<uint32_t> gone(128);
    freed = gone.address();
  }
  expectError(runKernel(kShiftedCopy, "copy", {freed, out.address(), 0}, 64, 2),
              {"freed"});
}

TEST(GlobalCheckTest, MisalignedAccess) {
  DeviceVector<uint32_t> in(256), out(128);
  expectError(runKernel(kShiftedCopy, "copy",
                        {in.address() + 2, out.address(), 0}, 64, 2),
              {"misaligned global read of 4 bytes", "needs 4-byte alignment",
               "thread (0, 0, 0) of block (0, 0, 0)"});
}

//===----------------------------------------------------------------------===//
// Shared memory: bounds, races, stale cp.async data
//===----------------------------------------------------------------------===//

/// Thread `writer` stores 42 to shared word `index`; after an optional
/// bar.sync, thread `reader` loads it into out[0].
std::string sharedExchange(bool barrier, int writer, int reader, int index) {
  return R"(
.visible .entry exchange(.param .u64 pout)
{
  .shared .align 4 .b8 words[256];
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, )" +
         std::to_string(writer) + R"(;
  @%p1 bra SKIPWRITE;
  st.shared.u32 [words+)" +
         std::to_string(4 * index) + R"(], 42;
SKIPWRITE:
)" + (barrier ? "  bar.sync 0;\n" : "") +
         R"(  setp.ne.u32 %p2, %r1, )" + std::to_string(reader) + R"(;
  @%p2 bra DONE;
  ld.shared.u32 %r2, [words+)" +
         std::to_string(4 * index) + R"(];
  st.global.u32 [%rd1], %r2;
DONE:
  ret;
}
)";
}

TEST(SharedCheckTest, ABarrierOrdersAWriteBeforeARead) {
  DeviceVector<uint32_t> out(1);
  EXPECT_RUNS(runKernel(sharedExchange(true, 3, 40, 5), "exchange",
                        {out.address()}, 64));
  EXPECT_EQ(out.read()[0], 42u);
}

TEST(SharedCheckTest, ReadAfterWriteWithoutBarrierIsARace) {
  DeviceVector<uint32_t> out(1);
  std::string ptx = sharedExchange(false, 3, 40, 5);
  expectError(runKernel(ptx, "exchange", {out.address()}, 64),
              {"shared-memory race", "read of shared byte 0x14",
               "thread (40, 0, 0)", "write by thread (3, 0, 0)",
               "PTX line " + std::to_string(lineOf(ptx, "st.shared.u32")),
               "same barrier interval"});
}

TEST(SharedCheckTest, TwoWritersAreARace) {
  std::string ptx = R"(
.visible .entry clash(.param .u64 pout)
{
  .shared .align 4 .b8 words[64];
  .reg .b32 %r<6>;
  mov.u32 %r1, %tid.x;
  and.b32 %r2, %r1, 7;
  mov.u32 %r4, words;
  mad.lo.u32 %r3, %r2, 4, %r4;
  st.shared.u32 [%r3], %r1;
  ret;
}
)";
  // Threads 0 and 8 both write word 0.
  expectError(runKernel(ptx, "clash", {0}, 16), {"write of shared byte 0x0",
                                                 "conflicts with the write by "
                                                 "thread (0, 0, 0)",
                                                 "thread (8, 0, 0)"});
}

TEST(SharedCheckTest, OutOfBoundsShared) {
  std::string ptx = R"(
.visible .entry over(.param .u64 pout)
{
  .shared .align 4 .b8 words[64];
  .reg .b32 %r<4>;
  mov.u32 %r1, %tid.x;
  mov.u32 %r3, words;
  mad.lo.u32 %r2, %r1, 4, %r3;
  st.shared.u32 [%r2], %r1;
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "over", {0}, 16));
  expectError(runKernel(ptx, "over", {0}, 17),
              {"out-of-bounds shared write of 4 bytes at 0x40",
               "the CTA has 64 bytes of shared memory", "thread (16, 0, 0)"});
}

TEST(SharedCheckTest, UninitialisedSharedMemoryReadsAsPoison) {
  std::string ptx = R"(
.visible .entry poison(.param .u64 pout)
{
  .shared .align 4 .b8 words[64];
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  ld.shared.u32 %r1, [words+8];
  st.global.u32 [%rd1], %r1;
  ret;
}
)";
  DeviceVector<uint32_t> out(1);
  EXPECT_RUNS(runKernel(ptx, "poison", {out.address()}, 1));
  EXPECT_EQ(out.read()[0], 0xFFFFFFFFu); // a NaN for every float type
}

/// 32 threads copy in[0..128) to shared with cp.async in two groups (words
/// 0-63, then 64-127), then wait with `wait`, optionally bar.sync, and
/// thread `reader` copies shared word `word` to out.
std::string asyncCopy(const std::string &wait, bool barrier, int reader,
                      int word) {
  return R"(
.visible .entry async(.param .u64 pin, .param .u64 pout)
{
  .shared .align 16 .b8 buffer[512];
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [pin];
  ld.param.u64 %rd2, [pout];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  mov.u64 %rd5, buffer;
  add.s64 %rd6, %rd5, %rd3;
  cp.async.ca.shared.global [%rd6], [%rd4], 8;
  cp.async.commit_group;
  cp.async.ca.shared.global [%rd6+256], [%rd4+256], 8;
  cp.async.commit_group;
  )" + wait +
         "\n" + (barrier ? "  bar.sync 0;\n" : "") +
         R"(  setp.ne.u32 %p1, %r1, )" + std::to_string(reader) + R"(;
  @%p1 bra DONE;
  ld.shared.u32 %r2, [buffer+)" +
         std::to_string(4 * word) + R"(];
  st.global.u32 [%rd2], %r2;
DONE:
  ret;
}
)";
}

TEST(AsyncCopyCheckTest, WaitAndBarrierMakeTheDataVisible) {
  std::vector<uint32_t> data(128);
  for (uint32_t i = 0; i < 128; ++i)
    data[i] = 1000 + i;
  DeviceVector<uint32_t> in(data), out(1);
  EXPECT_RUNS(runKernel(asyncCopy("cp.async.wait_group 0;", true, 5, 100),
                        "async", {in.address(), out.address()}, 32));
  EXPECT_EQ(out.read()[0], 1100u);
  EXPECT_RUNS(runKernel(asyncCopy("cp.async.wait_all;", true, 31, 3), "async",
                        {in.address(), out.address()}, 32));
  EXPECT_EQ(out.read()[0], 1003u);
  // Waiting for all but the newest group makes the older one visible.
  EXPECT_RUNS(runKernel(asyncCopy("cp.async.wait_group 1;", true, 0, 10),
                        "async", {in.address(), out.address()}, 32));
  EXPECT_EQ(out.read()[0], 1010u);
}

TEST(AsyncCopyCheckTest, ReadingBeforeTheWaitIsStale) {
  std::vector<uint32_t> data(128, 7);
  DeviceVector<uint32_t> in(data), out(1);
  std::string noWait = asyncCopy("", true, 2, 4);
  expectError(
      runKernel(noWait, "async", {in.address(), out.address()}, 32),
      {"stale read of shared byte 0x10", "cp.async of thread (2, 0, 0)",
       "PTX line " + std::to_string(lineOf(noWait, "cp.async.ca.shared")),
       "not waited for"});
  // One group too few waited for: the newer group is still in flight.
  expectError(runKernel(asyncCopy("cp.async.wait_group 1;", true, 0, 70),
                        "async", {in.address(), out.address()}, 32),
              {"stale read of shared byte 0x118"});
}

TEST(AsyncCopyCheckTest, AWaitWithoutABarrierDoesNotPublishToOtherThreads) {
  std::vector<uint32_t> data(128, 7);
  DeviceVector<uint32_t> in(data), out(1);
  // Word 0 was copied by thread 0; thread 5 reads it after its own wait.
  expectError(
      runKernel(asyncCopy("cp.async.wait_all;", false, 5, 0), "async",
                {in.address(), out.address()}, 32),
      {"shared-memory race", "thread (5, 0, 0)", "write by thread (0, 0, 0)"});
}

TEST(AsyncCopyCheckTest, ZeroFillReadsNothing) {
  // src-size 0: the destination is zero-filled and the (invalid) source
  // is not read.
  std::string ptx = R"(
.visible .entry fill(.param .u64 pout)
{
  .shared .align 16 .b8 buffer[16];
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u64 %rd2, 16;
  cp.async.cg.shared.global [buffer], [%rd2], 16, 0;
  cp.async.wait_all;
  ld.shared.u32 %r1, [buffer+12];
  st.global.u32 [%rd1], %r1;
  ret;
}
)";
  DeviceVector<uint32_t> out(1, 5);
  EXPECT_RUNS(runKernel(ptx, "fill", {out.address()}, 1));
  EXPECT_EQ(out.read()[0], 0u);
}

//===----------------------------------------------------------------------===//
// Barriers, divergence, hangs
//===----------------------------------------------------------------------===//

TEST(BarrierCheckTest, AThreadThatExitsBeforeABarrier) {
  std::string ptx = R"(
.visible .entry early(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  mov.u32 %r1, %tid.x;
  setp.eq.u32 %p1, %r1, 70;
  @%p1 bra DONE;
  bar.sync 0;
DONE:
  ret;
}
)";
  expectError(runKernel(ptx, "early", {0}, 96),
              {"kernel 'early'", "barrier 0", "needs every thread of the CTA"});
}

TEST(BarrierCheckTest, MismatchedNamedBarriersDeadlock) {
  std::string ptx = R"(
.visible .entry stuck(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  mov.u32 %r1, %tid.x;
  setp.lt.u32 %p1, %r1, 32;
  @%p1 bra FIRST;
  bar.sync 2, 64;
  ret;
FIRST:
  bar.sync 1, 64;
  ret;
}
)";
  expectError(runKernel(ptx, "stuck", {0}, 64),
              {"deadlock", "32 of 64 threads wait at barrier 1",
               "32 of 64 threads wait at barrier 2"});
}

TEST(BarrierCheckTest, NamedBarrierWithACount) {
  // Warps 0 and 1 meet at barrier 1; warps 2 and 3 at barrier 2.
  std::string ptx = R"(
.visible .entry pairs(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  mov.u32 %r1, %tid.x;
  setp.lt.u32 %p1, %r1, 64;
  @%p1 bra FIRST;
  bar.sync 2, 64;
  ret;
FIRST:
  bar.sync 1, 64;
  ret;
}
)";
  EXPECT_RUNS(runKernel(ptx, "pairs", {0}, 128));
}

TEST(WarpCheckTest, ACollectiveMissingLanesThatExited) {
  std::string ptx = R"(
.visible .entry half(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  mov.u32 %r1, %laneid;
  setp.ge.u32 %p1, %r1, 16;
  @%p1 bra DONE;
  shfl.sync.idx.b32 %r2, %r1, 0, 31, 0xffffffff;
DONE:
  ret;
}
)";
  expectError(
      runKernel(ptx, "half", {0}, 32),
      {"warp-synchronous instruction", "lanes 0xffff0000", "have exited"});
}

TEST(WarpCheckTest, DivergedLanesReconverge) {
  // Odd and even lanes take different paths and meet again at JOIN, where
  // a full-warp shfl.sync needs all 32 of them.
  std::string ptx = R"(
.visible .entry diverge(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %laneid;
  and.b32 %r2, %r1, 1;
  setp.eq.u32 %p1, %r2, 1;
  @%p1 bra ODD;
  mul.lo.u32 %r3, %r1, 2;
  bra.uni JOIN;
ODD:
  mul.lo.u32 %r3, %r1, 3;
JOIN:
  shfl.sync.bfly.b32 %r4, %r3, 1, 31, 0xffffffff;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r4;
  ret;
}
)";
  DeviceVector<uint32_t> out(32);
  EXPECT_RUNS(runKernel(ptx, "diverge", {out.address()}, 32));
  std::vector<uint32_t> got = out.read();
  for (uint32_t l = 0; l < 32; ++l) {
    uint32_t partner = l ^ 1;
    EXPECT_EQ(got[l], partner * (partner & 1 ? 3 : 2)) << l;
  }
}

TEST(HangCheckTest, AnEndlessLoopHitsTheStepLimit) {
  std::string ptx = R"(
.visible .entry spin(.param .u64 pout)
{
LOOP:
  bra.uni LOOP;
}
)";
  Simulator::instance().setMaxWarpSteps(10000);
  Status status = runKernel(ptx, "spin", {0}, 32);
  Simulator::instance().setMaxWarpSteps(uint64_t(1) << 33);
  expectError(status,
              {"more than 10000 warp instructions", "SLR_CUDA_SIM_MAX_STEPS"});
}

//===----------------------------------------------------------------------===//
// What the simulator does not implement, and bad launches
//===----------------------------------------------------------------------===//

TEST(UnsupportedTest, InstructionsAndModifiersAreNamed) {
  std::string ptx = R"(
.visible .entry odd(.param .u64 pout)
{
  .reg .b32 %r<4>;
  mov.u32 %r1, 1;
  dp4a.u32.u32 %r2, %r1, %r1, %r1;
  ret;
}
)";
  expectError(runKernel(ptx, "odd", {0}, 1),
              {"does not implement instruction `dp4a.u32.u32`",
               "PTX line " + std::to_string(lineOf(ptx, "dp4a"))});
  std::string carry = R"(
.visible .entry carry(.param .u64 pout)
{
  .reg .b32 %r<4>;
  mov.u32 %r1, 1;
  add.cc.u32 %r2, %r1, %r1;
  ret;
}
)";
  expectError(runKernel(carry, "carry", {0}, 1),
              {"modifier .cc of `add.cc.u32`"});
  // Not executed: no error.
  std::string skipped = R"(
.visible .entry skip(.param .u64 pout)
{
  .reg .pred %p<2>;
  .reg .b32 %r<4>;
  setp.eq.u32 %p1, 0, 1;
  @%p1 dp4a.u32.u32 %r2, %r1, %r1, %r1;
  ret;
}
)";
  EXPECT_RUNS(runKernel(skipped, "skip", {0}, 1));
}

TEST(UnsupportedTest, ParseErrorsNameTheLine) {
  Status status = runKernel(".visible .entry k()\n{\n  .reg .b32 %r<2>;\n  "
                            "add.u32 %r1, %r9, 1;\n}\n",
                            "k", {}, 1);
  expectError(status, {"PTX line 7", "undeclared register %r9"});
  Module *module = nullptr;
  const char cubin[] = "\x7f"
                       "ELF\x02\x01";
  status = Simulator::instance().loadModule(cubin, sizeof(cubin), module);
  expectError(status, {"cubin", "format=isa"});
}

TEST(LaunchCheckTest, BadConfigurationsAreRefused) {
  std::string ptx = R"(
.visible .entry small(.param .u64 pout)
.maxntid 64, 1, 1
{
  ret;
}
)";
  expectError(runKernel(ptx, "small", {0}, 128), {"more than its .maxntid"});
  expectError(runKernel(ptx, "small", {0}, 2048), {"threads per block"});
  expectError(runKernel(ptx, "small", {0}, 32, 1, 300 * 1024),
              {"bytes of shared memory; the device allows"});
  expectError(runKernel(ptx, "missing", {0}, 32), {"no kernel named"});
}

} // namespace
