//===- AsyncOps.cpp - mbarrier, elect.sync --------------------------------===//
//
// The asynchronous-synchronisation family of sm_90 (PTX ISA, "Parallel
// Synchronization and Communication Instructions: mbarrier"):
//
//  * An mbarrier object is 8 aligned bytes of shared memory holding the
//    current phase, the pending and expected arrival counts (1 .. 2^20-1)
//    and the transaction count (-(2^20-1) .. 2^20-1). The encoding is opaque
//    in the ISA; here it is pending (bits 0-19), expected (20-39), tx-count
//    (40-60, two's complement), phase parity (61) and a tag 0b01 (62-63),
//    so that a barrier used before mbarrier.init (poisoned 0xff bytes) is
//    reported instead of read as a state.
//  * A phase completes when the pending count and the tx-count are both 0:
//    the phase advances, the pending count is reset to the expected count.
//  * arrive returns the state before it (the phase it arrived on); test_wait
//    and try_wait with a state or a parity ask whether that phase completed,
//    which for the current or the preceding phase (the only ones the ISA
//    allows) is "the current parity differs".
//  * try_wait suspends the thread until the phase completes (the ISA allows
//    it to return false after a time limit; the simulator never does), so a
//    wait no arrival can end is reported as a deadlock. A failed test_wait
//    returns false and lets the other warps run before the thread goes on.
//  * The completion of a phase orders the accesses before it before those
//    after it: it starts a new shared-memory race interval.
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "TensorMap.h"

#include <algorithm>

using namespace slr::sim;

namespace {

constexpr uint32_t kMaxCount = (1u << 20) - 1;
constexpr uint64_t kTagMask = uint64_t(3) << 62;
constexpr uint64_t kTag = uint64_t(1) << 62;

struct MbarrierState {
  uint32_t pending = 0, expected = 0;
  int32_t tx = 0;
  unsigned phase = 0;
};

bool decodeState(uint64_t raw, MbarrierState &s) {
  if ((raw & kTagMask) != kTag)
    return false;
  s.pending = static_cast<uint32_t>(raw & 0xfffff);
  s.expected = static_cast<uint32_t>((raw >> 20) & 0xfffff);
  s.tx = static_cast<int32_t>(signExtend(raw >> 40, 21));
  s.phase = static_cast<unsigned>((raw >> 61) & 1);
  return true;
}

uint64_t encodeState(const MbarrierState &s) {
  return kTag | uint64_t(s.phase) << 61 |
         (uint64_t(static_cast<uint32_t>(s.tx)) & 0x1fffff) << 40 |
         uint64_t(s.expected) << 20 | s.pending;
}

enum class MbarrierOp : uint32_t {
  Init,
  Arrive,
  ArriveDrop,
  ExpectTx,
  CompleteTx,
  TestWait,
  TryWait,
};

/// The shared offset of the mbarrier an instruction names for a lane.
uint64_t sharedOffset(const Cta &cta, const Warp &w, const Instr &in,
                      const Operand &address, unsigned lane) {
  uint64_t a = effectiveAddress(cta, w, address, lane);
  if (in.space == Space::Generic && a - kSharedWindow < kWindowSize)
    return a - kSharedWindow;
  if (in.space == Space::Generic)
    fault(cta, w, in, lane,
          "mbarrier address " + hex(a) + " is not in shared memory");
  return a;
}

/// The lane's mbarrier: checked for bounds, alignment and races (as an
/// atomic access), and decoded.
uint8_t *mbarrierWord(Cta &cta, Warp &w, const Instr &in, unsigned lane,
                      uint64_t offset, MbarrierState &state) {
  uint8_t *p = accessMemory(cta, w, in, lane, Space::Shared, offset, 8,
                            Access::Atomic, 8);
  uint64_t raw;
  std::memcpy(&raw, p, 8);
  if (!decodeState(raw, state))
    fault(cta, w, in, lane,
          "the mbarrier at shared offset " + hex(offset) +
              " is not initialised (no mbarrier.init before this use)");
  return p;
}

void store(uint8_t *p, const MbarrierState &s) {
  uint64_t raw = encodeState(s);
  std::memcpy(p, &raw, 8);
}

/// Releases the lanes suspended in try_wait on the mbarrier at `offset`
/// whose phase has completed: their predicate is true, they go on.
void wakeWaiters(Cta &cta, uint64_t offset, unsigned phase) {
  for (Warp &w : cta.warps) {
    uint32_t woken = 0;
    forLanes(w.atMbarrier, [&](unsigned lane) {
      if (w.mbarrierOffset[lane] != offset || w.mbarrierParity[lane] == phase)
        return;
      const Instr &wait = cta.function->code[w.pc[lane]];
      w.reg(wait.operands[0].reg, lane) = 1;
      ++w.pc[lane];
      woken |= 1u << lane;
    });
    w.atMbarrier &= ~woken;
    w.running |= woken;
  }
}

/// Completes the phase if nothing is pending; stores the state.
void update(Cta &cta, uint8_t *p, uint64_t offset, MbarrierState &s) {
  bool complete = s.pending == 0 && s.tx == 0;
  if (complete) {
    s.phase ^= 1;
    s.pending = s.expected;
  }
  store(p, s);
  if (complete) {
    cta.epoch = ++*cta.launch->epochCounter;
    // The bytes of the copies that completed transactions of this phase are
    // now visible.
    for (BulkCopy &copy : cta.bulkCopies)
      if (copy.landed && !copy.done && copy.mbarrierOffset == offset) {
        for (size_t i = 0; i < copy.data.size(); ++i)
          (*cta.shadow)[copy.sharedOffset + i].pending = 0;
        copy.done = true;
      }
    wakeWaiters(cta, offset, s.phase);
  }
}

void addTx(Cta &cta, Warp &w, const Instr &in, unsigned lane, MbarrierState &s,
           int64_t delta) {
  int64_t tx = s.tx + delta;
  if (tx > kMaxCount || tx < -int64_t(kMaxCount))
    fault(cta, w, in, lane,
          "mbarrier tx-count " + std::to_string(tx) +
              " outside the range the ISA allows (+-(2^20-1))");
  s.tx = static_cast<int32_t>(tx);
}

uint64_t countOperand(Cta &cta, Warp &w, const Instr &in, unsigned lane,
                      size_t index, const char *what) {
  uint64_t v = truncateBits(operandBits(cta, w, in.operands[index], lane), 32);
  if (v < 1 || v > kMaxCount)
    fault(cta, w, in, lane,
          std::string("mbarrier ") + what + " " + std::to_string(v) +
              " outside 1..2^20-1");
  return v;
}

void execInit(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    uint64_t offset = sharedOffset(cta, w, in, in.operands[0], lane);
    MbarrierState s;
    s.expected = s.pending =
        static_cast<uint32_t>(countOperand(cta, w, in, lane, 1, "count"));
    // A plain write: using the barrier unordered after it is a race.
    store(accessMemory(cta, w, in, lane, Space::Shared, offset, 8,
                       Access::Write, 8),
          s);
  });
}

