//===- MemoryOps.cpp - ld, st, cvta, atom, red, cp.async ------------------===//
//
// Semantics of the PTX ISA's data-movement chapter. The simulation is
// sequentially consistent, so memory-ordering, scope and cache modifiers
// do not change results and are accepted as written. Notes:
//  * atom/red.add.f32 round to nearest and flush subnormal inputs and
//    results to zero, as the ISA states for them;
//  * cp.async reads its source when issued and writes shared memory when
//    the issuing thread waits for its group (cp.async.wait_group/wait_all);
//    until then the destination bytes are marked in flight, and touching
//    them is a stale-data error.
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Float.h"

#include <cmath>
#include <cstring>

using namespace slr::sim;

namespace {

inline uint64_t load(const uint8_t *p, unsigned bytes) {
  uint64_t v = 0;
  std::memcpy(&v, p, bytes); // little-endian host, as the device
  return v;
}

inline void store(uint8_t *p, uint64_t v, unsigned bytes) {
  std::memcpy(p, &v, bytes);
}

void execLd(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned bytes = typeBytes(in.type);
  const unsigned total = bytes * in.vector;
  const Operand &d = in.operands[0], &a = in.operands[1];
  const bool sgn = isSigned(in.type);
  forLanes(mask, [&](unsigned lane) {
    uint64_t address = effectiveAddress(cta, w, a, lane);
    const uint8_t *p = accessMemory(cta, w, in, lane, in.space, address, total,
                                    Access::Read, total);
    if (d.kind == OperandKind::Vector) {
      for (unsigned i = 0; i < d.count; ++i) {
        uint64_t v = load(p + i * bytes, bytes);
        if (d.vec[i] != kSinkSlot)
          w.reg(d.vec[i], lane) =
              sgn ? static_cast<uint64_t>(signExtend(v, 8 * bytes)) : v;
      }
    } else {
      uint64_t v = load(p, bytes);
      w.reg(d.reg, lane) =
          sgn ? static_cast<uint64_t>(signExtend(v, 8 * bytes)) : v;
    }
  });
}

void execSt(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned bytes = typeBytes(in.type);
  const unsigned total = bytes * in.vector;
  const Operand &a = in.operands[0], &b = in.operands[1];
  forLanes(mask, [&](unsigned lane) {
    uint64_t address = effectiveAddress(cta, w, a, lane);
    uint8_t *p = accessMemory(cta, w, in, lane, in.space, address, total,
                              Access::Write, total);
    if (b.kind == OperandKind::Vector) {
      for (unsigned i = 0; i < b.count; ++i)
        store(p + i * bytes, w.reg(b.vec[i], lane), bytes);
    } else {
      store(p, operandBits(cta, w, b, lane), bytes);
    }
  });
}

void execCvta(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  // in.flag: .to (generic -> space); in.space2: the space.
  uint64_t window = in.space2 == Space::Shared  ? kSharedWindow
                    : in.space2 == Space::Local ? kLocalWindow
                    : in.space2 == Space::Param ? kParamWindow
                                                : 0;
  const unsigned bits = typeBits(in.type);
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = truncateBits(operandBits(cta, w, in.operands[1], lane),
                              in.flag ? 64 : bits);
    uint64_t r;
    if (!window)
      r = a;
    else if (in.flag)
      r = a - window; // generic -> space offset
    else
      r = a + window;
    w.reg(in.operands[0].reg, lane) = truncateBits(r, bits);
  });
}

void execIsspacep(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    uint64_t a = operandBits(cta, w, in.operands[1], lane);
    bool shared = a - kSharedWindow < kWindowSize;
    bool local = a - kLocalWindow < kWindowSize;
    bool param = a - kParamWindow < kWindowSize;
    bool r = in.space2 == Space::Shared  ? shared
             : in.space2 == Space::Local ? local
             : in.space2 == Space::Param ? param
                                         : !shared && !local && !param;
    w.reg(in.operands[0].reg, lane) = r;
  });
}

