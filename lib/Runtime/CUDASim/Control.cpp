//===- Control.cpp - Branches, exits, barriers, fences --------------------===//
//
// bar.sync / barrier.sync wait until the barrier's expected thread count
// (all threads of the CTA when no count is given) has arrived; bar.arrive
// counts without waiting. A CTA-wide barrier that some thread of the CTA
// can no longer reach because it exited is an error, as is a deadlock.
// Completing a CTA-wide barrier starts a new interval for the shared-memory
// race check. Fences are no-ops: the simulation is sequentially consistent.
//
//===----------------------------------------------------------------------===//

#include "Decode.h"

using namespace slr::sim;

namespace {

void execBra(Cta &, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) { w.pc[lane] = in.target; });
}

void checkBarriersAfterExit(Cta &cta, const Warp &w, const Instr &in,
                            unsigned lane) {
  for (unsigned id = 0; id < 16; ++id) {
    const Barrier &b = cta.barriers[id];
    if (b.arrived && b.expected == cta.threads)
      fault(cta, w, in, lane,
            "the thread exits while " + std::to_string(b.arrived) +
                " threads wait at barrier " + std::to_string(id) +
                " (PTX line " +
                std::to_string(cta.function->code[b.firstInstr].line) +
                "), which needs every thread of the CTA");
  }
}

void execExit(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  forLanes(mask, [&](unsigned lane) {
    // Copies in flight complete even after their thread exits.
    w.groups[lane].push_back(std::move(w.uncommitted[lane]));
    w.uncommitted[lane].clear();
    completeAsyncGroups(cta, w, lane, 0);
  });
  w.running &= ~mask;
  w.exited |= mask;
  cta.exitedThreads += static_cast<uint32_t>(__builtin_popcount(mask));
  // Lanes waiting for these at a warp-synchronous instruction never will.
  if (w.atCollective) {
    unsigned waiter = static_cast<unsigned>(__builtin_ctz(w.atCollective));
    const Instr &collective = cta.function->code[w.pc[waiter]];
    uint32_t required = requiredLanes(cta, w, collective, w.atCollective);
    if (required & w.exited)
      fault(cta, w, collective, waiter,
            "warp-synchronous instruction reached by lanes " +
                hex(w.atCollective) + " of warp " + std::to_string(w.id) +
                ", but lanes " + hex(required & w.exited) +
                " it needs have exited");
  }
  checkBarriersAfterExit(cta, w, in,
                         static_cast<unsigned>(__builtin_ctz(mask)));
}

void release(Cta &cta, unsigned id) {
  Barrier &b = cta.barriers[id];
  bool ctaWide = b.expected == cta.threads;
  for (Warp &w : cta.warps) {
    uint32_t released = 0;
    forLanes(w.atBarrier, [&](unsigned lane) {
      if (w.barrier[lane] == id)
        released |= 1u << lane;
    });
    w.atBarrier &= ~released;
    w.running |= released;
  }
  b = Barrier();
  if (ctaWide)
    cta.epoch = ++*cta.launch->epochCounter;
}

void execBarrier(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  const unsigned lane0 = static_cast<unsigned>(__builtin_ctz(mask));
  const uint64_t id = operandBits(cta, w, in.operands[0], lane0);
  if (id >= 16)
    fault(cta, w, in, lane0,
          "barrier id " + std::to_string(id) + " out of range (0..15)");
  uint64_t expected = cta.threads;
  if (in.operands.size() > 1) {
    expected = operandBits(cta, w, in.operands[1], lane0) & 0xffffffffu;
    if (expected == 0 || expected % 32 != 0 || expected > 32 * cta.warps.size())
      fault(cta, w, in, lane0,
            "barrier thread count " + std::to_string(expected) +
                " is not a positive multiple of 32 within the CTA's " +
                std::to_string(cta.threads) + " threads");
  }
  Barrier &b = cta.barriers[id];
  if (b.arrived == 0) {
    b.expected = static_cast<uint32_t>(expected);
    b.firstInstr = static_cast<uint32_t>(&in - cta.function->code.data());
  } else if (b.expected != expected) {
    fault(cta, w, in, lane0,
          "barrier " + std::to_string(id) + " expects " +
              std::to_string(expected) + " threads here but " +
              std::to_string(b.expected) + " at PTX line " +
              std::to_string(cta.function->code[b.firstInstr].line));
  }
  b.arrived += static_cast<uint32_t>(__builtin_popcount(mask));
  if (!in.flag) { // bar.sync waits; bar.arrive does not
    w.running &= ~mask;
    w.atBarrier |= mask;
    forLanes(mask, [&](unsigned lane) {
      w.barrier[lane] = static_cast<uint8_t>(id);
    });
  }
  if (b.expected == cta.threads && cta.exitedThreads)
    fault(cta, w, in, lane0,
          "bar.sync needs every thread of the CTA, but " +
              std::to_string(cta.exitedThreads) + " have exited");
  if (b.arrived > b.expected)
    fault(cta, w, in, lane0,
          std::to_string(b.arrived) + " threads arrived at barrier " +
              std::to_string(id) + ", which expects " +
              std::to_string(b.expected));
  if (b.arrived == b.expected)
    release(cta, static_cast<unsigned>(id));
}

