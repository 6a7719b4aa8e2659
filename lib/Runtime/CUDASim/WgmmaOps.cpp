//===- WgmmaOps.cpp - Warpgroup instructions (wgmma, setmaxnreg) ----------===//
//
// The sm_90a warpgroup family: wgmma.fence / commit_group / wait_group,
// wgmma.mma_async{.sp} (m64nNk16 dense, m64nNk32 sparse; f16/bf16 inputs,
// f32 accumulators, or f16 ones of f16 inputs) and setmaxnreg. A warpgroup is
// four consecutive warps, warp id % 4 == 0 first; its instructions are
// warpgroup-synchronous: the interpreter lets the warps arrive one by one and
// runs the handler once, for the last, acting on all 128 threads (PTX
// ISA 9.7.15 "Asynchronous Warpgroup Level Matrix Multiply-Accumulate
// Instructions").
//
// The async model (see docs/SIMULATOR.md): a wgmma.mma_async reads its
// shared-memory operands and registers when issued and writes D then; D and
// the A registers stay *in flight* until a wgmma.wait_group completes the
// group holding it. Any other instruction naming one of them before is an
// error (the ISA makes it undefined), and so is a wgmma.mma_async whose
// registers another instruction wrote since the last wgmma.fence (the ISA
// requires the fence between them), except the same accumulators chained
// through wgmma.mma_async instructions of one shape. Correct programs
// cannot tell this from results landing at the wait.
//
// Layouts (derived from the ISA, written out here):
//  * D (m64nN, f32): thread (warp w of the warpgroup, lane: g = lane / 4,
//    t = lane % 4) holds N/2 registers; register i is element
//    row 16w + g + 8 ((i / 2) % 2), column 8 (i / 4) + 2t + (i % 2); with
//    f16 accumulators element i is half i % 2 of register i / 2 (N/4 regs);
//  * A from registers (4 x .b32 of f16/bf16 pairs), element i (0..7) of a
//    thread: row 16w + g + 8 ((i / 2) % 2), column 2t + (i % 2) + 8 (i / 4)
//    (for .sp: a column of the compressed 64x16 A);
//  * shared-memory matrices through 64-bit descriptors (9.7.15.5.1.2.2):
//    start address bits 0-13, leading-dimension byte offset (LBO) bits
//    16-29, stride-dimension byte offset (SBO) bits 32-45, each in units of
//    16 bytes; base offset bits 49-51; swizzle bits 62-63 (0 none, 1 128B,
//    2 64B, 3 32B). Element (mn, k) of a K-major matrix (imm-trans 0) lies
//    at start + (mn / 8) SBO + (mn % 8) 16 + (k / 8) LBO + 2 (k % 8) without
//    swizzle, at start + (mn / 8) SBO + (mn % 8) S + 2k with an S-byte
//    swizzle (LBO unused); of an MN-major one (imm-trans 1) at start +
//    (mn / 8) SBO + 2 (mn % 8) + (k / 8) LBO + 16 (k % 8) without swizzle,
//    at start + (mn / (S/2)) LBO + 2 (mn % (S/2)) + (k / 8) SBO + S (k % 8)
//    with one. The swizzle then XORs address bits 4.. (log2(S/16) of them)
//    with as many bits from bit 7, on the absolute shared address, as the
//    tensor copies do, so a tile a swizzled cp.async.bulk.tensor wrote is
//    read back as the logical matrix.
//  * sparse metadata (m64nNk32, f16/bf16: 2:4, selector 0 or 1; ISA
//    9.7.15.6.2.1, whose figure is mma.sp m16n8k32's): per warp, that
//    layout on the warp's 16 rows: group j (columns
//    4j..4j+3) of local row r is described by the thread with lane
//    4 (r % 8) + 2 sel + j / 4, in bits 16 (r / 8) + 4 (j % 4): the first
//    kept index in bits 0-1, the second in bits 2-3.
//
// Arithmetic as mma.sync (WarpOps.cpp): every product exact, added to c in
// ascending k in double precision, rounded once to f32 (round to nearest).
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Float.h"

#include <algorithm>

using namespace slr::sim;