enum class AtomOp { And, Or, Xor, Cas, Exch, Add, Inc, Dec, Min, Max };

uint64_t atomicResult(const Instr &in, uint64_t old, uint64_t b, uint64_t c) {
  const unsigned bits = typeBits(in.type);
  const bool sgn = isSigned(in.type);
  switch (static_cast<AtomOp>(in.imm)) {
  case AtomOp::And:
    return old & b;
  case AtomOp::Or:
    return old | b;
  case AtomOp::Xor:
    return old ^ b;
  case AtomOp::Cas:
    return truncateBits(old, bits) == truncateBits(b, bits) ? c : old;
  case AtomOp::Exch:
    return b;
  case AtomOp::Add:
    if (in.type == Type::F32) {
      double x = asFloat(flushSubnormalF32(static_cast<uint32_t>(old)));
      double y = asFloat(flushSubnormalF32(static_cast<uint32_t>(b)));
      double hi, lo;
      twoSum(x, y, hi, lo);
      uint32_t r = static_cast<uint32_t>(
          roundToFormat(hi, lo, Format::F32, Rounding::RN));
      return flushSubnormalF32(r);
    }
    if (in.type == Type::F64) {
      double hi, lo;
      twoSum(asDouble(old), asDouble(b), hi, lo);
      return roundToFormat(hi, lo, Format::F64, Rounding::RN);
    }
    if (in.type == Type::F16 || in.type == Type::BF16) {
      Format f = formatOf(in.type);
      double hi, lo;
      twoSum(formatToDouble(old, f), formatToDouble(b, f), hi, lo);
      return roundToFormat(hi, lo, f, Rounding::RN);
    }
    return old + b;
  case AtomOp::Inc: {
    uint64_t o = truncateBits(old, bits), l = truncateBits(b, bits);
    return o >= l ? 0 : o + 1;
  }
  case AtomOp::Dec: {
    uint64_t o = truncateBits(old, bits), l = truncateBits(b, bits);
    return (o == 0 || o > l) ? l : o - 1;
  }
  case AtomOp::Min:
  case AtomOp::Max: {
    bool less = sgn ? signExtend(old, bits) < signExtend(b, bits)
                    : truncateBits(old, bits) < truncateBits(b, bits);
    bool min = static_cast<AtomOp>(in.imm) == AtomOp::Min;
    return min == less ? old : b;
  }
  }
  return old;
}

void execAtom(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  // atom: d, [a], b{, c}; red: [a], b.
  const bool isRed = in.flag;
  const unsigned first = isRed ? 0 : 1;
  const unsigned bytes = typeBytes(in.type);
  forLanes(mask, [&](unsigned lane) {
    uint64_t address = effectiveAddress(cta, w, in.operands[first], lane);
    uint64_t b = operandBits(cta, w, in.operands[first + 1], lane);
    uint64_t c = in.operands.size() > first + 2
                     ? operandBits(cta, w, in.operands[first + 2], lane)
                     : 0;
    uint8_t *p = accessMemory(cta, w, in, lane, in.space, address, bytes,
                              Access::Atomic, bytes);
    uint64_t old = load(p, bytes);
    store(p, atomicResult(in, old, b, c), bytes);
    if (!isRed)
      w.reg(in.operands[0].reg, lane) = old;
  });
}

void execCpAsync(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned copySize = in.imm;
  forLanes(mask, [&](unsigned lane) {
    uint64_t dst = effectiveAddress(cta, w, in.operands[0], lane);
    uint64_t src = effectiveAddress(cta, w, in.operands[1], lane);
    unsigned sourceSize = copySize;
    if (in.operands.size() > 3) {
      uint64_t v = operandBits(cta, w, in.operands[3], lane);
      if (in.flag) // ignore-src predicate
        sourceSize = (v & 1) ? 0 : copySize;
      else
        sourceSize = static_cast<unsigned>(std::min<uint64_t>(v, copySize));
      if (!in.flag && v > copySize)
        fault(cta, w, in, lane,
              "cp.async src-size " + std::to_string(v) +
                  " exceeds its cp-size " + std::to_string(copySize));
    }
    issueAsyncCopy(cta, w, in, lane, dst, src, copySize, sourceSize);
  });
}