void execNop(Cta &, Warp &, const Instr &, uint32_t) {}

void execTrap(Cta &cta, Warp &w, const Instr &in, uint32_t mask) {
  fault(cta, w, in, static_cast<unsigned>(__builtin_ctz(mask)),
        "trap: the kernel aborted", kErrorLaunchFailed);
}

bool control(Instr &in, ExecFn exec) {
  in.exec = exec;
  in.control = true;
  return true;
}

bool decodeBra(Instr &in, Modifiers &m) {
  m.take("uni");
  if (in.operands.size() != 1 || in.operands[0].kind != OperandKind::Label)
    return false;
  return control(in, execBra);
}

bool decodeExit(Instr &in, Modifiers &) {
  return in.operands.empty() && control(in, execExit);
}

bool decodeRet(Instr &in, Modifiers &m) {
  m.take("uni");
  return in.operands.empty() && control(in, execExit);
}

bool decodeBarrierForm(Instr &in, Modifiers &m) {
  // bar.sync, bar.arrive, barrier.sync{.aligned}, barrier.arrive{.aligned},
  // bar{.cta}.sync ...
  m.take("cta");
  int which = m.takeOneOf({"sync", "arrive"});
  m.take("aligned");
  if (in.opcode == "bar" || in.opcode == "barrier") // bar a == bar.sync a
    which = 0;
  if (which < 0 || in.operands.empty() || in.operands.size() > 2)
    return false;
  for (const Operand &op : in.operands)
    if (!isRegOrImm(op))
      return false;
  if (which == 1 && in.operands.size() != 2)
    return false;
  in.flag = which == 1;
  return control(in, execBarrier);
}

bool decodeMembar(Instr &in, Modifiers &m) {
  m.takeOneOf({"cta", "gl", "sys"});
  in.exec = execNop;
  return in.operands.empty();
}

bool decodeFence(Instr &in, Modifiers &m) {
  // fence{.sem}.scope, fence.proxy.*, fence.mbarrier_init...
  m.takeOrderingAndCacheHints();
  if (m.take("mbarrier_init")) { // .release.cluster, taken above
    in.exec = execNop;
    return in.operands.empty();
  }
  if (m.take("proxy")) {
    // fence.proxy.tensormap::generic: orders generic-proxy writes of a
    // CUtensorMap in global memory before its use by the tensor copies;
    // the acquire form names the map and its 128 bytes.
    if (m.take("tensormap::generic")) {
      // .release/.acquire and the scope went with the ordering hints.
      in.exec = execNop;
      if (in.opcode.find(".release") != std::string::npos)
        return in.operands.empty();
      return in.opcode.find(".acquire") != std::string::npos &&
             in.operands.size() == 2 &&
             in.operands[0].kind == OperandKind::Address &&
             in.operands[1].kind == OperandKind::Imm &&
             in.operands[1].value == 128;
    }
    m.takeOneOf({"async", "alias", "tensormap"});
    m.takeOneOf({"shared::cta", "shared::cluster", "global", "generic"});
    m.takeOrderingAndCacheHints();
    m.takeOneOf({"release", "acquire"});
  }
  in.exec = execNop;
  return in.operands.empty();
}

bool decodeNanosleep(Instr &in, Modifiers &m) {
  m.take("u32");
  in.exec = execNop;
  return in.operands.size() == 1;
}

bool decodeTrap(Instr &in, Modifiers &) {
  return in.operands.empty() && control(in, execTrap);
}

bool decodeGriddepcontrol(Instr &in, Modifiers &m) {
  // No programmatic dependent launch here: launches run in order.
  if (m.takeOneOf({"wait", "launch_dependents"}) < 0)
    return false;
  in.exec = execNop;
  return in.operands.empty();
}

} // namespace

void slr::sim::appendControlDecoders(std::vector<DecoderEntry> &t) {
  t.insert(t.end(), {{"bra", decodeBra},
                     {"exit", decodeExit},
                     {"ret", decodeRet},
                     {"bar", decodeBarrierForm},
                     {"barrier", decodeBarrierForm},
                     {"membar", decodeMembar},
                     {"fence", decodeFence},
                     {"nanosleep", decodeNanosleep},
                     {"trap", decodeTrap},
                     {"griddepcontrol", decodeGriddepcontrol}});
}
