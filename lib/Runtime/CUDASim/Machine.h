//===- Machine.h - The PTX simulator's execution state ----------*- C++ -*-===//
//
// Private to lib/Runtime/CUDASim: device memory, the state of a CTA and its
// warps while a kernel runs, the checks on every access, and the helpers the
// instruction handlers share.
//
// Execution model: the warps of a CTA run one at a time, each until all its
// lanes wait (at a barrier or a warp-synchronous instruction) or have exited;
// CTAs run one after another. Within a warp the lanes run SIMT: the lanes
// with the lowest program counter execute the next instruction together, so
// diverged lanes reconverge where their paths meet.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_RUNTIME_CUDASIM_MACHINE_H
#define SLR_LIB_RUNTIME_CUDASIM_MACHINE_H

#include "Program.h"

#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace slr::sim {

/// A simulation failure: thrown by handlers and checks, caught at launch.
struct Fault {
  std::string message;
  int code; // CUresult the driver API returns for it
};

// CUresult values for faults (cuda.h).
inline constexpr int kErrorIllegalAddress = 700;
inline constexpr int kErrorMisalignedAddress = 716;
inline constexpr int kErrorIllegalInstruction = 715;
inline constexpr int kErrorLaunchFailed = 719;
inline constexpr int kErrorNotSupported = 801;
inline constexpr int kErrorLaunchTimeout = 702;
inline constexpr int kErrorInvalidValue = 1;

/// Generic-address windows of the shared and local state spaces (global
/// addresses are host addresses, below 2^47 on every 64-bit host).
inline constexpr uint64_t kSharedWindow = uint64_t(1) << 56;
inline constexpr uint64_t kLocalWindow = uint64_t(2) << 56;
inline constexpr uint64_t kParamWindow = uint64_t(3) << 56; // kernel params
inline constexpr uint64_t kWindowSize = uint64_t(1) << 32;

struct Allocation {
  uint64_t base = 0;
  uint64_t size = 0;
  std::string label;
};

/// Device allocations (host memory handed out by the simulator) and the
/// module variables, for the bounds checks of global accesses.
class DeviceMemory {
public:
  void *allocate(uint64_t size, const std::string &label);
  /// False (with `error`) for a pointer that is not a live allocation.
  bool release(void *pointer, std::string &error);
  void registerRange(void *pointer, uint64_t size, const std::string &label);
  void unregisterRange(void *pointer);
  /// The live allocation containing all of [address, address + size).
  const Allocation *find(uint64_t address, uint64_t size) const;
  /// Why [address, address + size) is not accessible, for messages.
  std::string describe(uint64_t address, uint64_t size) const;
  /// True if the range touches a live allocation (memcpy checks).
  bool overlapsAllocation(uint64_t address, uint64_t size) const;

private:
  mutable std::mutex mutex;
  std::map<uint64_t, Allocation> live;
  std::map<uint64_t, Allocation> freed; // recent frees, for messages
};

/// A cp.async in flight: the bytes were read at issue; they reach shared
/// memory when the thread waits for its group.
struct AsyncCopy {
  uint32_t sharedOffset;
  uint32_t size;
  uint32_t instrIndex;
  uint8_t data[16];
};

/// A bulk copy (cp.async.bulk{.tensor}) into shared memory in flight: the
/// source was read at issue; the bytes land, and complete their
/// transactions on the mbarrier, when a thread waits on that mbarrier or
/// nothing else can run. They stay marked in flight until the mbarrier's
/// phase completes.
struct BulkCopy {
  uint32_t sharedOffset = 0;
  uint32_t mbarrierOffset = 0;
  uint32_t instrIndex = 0;
  uint32_t warp = 0, lane = 0; // the issuing thread
  bool landed = false, done = false;
  std::vector<uint8_t> data;
};