void execArrive(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const auto op = static_cast<MbarrierOp>(in.imm);
  const bool expectTx = in.flag;
  forLanes(mask, [&](unsigned lane) {
    uint64_t offset = sharedOffset(cta, w, in, in.operands[1], lane);
    MbarrierState s;
    uint8_t *p = mbarrierWord(cta, w, in, lane, offset, s);
    uint64_t before = encodeState(s);
    uint64_t count = 1;
    if (expectTx)
      addTx(cta, w, in, lane, s,
            static_cast<int64_t>(countOperand(cta, w, in, lane, 2, "txCount")));
    else if (in.operands.size() > 2)
      count = countOperand(cta, w, in, lane, 2, "count");
    if (op == MbarrierOp::ArriveDrop) {
      if (s.expected < count)
        fault(cta, w, in, lane,
              "mbarrier.arrive_drop of " + std::to_string(count) +
                  " with an expected arrival count of only " +
                  std::to_string(s.expected));
      s.expected -= static_cast<uint32_t>(count);
    }
    if (s.pending < count)
      fault(cta, w, in, lane,
            std::to_string(count) +
                " arrivals on the mbarrier at shared "
                "offset " +
                hex(offset) + ", whose current phase has only " +
                std::to_string(s.pending) + " pending");
    s.pending -= static_cast<uint32_t>(count);
    w.reg(in.operands[0].reg, lane) = before;
    update(cta, p, offset, s);
  });
}

void execTx(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const bool complete =
      static_cast<MbarrierOp>(in.imm) == MbarrierOp::CompleteTx;
  forLanes(mask, [&](unsigned lane) {
    uint64_t offset = sharedOffset(cta, w, in, in.operands[0], lane);
    MbarrierState s;
    uint8_t *p = mbarrierWord(cta, w, in, lane, offset, s);
    int64_t count =
        static_cast<int64_t>(countOperand(cta, w, in, lane, 1, "txCount"));
    addTx(cta, w, in, lane, s, complete ? -count : count);
    update(cta, p, offset, s);
  });
}