namespace {

inline uint32_t instrIndex(const Cta &cta, const Instr &in) {
  return static_cast<uint32_t>(&in - cta.function->code.data());
}

Warpgroup &warpgroupOf(Cta &cta, const Warp &w) {
  return cta.warpgroups[w.id / 4];
}

std::string slotName(const Cta &cta, uint32_t slot) {
  const auto &names = cta.function->slotNames;
  return slot < names.size() ? names[slot] : "register " + std::to_string(slot);
}

std::string lineOf(const Cta &cta, uint32_t index) {
  return "PTX line " + std::to_string(cta.function->code[index].line);
}

/// Recomputes which registers the in-flight ops own.
void rebuildBusy(Cta &cta, Warpgroup &wg, unsigned firstWarp) {
  std::fill(wg.busyInstr.begin(), wg.busyInstr.end(), 0);
  bool any = false;
  auto mark = [&](const WgmmaOp &op) {
    any = true;
    for (uint32_t slot : op.accumulator) {
      wg.busyInstr[slot] = op.instrIndex + 1;
      wg.busyAccumulator[slot] = 1;
    }
    for (uint32_t slot : op.aRegisters)
      if (!wg.busyInstr[slot]) {
        wg.busyInstr[slot] = op.instrIndex + 1;
        wg.busyAccumulator[slot] = 0;
      }
  };
  for (const auto &group : wg.groups)
    for (const WgmmaOp &op : group)
      mark(op);
  for (const WgmmaOp &op : wg.uncommitted)
    mark(op);
  for (unsigned i = 0; i < 4; ++i)
    cta.warps[firstWarp + i].wgmmaBusy = any;
}

//===----------------------------------------------------------------------===//
// wgmma.fence, commit_group, wait_group; setmaxnreg
//===----------------------------------------------------------------------===//

void execWgmmaFence(Cta &cta, Warp &w, const Instr &, uint32_t) {
  Warpgroup &wg = warpgroupOf(cta, w);
  unsigned first = w.id & ~3u;
  for (unsigned i = 0; i < 4; ++i)
    wg.snapshot[i] = cta.warps[first + i].regs;
  wg.fenced = true;
}

void execWgmmaCommit(Cta &cta, Warp &w, const Instr &, uint32_t) {
  Warpgroup &wg = warpgroupOf(cta, w);
  // An empty group is a group too (the ISA allows committing none).
  wg.groups.push_back(std::move(wg.uncommitted));
  wg.uncommitted.clear();
}

void execWgmmaWait(Cta &cta, Warp &w, const Instr &in, uint32_t) {
  Warpgroup &wg = warpgroupOf(cta, w);
  size_t keep = static_cast<size_t>(in.operands[0].value);
  while (wg.groups.size() > keep) {
    for (const WgmmaOp &op : wg.groups.front())
      for (uint32_t address : op.sharedReads)
        for (unsigned b = 0; b < 2; ++b) {
          ShadowByte &s = (*cta.shadow)[address + b];
          if (s.wgmmaCta == cta.serial && s.wgmmaReads)
            --s.wgmmaReads;
        }
    wg.groups.pop_front();
  }
  rebuildBusy(cta, wg, w.id & ~3u);
}

void execSetmaxnreg(Cta &cta, Warp &w, const Instr &in, uint32_t) {
  Warpgroup &wg = warpgroupOf(cta, w);
  int64_t count = in.operands[0].value;
  if (count < 24 || count > 256 || count % 8 != 0)
    fault(cta, w, in, 0,
          "setmaxnreg count " + std::to_string(count) +
              " is not a multiple of 8 in [24, 256]",
          kErrorIllegalInstruction);
  bool increase = in.flag;
  if (wg.maxRegisters &&
      (increase ? count < wg.maxRegisters : count > wg.maxRegisters))
    fault(cta, w, in, 0,
          std::string("setmaxnreg.") + (increase ? "inc" : "dec") + " to " +
              std::to_string(count) + " registers, but the warpgroup has " +
              std::to_string(wg.maxRegisters) + " (set by setmaxnreg)",
          kErrorIllegalInstruction);
  wg.maxRegisters = static_cast<uint32_t>(count);
}

//===----------------------------------------------------------------------===//
// Matrix descriptors
//===----------------------------------------------------------------------===//

struct Descriptor {
  uint64_t bits = 0;
  uint32_t start = 0, lbo = 0, sbo = 0;
  unsigned baseOffset = 0;
  unsigned swizzleBytes = 0; // 0 (none), 32, 64, 128
};

const char *swizzleName(unsigned bytes) {
  switch (bytes) {
  case 128:
    return "128B";
  case 64:
    return "64B";
  case 32:
    return "32B";
  default:
    return "none";
  }
}

std::string describe(const Descriptor &d) {
  return hex(d.bits) + " (start " + hex(d.start) + ", LBO " +
         std::to_string(d.lbo) + ", SBO " + std::to_string(d.sbo) +
         ", swizzle " + swizzleName(d.swizzleBytes) + ")";
}

/// Decodes a descriptor as PTX ISA 9.7.15.5.1.2.2 lays it out; faults on
/// reserved bits and on a base offset (not modelled).
Descriptor decodeDescriptor(Cta &cta, Warp &w, const Instr &in,
                            const char *which, uint64_t bits) {
  Descriptor d;
  d.bits = bits;
  d.start = static_cast<uint32_t>(bits & 0x3fff) << 4;
  d.lbo = static_cast<uint32_t>((bits >> 16) & 0x3fff) << 4;
  d.sbo = static_cast<uint32_t>((bits >> 32) & 0x3fff) << 4;
  d.baseOffset = static_cast<unsigned>((bits >> 49) & 7);
  static const unsigned swizzles[] = {0, 128, 64, 32};
  d.swizzleBytes = swizzles[bits >> 62];
  const uint64_t reserved = (uint64_t(3) << 14) | (uint64_t(3) << 30) |
                            (uint64_t(7) << 46) | (uint64_t(0x3ff) << 52);
  if (bits & reserved)
    fault(cta, w, in, 0,
          std::string("the ") + which + " matrix descriptor " + hex(bits) +
              " sets reserved bits " + hex(bits & reserved) +
              " (fields: start 0-13, LBO 16-29, SBO 32-45, base offset "
              "49-51, swizzle 62-63)",
          kErrorIllegalInstruction);
  if (d.baseOffset && d.swizzleBytes)
    fault(cta, w, in, 0,
          std::string("the ") + which + " matrix descriptor " + describe(d) +
              " has base offset " + std::to_string(d.baseOffset) +
              ": the simulator implements base offset 0 only (swizzle "
              "patterns aligned to their repeat)",
          kErrorNotSupported);
  return d;
}

/// Reads element (mn, k) (16-bit) of a descriptor-described matrix.
uint16_t readElement(Cta &cta, Warp &w, const Instr &in, const char *which,
                     const Descriptor &d, bool mnMajor, unsigned mn, unsigned k,
                     std::vector<uint32_t> &reads) {
  const unsigned s = d.swizzleBytes;
  uint64_t address = d.start;
  uint64_t inRow = 0; // byte offset within one swizzle row
  if (!s) {
    if (mnMajor)
      address += uint64_t(mn / 8) * d.sbo + 2 * (mn % 8) +
                 uint64_t(k / 8) * d.lbo + 16 * (k % 8);
    else
      address += uint64_t(mn / 8) * d.sbo + 16 * (mn % 8) +
                 uint64_t(k / 8) * d.lbo + 2 * (k % 8);
  } else {
    const unsigned perRow = s / 2; // 16-bit elements in one swizzle row
    if (mnMajor) {
      inRow = 2 * (mn % perRow);
      address += uint64_t(mn / perRow) * d.lbo + inRow +
                 uint64_t(k / 8) * d.sbo + s * (k % 8);
    } else {
      inRow = 2 * k;
      address += uint64_t(mn / 8) * d.sbo + s * (mn % 8) + inRow;
    }
    if ((d.start % s) + inRow >= s)
      fault(cta, w, in, 0,
            std::string("misaligned ") + which + " matrix descriptor " +
                describe(d) + ": element (" + std::to_string(mn) + ", " +
                std::to_string(k) + ") of the " +
                (mnMajor ? "MN-major" : "K-major") +
                " matrix falls outside its " + std::to_string(s) +
                "-byte swizzle row (the start is " +
                std::to_string(d.start % s) + " bytes into a row)",
            kErrorMisalignedAddress);
    unsigned bitsOf = s == 128 ? 3 : (s == 64 ? 2 : 1);
    uint64_t mask = (uint64_t(1) << bitsOf) - 1;
    address ^= ((address >> 7) & mask) << 4;
  }
  uint64_t total = cta.shared.size();
  if (address + 2 > total)
    fault(cta, w, in, 0,
          std::string("the ") + which + " matrix descriptor " + describe(d) +
              " addresses shared byte " + hex(address) + " (element (" +
              std::to_string(mn) + ", " + std::to_string(k) +
              ")), beyond the CTA's " + std::to_string(total) +
              " bytes of shared memory",
          kErrorIllegalAddress);
  // The async proxy reads for the warpgroup. Stale data is an error, and
  // so are bytes another warpgroup wrote in this barrier interval (the
  // warpgroup's own stores precede its wgmma); the read itself is not
  // recorded for the race check: writes while the wgmma is in flight are
  // caught below, and after its wait they are ordered for the warpgroup.
  for (unsigned b = 0; b < 2; ++b) {
    const ShadowByte &s = (*cta.shadow)[address + b];
    if (s.pending && s.pendingCta == cta.serial)
      fault(cta, w, in, 0,
            std::string("stale read of shared byte ") + hex(address + b) +
                " by the " + which + " operand while a copy (PTX line " +
                std::to_string(cta.function->code[s.pendingInstr].line) +
                ") is still filling it: the phase of its mbarrier had not "
                "completed (or its cp.async group was not waited for)");
    if (cta.launch->options->checkRaces && s.writeEpoch == cta.epoch &&
        s.writer / 128 != w.id / 4)
      fault(cta, w, in, 0,
            std::string("race: the ") + which + " operand reads shared byte " +
                hex(address + b) + ", written by thread " +
                threadName(cta, s.writer) + " of another warpgroup (PTX line " +
                std::to_string(cta.function->code[s.writeInstr].line) +
                ") with no barrier between");
  }
  uint16_t v;
  std::memcpy(&v, cta.shared.data() + address, 2);
  // The bytes stay read until the wgmma completes: writes are errors.
  for (unsigned b = 0; b < 2; ++b) {
    ShadowByte &s = (*cta.shadow)[address + b];
    if (s.wgmmaCta != cta.serial) {
      s.wgmmaCta = cta.serial;
      s.wgmmaReads = 0;
    }
    ++s.wgmmaReads;
    s.wgmmaInstr = instrIndex(cta, in);
  }
  reads.push_back(static_cast<uint32_t>(address));
  return v;
}

//===----------------------------------------------------------------------===//
// wgmma.mma_async{.sp}
//===----------------------------------------------------------------------===//

/// Decoded into Instr fields: imm = N, flag = sparse, flag2 = A from
/// registers, type2 = A/B type. Operands: d, a, b-desc, {sp-meta, sp-sel,}
/// scale-d, imm-scale-a, imm-scale-b, {imm-trans-a,} imm-trans-b.
struct MmaAsync {
  unsigned n;
  bool sparse, aRegs;
  bool f16Accumulator; // D: N/4 f16x2 registers
  Format ab;
  unsigned kA, kB; // stored columns of A, rows of B
  unsigned meta, scaleD, scaleA, scaleB, transA, transB; // operand indices
};

MmaAsync shapeOf(const Instr &in) {
  MmaAsync s;
  s.n = in.imm;
  s.sparse = in.flag;
  s.aRegs = in.flag2;
  s.f16Accumulator = in.type == Type::F16;
  s.ab = formatOf(in.type2);
  s.kA = 16;
  s.kB = s.sparse ? 32 : 16;
  unsigned i = 3;
  s.meta = i;
  if (s.sparse)
    i += 2;
  s.scaleD = i++;
  s.scaleA = i++;
  s.scaleB = i++;
  s.transA = s.aRegs ? 0 : i++;
  s.transB = i;
  return s;
}

inline unsigned groupId(unsigned lane) { return lane >> 2; }
inline unsigned threadInGroup(unsigned lane) { return lane & 3; }

/// Row and column of accumulator register i of a lane of warp `wi`.
inline void dElement(unsigned wi, unsigned lane, unsigned i, unsigned &row,
                     unsigned &col) {
  row = 16 * wi + groupId(lane) + 8 * ((i >> 1) & 1);
  col = 8 * (i >> 2) + 2 * threadInGroup(lane) + (i & 1);
}

/// Row and (stored) column of A fragment element i (0..7).
inline void aElement(unsigned wi, unsigned lane, unsigned i, unsigned &row,
                     unsigned &col) {
  row = 16 * wi + groupId(lane) + 8 * ((i >> 1) & 1);
  col = 2 * threadInGroup(lane) + (i & 1) + 8 * (i >> 2);
}

/// The value of a warpgroup-uniform operand (.aligned: every thread must
/// give the same).
uint64_t uniformOperand(Cta &cta, Warp &w, const Instr &in, unsigned index,
                        const char *what) {
  const Operand &op = in.operands[index];
  unsigned first = w.id & ~3u;
  uint64_t value = operandBits(cta, cta.warps[first], op, 0);
  for (unsigned i = 0; i < 4; ++i) {
    const Warp &o = cta.warps[first + i];
    for (unsigned lane = 0; lane < 32; ++lane) {
      uint64_t v = operandBits(cta, o, op, lane);
      if (v != value)
        fault(cta, cta.warps[first + i], in, lane,
              std::string("the ") + what + " (" + hex(v) +
                  ") differs from thread 0 of the warpgroup's (" + hex(value) +
                  "): it must be the same in all threads");
    }
  }
  return value;
}

void checkOwnRegisters(Cta &cta, Warp &w, const Instr &in,
                       const std::vector<uint32_t> &dSlots,
                       const std::vector<uint32_t> &aSlots) {
  Warpgroup &wg = warpgroupOf(cta, w);
  if (!wg.fenced)
    fault(cta, w, in, 0,
          "wgmma.mma_async before any wgmma.fence.sync.aligned of the "
          "warpgroup (the ISA requires the fence before the first "
          "wgmma.mma_async)");
  auto findOp = [&](uint32_t index) -> const WgmmaOp * {
    for (const auto &group : wg.groups)
      for (const WgmmaOp &op : group)
        if (op.instrIndex == index)
          return &op;
    for (const WgmmaOp &op : wg.uncommitted)
      if (op.instrIndex == index)
        return &op;
    return nullptr;
  };
  for (uint32_t slot : dSlots) {
    uint32_t owner = wg.busyInstr[slot];
    if (!owner)
      continue;
    if (!wg.busyAccumulator[slot])
      fault(cta, w, in, 0,
            "accumulator " + slotName(cta, slot) +
                " is an A register of the in-flight wgmma.mma_async at " +
                lineOf(cta, owner - 1) + " (no wgmma.wait_group between)");
    const WgmmaOp *op = findOp(owner - 1);
    if (op && op->accumulator != dSlots)
      fault(cta, w, in, 0,
            "accumulator " + slotName(cta, slot) +
                " belongs to the in-flight wgmma.mma_async at " +
                lineOf(cta, owner - 1) +
                " with different accumulators: only the same accumulators "
                "may chain without wgmma.wait_group");
  }
  for (uint32_t slot : aSlots)
    if (wg.busyInstr[slot] && wg.busyAccumulator[slot])
      fault(cta, w, in, 0,
            "A register " + slotName(cta, slot) +
                " is an accumulator of the in-flight wgmma.mma_async at " +
                lineOf(cta, wg.busyInstr[slot] - 1));
  // Registers written since the fence by anything but wgmma.mma_async.
  unsigned first = w.id & ~3u;
  auto check = [&](uint32_t slot, const char *role) {
    for (unsigned i = 0; i < 4; ++i) {
      const Warp &o = cta.warps[first + i];
      for (unsigned lane = 0; lane < 32; ++lane)
        if (o.reg(slot, lane) != wg.snapshot[i][slot * 32 + lane])
          fault(cta, cta.warps[first + i], in, lane,
                std::string(role) + " " + slotName(cta, slot) +
                    " was written after the last wgmma.fence by an "
                    "instruction other than wgmma.mma_async (the ISA "
                    "requires a wgmma.fence between them)");
    }
  };
  for (uint32_t slot : dSlots)
    check(slot, "accumulator");
  for (uint32_t slot : aSlots)
    check(slot, "A register");
}

void execWgmmaMma(Cta &cta, Warp &w, const Instr &in, uint32_t) {
  if (in.guard != kNoReg)
    fault(cta, w, in, 0,
          "the simulator does not implement predicated wgmma.mma_async",
          kErrorNotSupported);
  const MmaAsync s = shapeOf(in);
  const unsigned first = w.id & ~3u;
  Warpgroup &wg = warpgroupOf(cta, w);
  const Operand &dOp = in.operands[0], &aOp = in.operands[1];
  std::vector<uint32_t> dSlots(dOp.vec.begin(), dOp.vec.begin() + dOp.count);
  std::vector<uint32_t> aSlots;
  if (s.aRegs)
    aSlots.assign(aOp.vec.begin(), aOp.vec.begin() + aOp.count);
  checkOwnRegisters(cta, w, in, dSlots, aSlots);

  const bool scaleD = uniformOperand(cta, w, in, s.scaleD, "scale-d") & 1;
  const double signA = in.operands[s.scaleA].value < 0 ? -1.0 : 1.0;
  const double signB = in.operands[s.scaleB].value < 0 ? -1.0 : 1.0;
  const bool transA = !s.aRegs && in.operands[s.transA].value != 0;
  const bool transB = in.operands[s.transB].value != 0;

  // A: 64 x kA (compressed when sparse), B: kB x N, C: 64 x N.
  std::vector<double> a(64 * 16), b(32 * 256), c(64 * 256, 0.0);
  std::vector<uint32_t> reads;
  if (s.aRegs) {
    for (unsigned wi = 0; wi < 4; ++wi) {
      const Warp &o = cta.warps[first + wi];
      for (unsigned lane = 0; lane < 32; ++lane)
        for (unsigned i = 0; i < 8; ++i) {
          unsigned row, col;
          aElement(wi, lane, i, row, col);
          uint64_t bits = o.reg(aOp.vec[i / 2], lane) >> (16 * (i & 1));
          a[row * 16 + col] = formatToDouble(bits & 0xffff, s.ab);
        }
    }
  } else {
    Descriptor da = decodeDescriptor(
        cta, w, in, "A", uniformOperand(cta, w, in, 1, "A matrix descriptor"));
    for (unsigned m = 0; m < 64; ++m)
      for (unsigned k = 0; k < s.kA; ++k)
        a[m * 16 + k] = formatToDouble(
            readElement(cta, w, in, "A", da, transA, m, k, reads), s.ab);
  }
  Descriptor db = decodeDescriptor(
      cta, w, in, "B", uniformOperand(cta, w, in, 2, "B matrix descriptor"));
  for (unsigned n = 0; n < s.n; ++n)
    for (unsigned k = 0; k < s.kB; ++k)
      b[k * 256 + n] = formatToDouble(
          readElement(cta, w, in, "B", db, transB, n, k, reads), s.ab);
  if (scaleD)
    for (unsigned wi = 0; wi < 4; ++wi) {
      const Warp &o = cta.warps[first + wi];
      for (unsigned lane = 0; lane < 32; ++lane)
        for (unsigned i = 0; i < s.n / 2; ++i) {
          unsigned row, col;
          dElement(wi, lane, i, row, col);
          c[row * 256 + col] =
              s.f16Accumulator ? formatToDouble((o.reg(dOp.vec[i / 2], lane) >>
                                                 (16 * (i & 1))) &
                                                    0xffff,
                                                Format::F16)
                               : asFloat(o.reg(dOp.vec[i], lane));
        }
    }

  // Logical K row of B for each stored A column (identity when dense).
  std::vector<unsigned> column(64 * 16);
  for (unsigned m = 0; m < 64; ++m)
    for (unsigned k = 0; k < 16; ++k)
      column[m * 16 + k] = k;
  if (s.sparse) {
    const unsigned selector =
        static_cast<unsigned>(in.operands[s.meta + 1].value);
    for (unsigned m = 0; m < 64; ++m) {
      const unsigned wi = m / 16, r = m % 16;
      const Warp &o = cta.warps[first + wi];
      for (unsigned j = 0; j < 8; ++j) {
        unsigned lane = 4 * (r % 8) + 2 * selector + j / 4;
        uint64_t e = operandBits(cta, o, in.operands[s.meta], lane);
        unsigned nibble = (e >> (16 * (r / 8) + 4 * (j % 4))) & 0xf;
        unsigned i0 = nibble & 3, i1 = nibble >> 2;
        if (i0 == i1)
          fault(cta, cta.warps[first + wi], in, lane,
                "sparse metadata of row " + std::to_string(m) + ", group " +
                    std::to_string(j) + " is " + hex(nibble) +
                    ": both kept elements have index " + std::to_string(i0) +
                    " (0b0000, 0b0101, 0b1010, 0b1111 are invalid)");
        column[m * 16 + 2 * j] = 4 * j + i0;
        column[m * 16 + 2 * j + 1] = 4 * j + i1;
      }
    }
  }

  for (unsigned wi = 0; wi < 4; ++wi) {
    Warp &o = cta.warps[first + wi];
    for (unsigned lane = 0; lane < 32; ++lane)
      for (unsigned i = 0; i < s.n / 2; ++i) {
        unsigned row, col;
        dElement(wi, lane, i, row, col);
        double sum = c[row * 256 + col];
        for (unsigned k = 0; k < s.kA; ++k)
          sum += (signA * a[row * 16 + k]) *
                 (signB * b[column[row * 16 + k] * 256 + col]);
        if (s.f16Accumulator) {
          // Element i is half i % 2 of register i / 2.
          uint64_t &reg = o.reg(dOp.vec[i / 2], lane);
          unsigned shift = 16 * (i & 1);
          uint64_t bits = roundToFormat(sum, 0, Format::F16, Rounding::RN);
          reg = (reg & ~(uint64_t(0xffff) << shift)) | (bits << shift);
          wg.snapshot[wi][dOp.vec[i / 2] * 32 + lane] = reg;
          continue;
        }
        uint64_t bits = roundToFormat(sum, 0, Format::F32, Rounding::RN);
        o.reg(dOp.vec[i], lane) = bits;
        wg.snapshot[wi][dOp.vec[i] * 32 + lane] = bits;
      }
  }
  WgmmaOp op;
  op.instrIndex = instrIndex(cta, in);
  op.accumulator = std::move(dSlots);
  op.aRegisters = std::move(aSlots);
  op.sharedReads = std::move(reads);
  wg.uncommitted.push_back(std::move(op));
  rebuildBusy(cta, wg, first);
}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

bool warpgroup(Instr &in, ExecFn exec) {
  in.exec = exec;
  in.warpCollective = true;
  in.warpgroupCollective = true;
  return true;
}

bool isImmIn(const Operand &op, std::initializer_list<int64_t> values) {
  if (op.kind != OperandKind::Imm)
    return false;
  for (int64_t v : values)
    if (op.value == v)
      return true;
  return false;
}

bool decodeWgmma(Instr &in, Modifiers &m) {
  if (m.take("fence")) {
    if (!m.take("sync") || !m.take("aligned") || !in.operands.empty())
      return false;
    return warpgroup(in, execWgmmaFence);
  }
  if (m.take("commit_group")) {
    if (!m.take("sync") || !m.take("aligned") || !in.operands.empty())
      return false;
    return warpgroup(in, execWgmmaCommit);
  }
  if (m.take("wait_group")) {
    if (!m.take("sync") || !m.take("aligned") || in.operands.size() != 1 ||
        in.operands[0].kind != OperandKind::Imm || in.operands[0].value < 0)
      return false;
    return warpgroup(in, execWgmmaWait);
  }
  if (!m.take("mma_async"))
    return false;
  in.flag = m.take("sp");
  if (!m.take("sync") || !m.take("aligned"))
    return false;
  const unsigned k = in.flag ? 32 : 16;
  in.imm = 0;
  for (unsigned n = 8; n <= 256 && !in.imm; n += 8)
    if (m.take(("m64n" + std::to_string(n) + "k" + std::to_string(k)).c_str()))
      in.imm = n;
  if (!in.imm)
    return false;
  in.type = m.takeType();
  in.type2 = m.takeType();
  in.type3 = m.takeType();
  // f32 accumulators of f16 or bf16 products, f16 accumulators of f16.
  if ((in.type != Type::F32 && in.type != Type::F16) || in.type2 != in.type3 ||
      (in.type2 != Type::F16 && in.type2 != Type::BF16) ||
      (in.type == Type::F16 && in.type2 != Type::F16))
    return false;
  const Operand &a = in.operands.size() > 1 ? in.operands[1] : Operand();
  in.flag2 = a.kind == OperandKind::Vector;
  const size_t operands = 3 + (in.flag ? 2 : 0) + 3 + (in.flag2 ? 1 : 2);
  const unsigned dRegs = in.type == Type::F16 ? in.imm / 4 : in.imm / 2;
  if (in.operands.size() != operands || !isVector(in.operands[0], dRegs))
    return false;
  if (in.flag2 ? !isVector(a, 4) : !isRegOrImm(a))
    return false;
  if (!isRegOrImm(in.operands[2]))
    return false;
  MmaAsync s = shapeOf(in);
  if (s.sparse && (!isRegOrImm(in.operands[s.meta]) ||
                   !isImmIn(in.operands[s.meta + 1], {0, 1})))
    return false;
  if (!isRegOrImm(in.operands[s.scaleD]) ||
      !isImmIn(in.operands[s.scaleA], {1, -1}) ||
      !isImmIn(in.operands[s.scaleB], {1, -1}) ||
      (!s.aRegs && !isImmIn(in.operands[s.transA], {0, 1})) ||
      !isImmIn(in.operands[s.transB], {0, 1}))
    return false;
  return warpgroup(in, execWgmmaMma);
}

bool decodeSetmaxnreg(Instr &in, Modifiers &m) {
  int dir = m.takeOneOf({"inc", "dec"});
  if (dir < 0 || !m.take("sync") || !m.take("aligned") ||
      m.takeType() != Type::U32 || in.operands.size() != 1 ||
      in.operands[0].kind != OperandKind::Imm)
    return false;
  in.flag = dir == 0;
  return warpgroup(in, execSetmaxnreg);
}

} // namespace