/// Shadow state of one byte of shared memory for the race and stale-data
/// checks. Epochs name barrier intervals (unique across CTAs, so the shadow
/// needs no reset); warp epochs count bar.warp.sync within a warp.
struct ShadowByte {
  uint32_t writeEpoch = 0, readEpoch = 0;
  uint32_t writeWarpEpoch = 0, readWarpEpoch = 0;
  uint32_t writeInstr = 0, readInstr = 0;
  uint16_t writer = 0, reader = 0, readerWarp = 0;
  bool writeAtomic = false;
  uint16_t pending = 0;    // cp.async copies in flight to this byte...
  uint32_t pendingCta = 0; // ...in this CTA run (a fault leaves them set)
  uint16_t pendingThread = 0;
  uint32_t pendingInstr = 0;
  uint16_t wgmmaReads = 0; // in-flight wgmma.mma_async reading the byte...
  uint32_t wgmmaCta = 0;   // ...in this CTA run
  uint32_t wgmmaInstr = 0; // the latest of them
};

struct Warp {
  uint32_t id = 0;
  uint32_t existMask = 0; // lanes below the CTA's thread count
  // Disjoint lane sets: running, waiting at a barrier, waiting for the rest
  // of the warp at a warp-synchronous instruction, suspended in
  // mbarrier.try_wait until a phase completes, yielded after a failed
  // mbarrier.test_wait (running again in the next scheduling round), exited.
  uint32_t running = 0, atBarrier = 0, atCollective = 0, atMbarrier = 0,
           yielded = 0, exited = 0;
  uint32_t pc[32] = {};
  uint8_t barrier[32] = {};
  uint32_t mbarrierOffset[32] = {}; // shared offset a try_wait waits on...
  uint8_t mbarrierParity[32] = {};  // ...for completion of the phase of this
                                    // parity
  uint32_t warpEpoch = 0;
  /// A wgmma.mma_async of the warp's warpgroup is in flight: its registers
  /// are checked on every instruction of the warp.
  bool wgmmaBusy = false;
  std::vector<uint64_t> regs; // slot * 32 + lane
  std::vector<AsyncCopy> uncommitted[32];
  std::deque<std::vector<AsyncCopy>> groups[32];

  uint64_t &reg(uint32_t slot, unsigned lane) { return regs[slot * 32 + lane]; }
  uint64_t reg(uint32_t slot, unsigned lane) const {
    return regs[slot * 32 + lane];
  }
};

struct Barrier {
  uint32_t arrived = 0;
  uint32_t expected = 0; // threads; 0 while no thread waits
  uint32_t firstInstr = 0;
};

/// A wgmma.mma_async in flight (see WgmmaOps.cpp): its accumulator and A
/// fragment registers may not be touched by other instructions until a
/// wgmma.wait_group completes its group.
struct WgmmaOp {
  uint32_t instrIndex = 0;
  std::vector<uint32_t> accumulator; // register slots of D
  std::vector<uint32_t> aRegisters;  // register slots of A (A from registers)
  std::vector<uint32_t> sharedReads; // offsets of the 2-byte elements read
};

/// The state of four consecutive warps (warp id % 4 == 0 first) as the unit
/// of execution of wgmma.
struct Warpgroup {
  bool fenced = false; // a wgmma.fence was executed
  /// The registers of its warps at the last wgmma.fence, updated by each
  /// wgmma.mma_async for the accumulators it writes: a register that differs
  /// was written by another instruction since the fence.
  std::vector<uint64_t> snapshot[4];
  std::vector<WgmmaOp> uncommitted;
  std::deque<std::vector<WgmmaOp>> groups; // committed, oldest first
  /// Per register slot: 0 if free, else 1 + the instruction index of the
  /// in-flight wgmma.mma_async owning it, and whether as an accumulator
  /// (1) or an A register (0).
  std::vector<uint32_t> busyInstr;
  std::vector<uint8_t> busyAccumulator;
  uint32_t maxRegisters = 0; // last setmaxnreg count (0: none yet)
};

