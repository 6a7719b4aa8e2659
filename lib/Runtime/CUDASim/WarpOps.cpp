//===- WarpOps.cpp - Warp-collective instructions -------------------------===//
//
// ldmatrix, mma.sync, mma.sp{::ordered_metadata}.sync, shfl.sync, vote.sync,
// redux.sync, activemask and bar.warp.sync across the 32 lanes of a warp.
// Fragment layouts follow the PTX ISA's "Matrix Fragments for mma.m16n8k*"
// tables, written out here from the ISA (groupID g = lane >> 2,
// threadID_in_group t = lane % 4), independently of the kernel generator's
// own maps.
//
// What the ISA leaves open, and what the simulator assumes:
//  * the order and precision of the multiply-adds inside one mma: each
//    product of two f16/bf16/tf32 values is exact; the products are added to
//    c in ascending k in double precision and the sum rounded once to the
//    accumulator type (round to nearest). The hardware adds in an internal
//    order with truncation; both agree exactly whenever the partial sums are
//    representable (e.g. integer data), and otherwise within a few ulps;
//  * tf32 operands: the low 13 bits of each f32 register are ignored.
//  * .sp::ordered_metadata with indices that are not strictly ascending is
//    reported as an error (undefined on the hardware).
//
//===----------------------------------------------------------------------===//

#include "Decode.h"
#include "Float.h"

#include <cmath>

using namespace slr::sim;