//===----------------------------------------------------------------------===//
// The warpgroup rendezvous and the register checks (for the interpreter)
//===----------------------------------------------------------------------===//

void slr::sim::initWarpgroups(Cta &cta) {
  cta.warpgroups.assign((cta.warps.size() + 3) / 4, Warpgroup());
  for (Warpgroup &wg : cta.warpgroups) {
    wg.busyInstr.assign(cta.function->numSlots, 0);
    wg.busyAccumulator.assign(cta.function->numSlots, 0);
  }
}

bool slr::sim::warpgroupReady(const Cta &cta, const Warp &w, const Instr &in,
                              uint32_t pc) {
  const unsigned first = w.id & ~3u;
  if (w.existMask != 0xffffffffu || first + 4 > cta.warps.size())
    fault(cta, w, in, static_cast<unsigned>(__builtin_ctz(w.existMask)),
          "warpgroup instruction in a CTA of " + std::to_string(cta.threads) +
              " threads: warpgroup " + std::to_string(w.id / 4) + " (threads " +
              std::to_string(first * 32) + ".." +
              std::to_string(first * 32 + 127) + ") is incomplete");
  const std::vector<Instr> &code = cta.function->code;
  bool ready = true;
  for (unsigned i = 0; i < 4; ++i) {
    const Warp &o = cta.warps[first + i];
    if (&o == &w)
      continue;
    if (o.exited)
      fault(cta, w, in, 0,
            "warpgroup instruction reached by warp " + std::to_string(w.id) +
                ", but lanes " + hex(o.exited) + " of warp " +
                std::to_string(o.id) + " of its warpgroup have exited");
    if (o.atCollective != o.existMask) {
      ready = false;
      continue;
    }
    uint32_t other = o.pc[0];
    bool same = true;
    for (unsigned lane = 1; lane < 32; ++lane)
      same = same && o.pc[lane] == other;
    if (!same) {
      ready = false;
      continue;
    }
    if (other != pc && code[other].warpgroupCollective)
      fault(cta, w, in, 0,
            "the warps of warpgroup " + std::to_string(w.id / 4) +
                " execute different warpgroup instructions: warp " +
                std::to_string(o.id) + " waits at PTX line " +
                std::to_string(code[other].line) + " (`" + code[other].text +
                "`), warp " + std::to_string(w.id) +
                " is here (.aligned: all must execute the same one)");
    if (other != pc)
      ready = false;
  }
  return ready;
}