/// Options of a launch (from the environment, see Simulator.cpp).
struct Options {
  bool checkRaces = true;
  uint64_t maxWarpSteps = uint64_t(1) << 33;
};

struct Statistics {
  uint64_t launches = 0;
  uint64_t ctas = 0;
  uint64_t warpInstructions = 0;
  uint64_t threadInstructions = 0;
  double seconds = 0;
  uint64_t copies = 0, copiedBytes = 0, allocations = 0;
};

/// One kernel launch.
struct Launch {
  const Module *module = nullptr;
  const Function *function = nullptr;
  DeviceMemory *memory = nullptr;
  const Options *options = nullptr;
  Statistics *stats = nullptr;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint64_t dynamicShared = 0;
  std::vector<uint8_t> params;
  uint64_t warpSteps = 0;
  uint32_t *epochCounter = nullptr;
};

/// A CTA while it runs.
struct Cta {
  Launch *launch = nullptr;
  const Function *function = nullptr;
  uint32_t ctaid[3] = {0, 0, 0};
  uint32_t threads = 0;
  std::vector<Warp> warps;
  std::vector<uint8_t> shared;
  std::vector<ShadowByte> *shadow = nullptr;
  std::vector<uint8_t> local; // threads * localBytes
  uint32_t epoch = 0;
  uint32_t serial = 0; // unique per CTA run
  Barrier barriers[16];
  uint32_t exitedThreads = 0;
  std::vector<BulkCopy> bulkCopies;  // in issue order
  std::vector<Warpgroup> warpgroups; // warps 4i .. 4i+3

  // Last allocation hit of a global access (most accesses hit the same).
  const Allocation *lastAllocation = nullptr;
};

//===----------------------------------------------------------------------===//
// Helpers shared by the handlers
//===----------------------------------------------------------------------===//

/// "kernel 'k', PTX line L (`text`), thread (x, y, z) of block (x, y, z): what"
[[noreturn]] void fault(const Cta &cta, const Warp &warp, const Instr &instr,
                        unsigned lane, const std::string &what,
                        int code = kErrorLaunchFailed);
std::string threadName(const Cta &cta, unsigned linearThread);
std::string hex(uint64_t value);

inline unsigned linearThread(const Warp &warp, unsigned lane) {
  return warp.id * 32 + lane;
}

/// Iterates the set bits of a lane mask.
template <typename F> inline void forLanes(uint32_t mask, F &&f) {
  while (mask) {
    unsigned lane = static_cast<unsigned>(__builtin_ctz(mask));
    mask &= mask - 1;
    f(lane);
  }
}

/// The raw bits of operand `op` for `lane` (registers, immediates, clocks).
uint64_t readClock(const Cta &cta);
inline uint64_t operandBits(const Cta &cta, const Warp &warp, const Operand &op,
                            unsigned lane) {
  switch (op.kind) {
  case OperandKind::Reg: {
    uint64_t v = warp.reg(op.reg, lane);
    return op.negated ? (v ^ 1) : v;
  }
  case OperandKind::Imm:
    return static_cast<uint64_t>(op.value);
  case OperandKind::Clock:
    return readClock(cta);
  default:
    return 0;
  }
}

inline uint64_t truncateBits(uint64_t value, unsigned bits) {
  return bits >= 64 ? value : (value & ((uint64_t(1) << bits) - 1));
}
inline int64_t signExtend(uint64_t value, unsigned bits) {
  if (bits >= 64)
    return static_cast<int64_t>(value);
  uint64_t m = uint64_t(1) << (bits - 1);
  value = truncateBits(value, bits);
  return static_cast<int64_t>((value ^ m) - m);
}