/// The parity of the phase a wait names: its parity operand, or the phase
/// of the state an arrive returned.
unsigned waitParity(Cta &cta, Warp &w, const Instr &in, unsigned lane) {
  uint64_t v = operandBits(cta, w, in.operands[2], lane);
  if (in.flag)
    return static_cast<unsigned>(v & 1);
  MbarrierState named;
  if (!decodeState(v, named))
    fault(cta, w, in, lane,
          "the state operand " + hex(v) +
              " is not a state returned by mbarrier.arrive");
  return named.phase;
}

void execWait(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const bool suspend = static_cast<MbarrierOp>(in.imm) == MbarrierOp::TryWait;
  const uint32_t self = static_cast<uint32_t>(&in - cta.function->code.data());
  uint32_t waiting = 0;
  forLanes(mask, [&](unsigned lane) {
    uint64_t offset = sharedOffset(cta, w, in, in.operands[1], lane);
    landBulkCopies(cta, static_cast<int64_t>(offset));
    MbarrierState s;
    mbarrierWord(cta, w, in, lane, offset, s);
    unsigned parity = waitParity(cta, w, in, lane);
    bool complete = s.phase != parity;
    w.reg(in.operands[0].reg, lane) = complete;
    if (complete)
      return;
    waiting |= 1u << lane;
    if (suspend) {
      w.pc[lane] = self;
      w.mbarrierOffset[lane] = static_cast<uint32_t>(offset);
      w.mbarrierParity[lane] = static_cast<uint8_t>(parity);
    }
  });
  w.running &= ~waiting;
  (suspend ? w.atMbarrier : w.yielded) |= waiting;
}

void execElect(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  // The ISA promises a deterministic leader among the active members; this
  // is the lowest active lane of the member mask.
  if (!mask)
    return;
  uint32_t members = requiredLanes(cta, w, in, mask) & mask;
  if (!members)
    return;
  unsigned leader = static_cast<unsigned>(__builtin_ctz(members));
  const Operand &d = in.operands[0];
  forLanes(mask, [&](unsigned lane) {
    w.reg(d.vec[0], lane) = leader;
    w.reg(d.vec[1], lane) = lane == leader;
  });
}

//===----------------------------------------------------------------------===//
// Bulk copies
//===----------------------------------------------------------------------===//

/// Starts a bulk copy of `data` to shared `dst` completing transactions on
/// the mbarrier at shared `mbar`: checks the destination and the mbarrier
/// address now and marks the bytes in flight.
void issueBulkCopy(Cta &cta, Warp &w, const Instr &in, unsigned lane,
                   uint64_t dst, std::vector<uint8_t> data, uint64_t mbar) {
  uint64_t total = cta.shared.size();
  if (dst > total || data.size() > total - dst)
    fault(cta, w, in, lane,
          "out-of-bounds bulk copy of " + std::to_string(data.size()) +
              " bytes to shared offset " + hex(dst) + ": the CTA has " +
              std::to_string(total) + " bytes of shared memory",
          kErrorIllegalAddress);
  if (mbar % 8 != 0 || mbar > total || total - mbar < 8)
    fault(cta, w, in, lane,
          "the bulk copy's mbarrier at shared offset " + hex(mbar) +
              " is misaligned or outside the CTA's " + std::to_string(total) +
              " bytes of shared memory",
          kErrorIllegalAddress);
  BulkCopy copy;
  copy.sharedOffset = static_cast<uint32_t>(dst);
  copy.mbarrierOffset = static_cast<uint32_t>(mbar);
  copy.instrIndex = static_cast<uint32_t>(&in - cta.function->code.data());
  copy.warp = w.id;
  copy.lane = lane;
  checkWgmmaReaders(cta, w, in, lane, dst, data.size(), "bulk copy");
  std::vector<ShadowByte> &shadow = *cta.shadow;
  for (size_t i = 0; i < data.size(); ++i) {
    ShadowByte &b = shadow[dst + i];
    if (b.pending && b.pendingCta == cta.serial) {
      const Instr &other = cta.function->code[b.pendingInstr];
      fault(cta, w, in, lane,
            "bulk copy into shared byte " + hex(dst + i) +
                " while an earlier copy of thread " +
                threadName(cta, b.pendingThread) + " (PTX line " +
                std::to_string(other.line) + ") is still copying into it");
    }
    b.pending = 1;
    b.pendingCta = cta.serial;
    b.pendingThread = static_cast<uint16_t>(linearThread(w, lane));
    b.pendingInstr = copy.instrIndex;
  }
  copy.data = std::move(data);
  cta.bulkCopies.erase(std::remove_if(cta.bulkCopies.begin(),
                                      cta.bulkCopies.end(),
                                      [](const BulkCopy &c) { return c.done; }),
                       cta.bulkCopies.end());
  cta.bulkCopies.push_back(std::move(copy));
}