namespace {

inline unsigned groupId(unsigned lane) { return lane >> 2; }
inline unsigned threadInGroup(unsigned lane) { return lane & 3; }

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

void execLdmatrix(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned matrices = in.imm;
  const bool trans = in.flag;
  uint16_t rows[4][8][8];
  // Lanes 8q .. 8q+7 supply the row addresses of matrix q.
  for (unsigned q = 0; q < matrices; ++q)
    for (unsigned r = 0; r < 8; ++r) {
      unsigned lane = 8 * q + r;
      uint64_t address = effectiveAddress(cta, w, in.operands[1], lane);
      const uint8_t *p = accessMemory(cta, w, in, lane, in.space, address, 16,
                                      Access::Read, 16);
      std::memcpy(rows[q][r], p, 16);
    }
  const Operand &d = in.operands[0];
  forLanes(mask, [&](unsigned lane) {
    unsigned g = groupId(lane), t = threadInGroup(lane);
    for (unsigned q = 0; q < matrices; ++q) {
      uint32_t lo = trans ? rows[q][2 * t][g] : rows[q][g][2 * t];
      uint32_t hi = trans ? rows[q][2 * t + 1][g] : rows[q][g][2 * t + 1];
      uint32_t slot = d.kind == OperandKind::Vector ? d.vec[q] : d.reg;
      w.reg(slot, lane) = lo | (hi << 16);
    }
  });
}

//===----------------------------------------------------------------------===//
// mma
//===----------------------------------------------------------------------===//

/// Shape and types of an mma, decoded into Instr fields:
/// imm = K, imm2 = sparsity (0 dense, 1 sp, 2 sp::ordered_metadata),
/// type = D, type2 = A, type3 = B, type4 = C.
struct MmaShape {
  unsigned k;
  bool sparse, ordered;
  Format ab;
  bool f16Accumulator; // C and D are f16x2 pairs
};

MmaShape shapeOf(const Instr &in) {
  return {in.imm, in.imm2 != 0, in.imm2 == 2, formatOf(in.type2),
          in.type == Type::F16};
}

/// Register index and half (0 low, 1 high; 2 = a whole tf32 register) of
/// operand element (row, col) -- the ISA's fragment tables inverted.
struct Element {
  unsigned reg, half;
};

/// Element i of a lane's A fragment: (row, col). For sparse m16n8k32 the
/// column is in the compressed 16-column A.
void aElement(const MmaShape &s, unsigned lane, unsigned i, unsigned &row,
              unsigned &col) {
  unsigned g = groupId(lane), t = threadInGroup(lane);
  if (s.ab == Format::TF32) {
    row = g + 8 * (i & 1);
    col = t + 4 * (i >> 1);
  } else {
    row = g + 8 * ((i >> 1) & 1);
    col = 2 * t + (i & 1) + 8 * (i >> 2);
  }
}

void bElement(const MmaShape &s, unsigned lane, unsigned i, unsigned &k,
              unsigned &n) {
  unsigned g = groupId(lane), t = threadInGroup(lane);
  n = g;
  if (s.ab == Format::TF32)
    k = t + 4 * i;
  else
    k = 2 * t + (i & 1) + 8 * (i >> 1);
}

void cElement(unsigned lane, unsigned i, unsigned &row, unsigned &col) {
  unsigned g = groupId(lane), t = threadInGroup(lane);
  row = g + 8 * (i >> 1);
  col = 2 * t + (i & 1);
}

/// Number of A and B elements per lane.
unsigned aElements(const MmaShape &s) {
  unsigned kA = s.sparse ? s.k / 2 : s.k; // stored columns of A
  return 16 * kA / 32;
}
unsigned bElements(const MmaShape &s) { return s.k * 8 / 32; }

double fragmentValue(Warp &w, const Operand &op, unsigned lane, unsigned i,
                     Format f) {
  if (f == Format::TF32) {
    uint64_t bits = w.reg(op.vec[i], lane) & 0xffffffffu;
    return formatToDouble(bits >> 13, Format::TF32);
  }
  uint64_t bits = w.reg(op.vec[i / 2], lane) >> (16 * (i & 1));
  return formatToDouble(bits & 0xffff, f);
}

void execMma(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const MmaShape s = shapeOf(in);
  const Operand &dOp = in.operands[0], &aOp = in.operands[1],
                &bOp = in.operands[2], &cOp = in.operands[3];
  const unsigned kA = s.sparse ? s.k / 2 : s.k;
  double a[16][32], b[32][8], c[16][8];
  // The whole warp takes part (the scheduler made sure of it).
  for (unsigned lane = 0; lane < 32; ++lane) {
    for (unsigned i = 0; i < aElements(s); ++i) {
      unsigned row, col;
      aElement(s, lane, i, row, col);
      a[row][col] = fragmentValue(w, aOp, lane, i, s.ab);
    }
    for (unsigned i = 0; i < bElements(s); ++i) {
      unsigned k, n;
      bElement(s, lane, i, k, n);
      b[k][n] = fragmentValue(w, bOp, lane, i, s.ab);
    }
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row, col;
      cElement(lane, i, row, col);
      c[row][col] =
          s.f16Accumulator
              ? formatToDouble((w.reg(cOp.vec[i / 2], lane) >> (16 * (i & 1))) &
                                   0xffff,
                               Format::F16)
              : asFloat(w.reg(cOp.vec[i], lane));
    }
  }
  // Logical K column of each stored A element (identity when dense).
  unsigned column[16][32];
  for (unsigned row = 0; row < 16; ++row)
    for (unsigned col = 0; col < kA; ++col)
      column[row][col] = col;
  if (s.sparse) {
    // m16n8k32, 16-bit types: with sparsity selector f, the lanes with
    // t in {2f, 2f+1} hold the metadata; lane 4 (r % 8) + 2f + (j / 4)
    // describes group j (columns 4j..4j+3) of row r in its bits
    // 16 (r / 8) + 4 (j % 4): two 2-bit indices, the first kept entry in
    // bits 0-1, the second in bits 2-3.
    const unsigned selector = static_cast<unsigned>(in.operands[5].value);
    for (unsigned row = 0; row < 16; ++row)
      for (unsigned j = 0; j < 8; ++j) {
        unsigned lane = 4 * (row % 8) + 2 * selector + j / 4;
        uint64_t e = operandBits(cta, w, in.operands[4], lane);
        unsigned nibble = (e >> (16 * (row / 8) + 4 * (j % 4))) & 0xf;
        unsigned i0 = nibble & 3, i1 = nibble >> 2;
        if (s.ordered && i0 >= i1)
          fault(cta, w, in, lane,
                "sparse metadata of row " + std::to_string(row) + ", group " +
                    std::to_string(j) + " is " + hex(nibble) +
                    ": .sp::ordered_metadata needs two ascending indices");
        column[row][2 * j] = 4 * j + i0;
        column[row][2 * j + 1] = 4 * j + i1;
      }
  }
  double d[16][8];
  for (unsigned row = 0; row < 16; ++row)
    for (unsigned n = 0; n < 8; ++n) {
      double sum = c[row][n];
      for (unsigned col = 0; col < kA; ++col)
        sum += a[row][col] * b[column[row][col]][n];
      d[row][n] = sum;
    }
  forLanes(mask, [&](unsigned lane) {
    for (unsigned i = 0; i < 4; ++i) {
      unsigned row, col;
      cElement(lane, i, row, col);
      if (s.f16Accumulator) {
        uint64_t &reg = w.reg(dOp.vec[i / 2], lane);
        uint64_t bits =
            roundToFormat(d[row][col], 0, Format::F16, Rounding::RN);
        unsigned shift = 16 * (i & 1);
        reg = (reg & ~(uint64_t(0xffff) << shift)) | (bits << shift);
      } else {
        w.reg(dOp.vec[i], lane) =
            roundToFormat(d[row][col], 0, Format::F32, Rounding::RN);
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// shfl, vote, redux, activemask, bar.warp.sync
//===----------------------------------------------------------------------===//

void execShfl(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  uint64_t values[32];
  forLanes(mask, [&](unsigned lane) {
    values[lane] = operandBits(cta, w, in.operands[1], lane) & 0xffffffffu;
  });
  const Operand &d = in.operands[0];
  forLanes(mask, [&](unsigned lane) {
    unsigned b =
        static_cast<unsigned>(operandBits(cta, w, in.operands[2], lane));
    unsigned c =
        static_cast<unsigned>(operandBits(cta, w, in.operands[3], lane));
    unsigned bval = b & 31, cval = c & 31, segmask = (c >> 8) & 31;
    unsigned maxLane = (lane & segmask) | (cval & ~segmask);
    unsigned minLane = lane & segmask;
    int j = 0;
    bool pval = false;
    switch (in.imm) {
    case 0: // up
      j = static_cast<int>(lane) - static_cast<int>(bval);
      pval = j >= static_cast<int>(maxLane);
      break;
    case 1: // down
      j = static_cast<int>(lane + bval);
      pval = j <= static_cast<int>(maxLane);
      break;
    case 2: // bfly
      j = static_cast<int>(lane ^ bval);
      pval = j <= static_cast<int>(maxLane);
      break;
    default: // idx
      j = static_cast<int>(minLane | (bval & ~segmask));
      pval = j <= static_cast<int>(maxLane);
      break;
    }
    if (!pval)
      j = static_cast<int>(lane);
    if (!(mask >> j & 1))
      fault(cta, w, in, lane,
            "shfl.sync reads lane " + std::to_string(j) +
                ", which is not among the lanes executing it (" + hex(mask) +
                "): the result is undefined");
    if (d.kind == OperandKind::Vector) {
      w.reg(d.vec[0], lane) = values[j];
      if (d.vec[1] != kSinkSlot)
        w.reg(d.vec[1], lane) = pval;
    } else {
      w.reg(d.reg, lane) = values[j];
    }
  });
}

void execVote(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  uint32_t ballot = 0;
  forLanes(mask, [&](unsigned lane) {
    if (operandBits(cta, w, in.operands[1], lane) & 1)
      ballot |= 1u << lane;
  });
  uint64_t result;
  switch (in.imm) {
  case 0: // all
    result = ballot == mask;
    break;
  case 1: // any
    result = ballot != 0;
    break;
  case 2: // uni
    result = ballot == 0 || ballot == mask;
    break;
  default: // ballot
    result = ballot;
    break;
  }
  forLanes(mask,
           [&](unsigned lane) { w.reg(in.operands[0].reg, lane) = result; });
}

void execRedux(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const bool sgn = in.type == Type::S32;
  uint64_t acc = 0;
  bool first = true;
  forLanes(mask, [&](unsigned lane) {
    uint64_t v = operandBits(cta, w, in.operands[1], lane) & 0xffffffffu;
    if (first) {
      acc = v;
      first = false;
      return;
    }
    switch (in.imm) {
    case 0:
      acc = (acc + v) & 0xffffffffu;
      break;
    case 1:
    case 2: {
      bool less = sgn ? signExtend(v, 32) < signExtend(acc, 32) : v < acc;
      if ((in.imm == 1) == less)
        acc = v;
      break;
    }
    case 3:
      acc &= v;
      break;
    case 4:
      acc |= v;
      break;
    default:
      acc ^= v;
      break;
    }
  });
  forLanes(mask, [&](unsigned lane) { w.reg(in.operands[0].reg, lane) = acc; });
}

void execActivemask(Cta &, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask,
           [&](unsigned lane) { w.reg(in.operands[0].reg, lane) = mask; });
}

void execWarpSync(Cta &, Warp &w, const Instr &, uint32_t) {
  // Memory accesses of the warp before and after are ordered.
  ++w.warpEpoch;
}

//===----------------------------------------------------------------------===//
// Decoders
//===----------------------------------------------------------------------===//

bool collective(Instr &in, ExecFn exec, int maskOperand) {
  in.exec = exec;
  in.warpCollective = true;
  if (maskOperand >= 0) {
    in.collectiveMaskFromOperand = true;
    in.maskOperand = static_cast<uint8_t>(maskOperand);
  }
  return true;
}

bool decodeLdmatrix(Instr &in, Modifiers &m) {
  if (!m.take("sync") || !m.take("aligned") || !m.take("m8n8"))
    return false;
  int count = m.takeOneOf({"x1", "x2", "x4"});
  in.flag = m.take("trans");
  Space space = Space::Generic;
  m.takeSpace(space);
  if (space != Space::Generic && space != Space::Shared)
    return false;
  in.space = space;
  if (count < 0 || m.takeType() != Type::B16 || in.operands.size() != 2 ||
      !isAddress(in.operands[1]))
    return false;
  in.imm = 1u << count;
  const Operand &d = in.operands[0];
  if (!(isVector(d, in.imm) || (in.imm == 1 && isReg(d))))
    return false;
  return collective(in, execLdmatrix, -1);
}

bool decodeMma(Instr &in, Modifiers &m) {
  in.imm2 = m.take("sp::ordered_metadata") ? 2 : (m.take("sp") ? 1 : 0);
  if (!m.take("sync") || !m.take("aligned"))
    return false;
  int shape = m.takeOneOf({"m16n8k4", "m16n8k8", "m16n8k16", "m16n8k32"});
  if (shape < 0 || !m.take("row") || !m.take("col"))
    return false;
  static const unsigned ks[] = {4, 8, 16, 32};
  in.imm = ks[shape];
  in.type = m.takeType();
  in.type2 = m.takeType();
  in.type3 = m.takeType();
  in.type4 = m.takeType();
  const bool sparse = in.imm2 != 0;
  const Type ab = in.type2;
  if (ab != in.type3 || (in.type != Type::F32 && in.type != Type::F16) ||
      in.type != in.type4)
    return false;
  bool sixteenBit = ab == Type::F16 || ab == Type::BF16;
  if (!sixteenBit && ab != Type::TF32)
    return false;
  if (in.type == Type::F16 && ab != Type::F16)
    return false;
  if (sparse) {
    // Sparse: m16n8k32 for 16-bit types only.
    if (!sixteenBit || in.imm != 32)
      return false;
  } else {
    bool ok = sixteenBit ? (in.imm == 8 || in.imm == 16)
                         : (in.imm == 4 || in.imm == 8);
    if (!ok)
      return false;
  }
  MmaShape s = shapeOf(in);
  unsigned aRegs = s.ab == Format::TF32 ? aElements(s) : aElements(s) / 2;
  unsigned bRegs = s.ab == Format::TF32 ? bElements(s) : bElements(s) / 2;
  unsigned cRegs = in.type == Type::F16 ? 2 : 4;
  size_t operands = sparse ? 6 : 4;
  if (in.operands.size() != operands || !isVector(in.operands[0], cRegs) ||
      !isVector(in.operands[1], aRegs) || !isVector(in.operands[2], bRegs) ||
      !isVector(in.operands[3], cRegs))
    return false;
  if (sparse &&
      (!isRegOrImm(in.operands[4]) || in.operands[5].kind != OperandKind::Imm ||
       in.operands[5].value < 0 || in.operands[5].value > 1))
    return false;
  return collective(in, execMma, -1);
}

bool decodeShfl(Instr &in, Modifiers &m) {
  if (!m.take("sync"))
    return false;
  int mode = m.takeOneOf({"up", "down", "bfly", "idx"});
  if (mode < 0 || m.takeType() != Type::B32 || in.operands.size() != 5)
    return false;
  in.imm = static_cast<uint32_t>(mode);
  const Operand &d = in.operands[0];
  if (!(isReg(d) || isVector(d, 2)))
    return false;
  for (unsigned i = 1; i < 5; ++i)
    if (!isRegOrImm(in.operands[i]))
      return false;
  return collective(in, execShfl, 4);
}

bool decodeVote(Instr &in, Modifiers &m) {
  if (!m.take("sync"))
    return false;
  int mode = m.takeOneOf({"all", "any", "uni", "ballot"});
  Type t = m.takeType();
  if (mode < 0 || (mode == 3 ? t != Type::B32 : t != Type::Pred) ||
      in.operands.size() != 3 || !isReg(in.operands[0]) ||
      !isRegOrImm(in.operands[1]) || !isRegOrImm(in.operands[2]))
    return false;
  in.imm = static_cast<uint32_t>(mode);
  return collective(in, execVote, 2);
}

bool decodeRedux(Instr &in, Modifiers &m) {
  if (!m.take("sync"))
    return false;
  int op = m.takeOneOf({"add", "min", "max", "and", "or", "xor"});
  in.type = m.takeType();
  if (op < 0 || in.operands.size() != 3 || !isReg(in.operands[0]))
    return false;
  bool arithmetic = op < 3;
  if (arithmetic ? (in.type != Type::U32 && in.type != Type::S32)
                 : in.type != Type::B32)
    return false;
  in.imm = static_cast<uint32_t>(op);
  return collective(in, execRedux, 2);
}

bool decodeActivemask(Instr &in, Modifiers &m) {
  if (m.takeType() != Type::B32 || in.operands.size() != 1 ||
      !isReg(in.operands[0]))
    return false;
  in.exec = execActivemask;
  return true;
}

bool decodeBarWarp(Instr &in, Modifiers &m) {
  if (!m.take("warp") || !m.take("sync") || in.operands.size() != 1 ||
      !isRegOrImm(in.operands[0]))
    return false;
  return collective(in, execWarpSync, 0);
}

} // namespace

void slr::sim::appendWarpDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {{"ldmatrix", decodeLdmatrix},
                     {"mma", decodeMma},
                     {"shfl", decodeShfl},
                     {"vote", decodeVote},
                     {"redux", decodeRedux},
                     {"activemask", decodeActivemask},
                     {"bar", decodeBarWarp}});
}