void execCommitGroup(Cta &, Warp &w, const Instr &, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    w.groups[lane].push_back(std::move(w.uncommitted[lane]));
    w.uncommitted[lane].clear();
  });
}

void execWaitGroup(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    if (in.flag) { // wait_all: commit the open group, wait for everything
      w.groups[lane].push_back(std::move(w.uncommitted[lane]));
      w.uncommitted[lane].clear();
    }
    completeAsyncGroups(cta, w, lane, in.imm);
  });
}

void execNop(Cta &, Warp &, const Instr &, uint32_t) {}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

bool decodeLdSt(Instr &in, Modifiers &m, bool isLoad) {
  m.takeOrderingAndCacheHints();
  Space space = Space::Generic;
  m.takeSpace(space);
  in.space = space;
  m.takeOrderingAndCacheHints();
  int vec = m.takeOneOf({"v2", "v4", "v8"});
  in.vector = vec < 0 ? 1 : static_cast<uint8_t>(2 << vec);
  in.type = m.takeType();
  if (in.type == Type::None || in.type == Type::Pred || in.type == Type::B128 ||
      in.operands.size() < 2 || in.operands.size() > 3)
    return false;
  const Operand &value = isLoad ? in.operands[0] : in.operands[1];
  const Operand &address = isLoad ? in.operands[1] : in.operands[0];
  if (!isAddress(address))
    return false;
  if (in.vector > 1 ? !isVector(value, in.vector)
                    : !(isLoad ? isReg(value) : isRegOrImm(value)))
    return false;
  if (in.operands.size() == 3) // cache-policy operand
    in.operands.pop_back();
  in.exec = isLoad ? execLd : execSt;
  return true;
}

bool decodeLd(Instr &in, Modifiers &m) { return decodeLdSt(in, m, true); }
bool decodeLdu(Instr &in, Modifiers &m) { return decodeLdSt(in, m, true); }
bool decodeSt(Instr &in, Modifiers &m) { return decodeLdSt(in, m, false); }

bool decodeCvta(Instr &in, Modifiers &m) {
  in.flag = m.take("to");
  Space space = Space::Generic;
  // cvta.param: the generic address of a kernel parameter (PTX 7.7).
  if (!m.takeSpace(space) || space == Space::Const)
    return false;
  in.space2 = space;
  in.type = m.takeType();
  if ((in.type != Type::U64 && in.type != Type::U32) ||
      in.operands.size() != 2 || !isReg(in.operands[0]) ||
      !isRegOrImm(in.operands[1]))
    return false;
  // 32-bit generic addresses of shared/local/param memory do not exist here.
  if (in.type == Type::U32 && !in.flag &&
      (space == Space::Shared || space == Space::Local ||
       space == Space::Param))
    return false;
  in.exec = execCvta;
  return true;
}

bool decodeIsspacep(Instr &in, Modifiers &m) {
  Space space = Space::Generic;
  if (!m.takeSpace(space) || in.operands.size() != 2)
    return false;
  in.space2 = space;
  in.exec = execIsspacep;
  return true;
}