inline float asFloat(uint64_t bits) {
  uint32_t b = static_cast<uint32_t>(bits);
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline double asDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
inline uint64_t floatBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline uint64_t doubleBits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

enum class Access : uint8_t { Read, Write, Atomic };

/// Checks an access of `size` bytes by one lane and returns host memory for
/// it; faults (out of bounds, misaligned, race, stale data) otherwise.
/// `space` Generic is resolved through the windows.
uint8_t *accessMemory(Cta &cta, Warp &warp, const Instr &instr, unsigned lane,
                      Space space, uint64_t address, unsigned size,
                      Access access, unsigned alignment);

/// The effective address of an Address operand for a lane.
inline uint64_t effectiveAddress(const Cta &cta, const Warp &warp,
                                 const Operand &op, unsigned lane) {
  uint64_t base = op.reg == kNoReg ? 0 : warp.reg(op.reg, lane);
  return base + static_cast<uint64_t>(op.value);
}

/// Issues a cp.async of `copySize` bytes (`sourceSize` read, the rest
/// zero) into the lane's open group: the source is read and the destination
/// checked now, the bytes marked in flight until the group completes.
void issueAsyncCopy(Cta &cta, Warp &warp, const Instr &instr, unsigned lane,
                    uint64_t sharedAddress, uint64_t globalAddress,
                    unsigned copySize, unsigned sourceSize);

/// Completes the oldest cp.async groups of a lane until at most `keep`
/// committed groups remain in flight.
void completeAsyncGroups(Cta &cta, Warp &warp, unsigned lane, size_t keep);

/// The lanes that must execute warp-synchronous `instr` together, for a
/// warp whose lanes `group` are at it.
uint32_t requiredLanes(const Cta &cta, const Warp &warp, const Instr &instr,
                       uint32_t group);

/// Lands the bulk copies in flight that complete transactions on the
/// mbarrier at `mbarrierOffset` (all of them if negative); true if any did.
bool landBulkCopies(Cta &cta, int64_t mbarrierOffset);

/// Lanes of the CTA suspended in mbarrier.try_wait, for deadlock messages.
std::string describeMbarrierWaiters(const Cta &cta);

/// The warpgroup rendezvous of `instr` (warpgroupCollective), reached by all
/// lanes of `warp` at instruction index `pc`: true if the other three warps
/// of its warpgroup wait there, so that it executes now; faults if they
/// wait at a different warpgroup instruction or cannot arrive.
bool warpgroupReady(const Cta &cta, const Warp &warp, const Instr &instr,
                    uint32_t pc);
/// Lets the other warps of `warp`'s warpgroup, which waited at a warpgroup
/// instruction, go on at `nextPc`.
void releaseWarpgroup(Cta &cta, const Warp &warp, uint32_t nextPc);
/// Faults if `instr` (not a wgmma) names a register of an in-flight
/// wgmma.mma_async of the warp's warpgroup.
void checkWgmmaRegisters(const Cta &cta, const Warp &warp, const Instr &instr,
                         uint32_t mask);
/// Faults for a write into shared byte `offset`, which the in-flight
/// wgmma.mma_async `shadow` names still reads (the ISA: its operands may
/// not change until a wgmma.wait_group covers it).
[[noreturn]] void wgmmaReadFault(const Cta &cta, const Warp &warp,
                                 const Instr &instr, unsigned lane,
                                 uint64_t offset, const ShadowByte &shadow,
                                 const char *what);
inline void checkWgmmaReaders(const Cta &cta, const Warp &warp,
                              const Instr &instr, unsigned lane,
                              uint64_t offset, uint64_t size,
                              const char *what) {
  for (uint64_t i = 0; i < size; ++i) {
    const ShadowByte &s = (*cta.shadow)[offset + i];
    if (s.wgmmaReads && s.wgmmaCta == cta.serial)
      wgmmaReadFault(cta, warp, instr, lane, offset + i, s, what);
  }
}
/// Resets the warpgroups of a CTA about to run.
void initWarpgroups(Cta &cta);

/// Runs all CTAs of a launch; throws Fault.
void runLaunch(Launch &launch);

} // namespace slr::sim

#endif // SLR_LIB_RUNTIME_CUDASIM_MACHINE_H