void execBulkCopy(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  // [dstMem], [srcMem], size, [mbar]
  forLanes(mask, [&](unsigned lane) {
    uint64_t dst = effectiveAddress(cta, w, in.operands[0], lane);
    uint64_t src = effectiveAddress(cta, w, in.operands[1], lane);
    uint64_t size = truncateBits(operandBits(cta, w, in.operands[2], lane), 32);
    uint64_t mbar = effectiveAddress(cta, w, in.operands[3], lane);
    if (size == 0 || size % 16 != 0)
      fault(cta, w, in, lane,
            "cp.async.bulk size " + std::to_string(size) +
                " is not a positive multiple of 16");
    if (dst % 16 != 0)
      fault(cta, w, in, lane,
            "misaligned cp.async.bulk destination at shared offset " +
                hex(dst) + " (needs 16-byte alignment)",
            kErrorMisalignedAddress);
    const uint8_t *source =
        accessMemory(cta, w, in, lane, Space::Global, src,
                     static_cast<unsigned>(size), Access::Read, 16);
    issueBulkCopy(cta, w, in, lane, dst,
                  std::vector<uint8_t>(source, source + size), mbar);
  });
}

/// The shared-memory byte offset of byte `offset` of a box written at
/// 128-byte aligned `dst` under swizzle mode `mode` (CUtensorMapSwizzle):
/// the 16-byte chunk index within each 128-byte row (address bits 4..6, of
/// which the 32B/64B modes use the low 1/2) is XORed with the row index
/// modulo 8 (bits 7..9), i.e. Swizzle<mode, 4, 3>.
uint64_t swizzled(uint64_t dst, uint64_t offset, unsigned mode) {
  if (!mode)
    return offset;
  uint64_t a = dst + offset;
  uint64_t mask = (uint64_t(1) << mode) - 1;
  return (a ^ (((a >> 7) & mask) << 4)) - dst;
}

void execTensorCopy(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  // [dstMem], [tensorMap, {c0, ...}], [mbar]
  const Operand &mapOp = in.operands[1];
  const unsigned rank = in.imm;
  forLanes(mask, [&](unsigned lane) {
    uint64_t dst = effectiveAddress(cta, w, in.operands[0], lane);
    uint64_t mbar = effectiveAddress(cta, w, in.operands[2], lane);
    // The generic address of the map: a kernel parameter (cvta.param),
    // .const or .global.
    const uint8_t *bytes = accessMemory(
        cta, w, in, lane, Space::Generic, effectiveAddress(cta, w, mapOp, lane),
        sizeof(TensorMapContents), Access::Read, 64);
    TensorMapContents map;
    std::memcpy(&map, bytes, sizeof(map));
    if (map.magic != TensorMapContents::kMagic)
      fault(cta, w, in, lane,
            "the tensor-map operand is not a CUtensorMap made by "
            "cuTensorMapEncodeTiled");
    if (map.rank != rank)
      fault(cta, w, in, lane,
            "a ." + std::to_string(rank) +
                "d tensor copy with a tensor map "
                "of rank " +
                std::to_string(map.rank));
    if (dst % 128 != 0)
      fault(cta, w, in, lane,
            "misaligned tensor copy destination at shared offset " + hex(dst) +
                " (needs 128-byte alignment)",
            kErrorMisalignedAddress);
    int64_t start[5] = {};
    uint64_t count[5] = {1, 1, 1, 1, 1};
    for (unsigned d = 0; d < rank; ++d) {
      start[d] = signExtend(w.reg(mapOp.vec[d], lane), 32);
      count[d] = map.box[d];
    }
    const unsigned eb = map.elementBytes;
    uint64_t elements = count[0] * count[1] * count[2] * count[3] * count[4];
    // Out-of-bound elements are zeros (OOB fill NONE); all count as bytes.
    std::vector<uint8_t> data(elements * eb, 0);
    uint64_t index[5] = {};
    for (uint64_t e = 0; e < elements; ++e) {
      uint64_t rest = e;
      for (unsigned d = 0; d < 5; ++d) {
        index[d] = rest % count[d];
        rest /= count[d];
      }
      uint64_t placed = swizzled(dst, e * eb, map.swizzle);
      if (placed + eb > data.size())
        fault(cta, w, in, lane,
              "the swizzled box does not fit its " +
                  std::to_string(data.size()) +
                  " bytes at this shared address (the simulator does not "
                  "model boxes smaller than their swizzle pattern)");
      bool inside = true;
      uint64_t address = map.address;
      for (unsigned d = 0; d < rank; ++d) {
        int64_t g = start[d] + static_cast<int64_t>(index[d]);
        inside &= g >= 0 && static_cast<uint64_t>(g) < map.dims[d];
        address += static_cast<uint64_t>(g) * map.strides[d];
      }
      if (!inside)
        continue;
      const uint8_t *source = accessMemory(cta, w, in, lane, Space::Global,
                                           address, eb, Access::Read, eb);
      std::memcpy(data.data() + swizzled(dst, e * eb, map.swizzle), source, eb);
    }
    issueBulkCopy(cta, w, in, lane, dst, std::move(data), mbar);
  });
}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