bool decodeAtomOrRed(Instr &in, Modifiers &m, bool isRed) {
  m.takeOrderingAndCacheHints();
  Space space = Space::Generic;
  m.takeSpace(space);
  if (space != Space::Generic && space != Space::Global &&
      space != Space::Shared)
    return false;
  in.space = space;
  m.take("noftz");
  int op = m.takeOneOf(
      {"and", "or", "xor", "cas", "exch", "add", "inc", "dec", "min", "max"});
  m.takeOrderingAndCacheHints();
  in.type = m.takeType();
  if (op < 0 || in.type == Type::None || in.type == Type::F16x2 ||
      in.type == Type::BF16x2 || in.type == Type::B128)
    return false;
  in.imm = static_cast<uint32_t>(op);
  AtomOp atomOp = static_cast<AtomOp>(op);
  if (isFloat(in.type) && atomOp != AtomOp::Add && atomOp != AtomOp::Exch)
    return false;
  size_t values = atomOp == AtomOp::Cas ? 2 : 1;
  size_t expected = (isRed ? 1 : 2) + values;
  if (in.operands.size() == expected + 1) // cache-policy operand
    in.operands.pop_back();
  if (in.operands.size() != expected)
    return false;
  if (!isRed && !isReg(in.operands[0]))
    return false;
  if (!isAddress(in.operands[isRed ? 0 : 1]))
    return false;
  in.flag = isRed;
  in.exec = execAtom;
  return true;
}

bool decodeAtom(Instr &in, Modifiers &m) {
  return decodeAtomOrRed(in, m, false);
}
bool decodeRed(Instr &in, Modifiers &m) { return decodeAtomOrRed(in, m, true); }

bool decodeCp(Instr &in, Modifiers &m) {
  if (!m.take("async"))
    return false;
  if (m.take("commit_group")) {
    in.exec = execCommitGroup;
    return in.operands.empty();
  }
  if (m.take("wait_group")) {
    if (in.operands.size() != 1 || in.operands[0].kind != OperandKind::Imm)
      return false;
    in.imm = static_cast<uint32_t>(in.operands[0].value);
    in.exec = execWaitGroup;
    return true;
  }
  if (m.take("wait_all")) {
    in.flag = true;
    in.imm = 0;
    in.exec = execWaitGroup;
    return in.operands.empty();
  }
  int level = m.takeOneOf({"ca", "cg"});
  Space dst = Space::Generic, srcSpace = Space::Generic;
  if (level < 0 || !m.takeSpace(dst) || !m.takeSpace(srcSpace) ||
      dst != Space::Shared || srcSpace != Space::Global)
    return false;
  m.takeOrderingAndCacheHints(); // .L2::cache_hint, .L2::128B
  if (in.operands.size() < 3 || !isAddress(in.operands[0]) ||
      !isAddress(in.operands[1]) || in.operands[2].kind != OperandKind::Imm)
    return false;
  in.imm = static_cast<uint32_t>(in.operands[2].value);
  if (!(in.imm == 4 || in.imm == 8 || in.imm == 16) ||
      (level == 1 && in.imm != 16))
    return false;
  if (in.operands.size() > 5)
    return false;
  if (in.operands.size() >= 4) {
    const Operand &fourth = in.operands[3];
    if (!isRegOrImm(fourth))
      return false;
    in.flag = fourth.kind == OperandKind::Reg && fourth.regType == Type::Pred;
    if (in.operands.size() == 5) // cache-policy
      in.operands.pop_back();
  }
  in.exec = execCpAsync;
  return true;
}

bool decodePrefetch(Instr &in, Modifiers &m) {
  Space space = Space::Generic;
  m.takeSpace(space);
  m.takeOrderingAndCacheHints();
  m.takeOneOf({"L1", "L2"});
  in.exec = execNop;
  return in.operands.size() == 1 && isAddress(in.operands[0]);
}

} // namespace

void slr::sim::appendMemoryDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {{"ld", decodeLd},
                     {"ldu", decodeLdu},
                     {"st", decodeSt},
                     {"cvta", decodeCvta},
                     {"isspacep", decodeIsspacep},
                     {"atom", decodeAtom},
                     {"red", decodeRed},
                     {"cp", decodeCp},
                     {"prefetch", decodePrefetch},
                     {"prefetchu", decodePrefetch}});
}