void slr::sim::releaseWarpgroup(Cta &cta, const Warp &w, uint32_t nextPc) {
  const unsigned first = w.id & ~3u;
  for (unsigned i = 0; i < 4; ++i) {
    Warp &o = cta.warps[first + i];
    if (&o == &w)
      continue;
    forLanes(o.atCollective, [&](unsigned lane) { o.pc[lane] = nextPc; });
    o.running |= o.atCollective;
    o.atCollective = 0;
  }
}

void slr::sim::checkWgmmaRegisters(const Cta &cta, const Warp &w,
                                   const Instr &in, uint32_t mask) {
  const Warpgroup &wg = cta.warpgroups[w.id / 4];
  auto check = [&](uint32_t slot) {
    if (slot >= wg.busyInstr.size() || !wg.busyInstr[slot])
      return;
    uint32_t owner = wg.busyInstr[slot] - 1;
    bool committed = false;
    for (const WgmmaOp &op : wg.uncommitted)
      committed = committed || op.instrIndex == owner;
    committed = !committed;
    fault(cta, w, in, static_cast<unsigned>(__builtin_ctz(mask)),
          "accesses " + slotName(cta, slot) + ", " +
              (wg.busyAccumulator[slot] ? "an accumulator" : "an A register") +
              " of the wgmma.mma_async at " + lineOf(cta, owner) +
              ", which is still in flight: it needs " +
              (committed ? "a wgmma.wait_group"
                         : "a wgmma.commit_group and a wgmma.wait_group") +
              " first");
  };
  if (in.guard != kNoReg)
    check(in.guard);
  for (const Operand &op : in.operands) {
    switch (op.kind) {
    case OperandKind::Reg:
      check(op.reg);
      break;
    case OperandKind::Address:
      if (op.reg != kNoReg)
        check(op.reg);
      for (unsigned i = 0; i < op.count; ++i)
        check(op.vec[i]);
      break;
    case OperandKind::Vector:
      for (unsigned i = 0; i < op.count; ++i)
        check(op.vec[i]);
      break;
    default:
      break;
    }
  }
}

void slr::sim::wgmmaReadFault(const Cta &cta, const Warp &w, const Instr &in,
                              unsigned lane, uint64_t offset,
                              const ShadowByte &s, const char *what) {
  fault(cta, w, in, lane,
        std::string(what) + " into shared byte " + hex(offset) +
            ", which the wgmma.mma_async at " + lineOf(cta, s.wgmmaInstr) +
            " still reads: its operands may change only after a "
            "wgmma.wait_group covering it");
}

void slr::sim::appendWgmmaDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {{"wgmma", decodeWgmma}, {"setmaxnreg", decodeSetmaxnreg}});
}