bool decodeMbarrier(Instr &in, Modifiers &m) {
  int op = m.takeOneOf({"init", "arrive", "arrive_drop", "expect_tx",
                        "complete_tx", "test_wait", "try_wait"});
  if (op < 0)
    return false;
  in.imm = static_cast<uint32_t>(op);
  auto kind = static_cast<MbarrierOp>(op);
  bool waits = kind == MbarrierOp::TestWait || kind == MbarrierOp::TryWait;
  bool arrives = kind == MbarrierOp::Arrive || kind == MbarrierOp::ArriveDrop;
  if (arrives)
    in.flag = m.take("expect_tx");
  if (waits)
    in.flag = m.take("parity");
  m.takeOrderingAndCacheHints(); // .release .acquire .relaxed .cta .cluster
  Space space = Space::Generic;
  bool cluster = m.take("shared::cluster");
  if (cluster)
    space = Space::Shared; // a cluster of one CTA: its own shared memory
  else if (m.takeSpace(space) && space != Space::Shared)
    return false;
  in.space = space;
  if (m.takeType() != Type::B64)
    return false;
  const std::vector<Operand> &ops = in.operands;
  auto countOk = [](const Operand &op) { return isRegOrImm(op); };
  switch (kind) {
  case MbarrierOp::Init:
    in.exec = execInit;
    return !cluster && ops.size() == 2 && isAddress(ops[0]) && countOk(ops[1]);
  case MbarrierOp::Arrive:
  case MbarrierOp::ArriveDrop:
    // The remote (shared::cluster) forms return no state.
    if (ops.size() < 2 || !isReg(ops[0]) || !isAddress(ops[1]) ||
        (cluster && ops[0].reg != kSinkSlot))
      return false;
    if (in.flag ? ops.size() != 3 : ops.size() > 3)
      return false;
    if (ops.size() == 3 && !countOk(ops[2]))
      return false;
    in.exec = execArrive;
    in.control = true; // it may release lanes of its own warp
    return true;
  case MbarrierOp::ExpectTx:
  case MbarrierOp::CompleteTx:
    in.exec = execTx;
    in.control = true;
    return ops.size() == 2 && isAddress(ops[0]) && countOk(ops[1]);
  case MbarrierOp::TestWait:
  case MbarrierOp::TryWait: {
    size_t most = kind == MbarrierOp::TryWait ? 4 : 3; // suspendTimeHint
    if (cluster || ops.size() < 3 || ops.size() > most || !isReg(ops[0]) ||
        ops[0].regType != Type::Pred || !isAddress(ops[1]) ||
        !isRegOrImm(ops[2]))
      return false;
    in.exec = execWait;
    in.control = true;
    return true;
  }
  }
  return false;
}

bool decodeCpAsyncBulk(Instr &in, Modifiers &m) {
  // cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes
  //   {.L2::cache_hint} [dstMem], [srcMem], size, [mbar]{, policy}
  if (!m.take("async") || !m.take("bulk"))
    return false;
  if (m.takeOneOf({"shared::cluster", "shared::cta"}) < 0 ||
      !m.take("global") || !m.take("mbarrier::complete_tx::bytes"))
    return false;
  bool policy = m.take("L2::cache_hint");
  std::vector<Operand> &ops = in.operands;
  if (policy && ops.size() == 5) // the cache-policy operand
    ops.pop_back();
  if (ops.size() != 4 || !isAddress(ops[0]) || !isAddress(ops[1]) ||
      !isRegOrImm(ops[2]) || !isAddress(ops[3]))
    return false;
  in.exec = execBulkCopy;
  return true;
}

bool decodeCpAsyncBulkTensor(Instr &in, Modifiers &m) {
  // cp.async.bulk.tensor.2d.shared::cluster.global.tile
  //   .mbarrier::complete_tx::bytes{.L2::cache_hint}
  //   [dstMem], [tensorMap, {c0, c1}], [mbar]{, policy}
  if (!m.take("async") || !m.take("bulk") || !m.take("tensor") || !m.take("2d"))
    return false;
  if (m.takeOneOf({"shared::cluster", "shared::cta"}) < 0 ||
      !m.take("global") || !m.take("mbarrier::complete_tx::bytes"))
    return false;
  m.take("tile"); // the default load mode
  bool policy = m.take("L2::cache_hint");
  std::vector<Operand> &ops = in.operands;
  if (policy && ops.size() == 4)
    ops.pop_back();
  in.imm = 2;
  if (ops.size() != 3 || !isAddress(ops[0]) ||
      ops[1].kind != OperandKind::Address || ops[1].count != in.imm ||
      !isAddress(ops[2]))
    return false;
  in.exec = execTensorCopy;
  return true;
}

bool decodeElect(Instr &in, Modifiers &m) {
  if (!m.take("sync") || in.operands.size() != 2 ||
      !isVector(in.operands[0], 2) || !isRegOrImm(in.operands[1]))
    return false;
  in.exec = execElect;
  in.warpCollective = true;
  in.collectiveMaskFromOperand = true;
  in.maskOperand = 1;
  return true;
}

} // namespace

bool slr::sim::landBulkCopies(Cta &cta, int64_t mbarrierOffset) {
  bool landed = false;
  // By index: completing a phase marks copies done but never removes them.
  for (size_t c = 0; c < cta.bulkCopies.size(); ++c) {
    BulkCopy &copy = cta.bulkCopies[c];
    if (copy.landed ||
        (mbarrierOffset >= 0 && copy.mbarrierOffset != mbarrierOffset))
      continue;
    copy.landed = true;
    landed = true;
    // The async proxy writes the bytes (no thread's access for the race
    // check), then performs complete-tx of their count on the mbarrier.
    std::memcpy(cta.shared.data() + copy.sharedOffset, copy.data.data(),
                copy.data.size());
    Warp &w = cta.warps[copy.warp];
    const Instr &in = cta.function->code[copy.instrIndex];
    uint8_t *p = cta.shared.data() + copy.mbarrierOffset;
    uint64_t raw;
    std::memcpy(&raw, p, 8);
    MbarrierState s;
    if (!decodeState(raw, s))
      fault(cta, w, in, copy.lane,
            "the bulk copy completes on the mbarrier at shared offset " +
                hex(copy.mbarrierOffset) + ", which is not initialised");
    addTx(cta, w, in, copy.lane, s, -static_cast<int64_t>(copy.data.size()));
    update(cta, p, copy.mbarrierOffset, s);
  }
  return landed;
}

std::string slr::sim::describeMbarrierWaiters(const Cta &cta) {
  std::string text;
  for (const Warp &w : cta.warps) {
    if (!w.atMbarrier)
      continue;
    unsigned lane = static_cast<unsigned>(__builtin_ctz(w.atMbarrier));
    const Instr &instr = cta.function->code[w.pc[lane]];
    text += " lanes " + hex(w.atMbarrier) + " of warp " + std::to_string(w.id) +
            " wait for a phase of parity " +
            std::to_string(w.mbarrierParity[lane]) +
            " of the mbarrier at shared offset " + hex(w.mbarrierOffset[lane]) +
            " at `" + instr.text + "` (PTX line " + std::to_string(instr.line) +
            ");";
  }
  return text;
}

void slr::sim::appendAsyncDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {{"mbarrier", decodeMbarrier},
                     {"elect", decodeElect},
                     {"cp", decodeCpAsyncBulk},
                     {"cp", decodeCpAsyncBulkTensor}});
}
