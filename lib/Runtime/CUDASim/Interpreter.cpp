//===- Interpreter.cpp - Running the CTAs and warps of a launch -----------===//
//
// The scheduler: CTAs one after another; within a CTA each warp runs until
// none of its lanes can go on (all wait at a barrier or a warp-synchronous
// instruction, or have exited), then the next; a barrier that every thread
// it expects has reached releases its waiters. Within a warp, the running
// lanes with the lowest program counter execute together, so lanes that
// diverged reconverge where their paths meet (structured code reconverges
// at the immediate post-dominator, as on the hardware).
//
//===----------------------------------------------------------------------===//

#include "Machine.h"

#include <algorithm>
#include <chrono>

using namespace slr::sim;

namespace {

/// Control-flow instructions set the lanes' program counters themselves;
/// all others advance the group by one.
bool isControl(const Instr &instr) { return instr.control; }

void initWarp(Cta &cta, Warp &w, unsigned index) {
  const Launch &l = *cta.launch;
  const Function &f = *cta.function;
  w.id = index;
  w.regs.assign(static_cast<size_t>(f.numSlots) * 32, 0);
  w.warpEpoch = 0;
  w.wgmmaBusy = false;
  w.existMask = 0;
  w.running = 0;
  w.atBarrier = 0;
  w.atCollective = 0;
  w.atMbarrier = 0;
  w.yielded = 0;
  w.exited = 0;
  unsigned bx = l.block[0], by = l.block[1];
  unsigned warps = (cta.threads + 31) / 32;
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned t = index * 32 + lane;
    w.pc[lane] = 0;
    w.uncommitted[lane].clear();
    w.groups[lane].clear();
    if (t >= cta.threads)
      continue;
    w.existMask |= 1u << lane;
    uint64_t tid[3] = {t % bx, (t / bx) % by, t / (bx * by)};
    for (unsigned d = 0; d < 3; ++d) {
      w.reg(kTidX + d, lane) = tid[d];
      w.reg(kNtidX + d, lane) = l.block[d];
      w.reg(kCtaidX + d, lane) = cta.ctaid[d];
      w.reg(kNctaidX + d, lane) = l.grid[d];
      // No clusters: every CTA is a cluster of one.
      w.reg(kClusterCtaidX + d, lane) = 0;
      w.reg(kClusterNctaidX + d, lane) = 1;
      w.reg(kClusteridX + d, lane) = cta.ctaid[d];
      w.reg(kNclusteridX + d, lane) = l.grid[d];
    }
    w.reg(kLaneId, lane) = lane;
    w.reg(kWarpId, lane) = index;
    w.reg(kNwarpId, lane) = warps;
    w.reg(kLanemaskEq, lane) = 1u << lane;
    w.reg(kLanemaskLt, lane) = (1u << lane) - 1;
    w.reg(kLanemaskLe, lane) = (lane == 31) ? 0xffffffffu : (2u << lane) - 1;
    w.reg(kLanemaskGt, lane) = ~w.reg(kLanemaskLe, lane) & 0xffffffffu;
    w.reg(kLanemaskGe, lane) = ~w.reg(kLanemaskLt, lane) & 0xffffffffu;
    w.reg(kSmId, lane) = 0;
    w.reg(kNsmId, lane) = 1;
    w.reg(kGridId, lane) = 1;
    w.reg(kDynamicSmemSize, lane) = l.dynamicShared;
    w.reg(kTotalSmemSize, lane) = cta.shared.size();
    w.reg(kClusterCtarank, lane) = 0;
    w.reg(kClusterNctarank, lane) = 1;
    w.reg(kIsExplicitCluster, lane) = 0;
  }
  w.running = w.existMask;
}

std::string describeWaiting(const Cta &cta) {
  const Function &f = *cta.function;
  std::string text;
  for (unsigned id = 0; id < 16; ++id) {
    const Barrier &b = cta.barriers[id];
    if (b.arrived)
      text += " " + std::to_string(b.arrived) + " of " +
              std::to_string(b.expected) + " threads wait at barrier " +
              std::to_string(id) + " (PTX line " +
              std::to_string(f.code[b.firstInstr].line) + ");";
  }
  for (const Warp &w : cta.warps) {
    if (!w.atCollective)
      continue;
    unsigned lane = static_cast<unsigned>(__builtin_ctz(w.atCollective));
    const Instr &instr = f.code[w.pc[lane]];
    text += " lanes " + hex(w.atCollective) + " of warp " +
            std::to_string(w.id) + " wait for the rest of the " +
            (instr.warpgroupCollective ? "warpgroup" : "warp") + " at `" +
            instr.text + "` (PTX line " + std::to_string(instr.line) + ");";
  }
  text += describeMbarrierWaiters(cta);
  if (cta.exitedThreads)
    text += " " + std::to_string(cta.exitedThreads) + " threads have exited;";
  if (!text.empty())
    text.pop_back();
  return text;
}

void runWarp(Cta &cta, Warp &w) {
  Launch &l = *cta.launch;
  const std::vector<Instr> &code = cta.function->code;
  const uint64_t maxSteps = l.options->maxWarpSteps;
  Statistics &stats = *l.stats;
  bool valid = false;
  uint32_t group = 0, pc = 0, otherMin = 0;
  auto materialize = [&] {
    forLanes(group, [&](unsigned lane) { w.pc[lane] = pc; });
  };
  while (true) {
    if (!valid) {
      if (!w.running)
        return;
      pc = UINT32_MAX;
      forLanes(w.running,
               [&](unsigned lane) { pc = std::min(pc, w.pc[lane]); });
      group = 0;
      otherMin = UINT32_MAX;
      forLanes(w.running, [&](unsigned lane) {
        if (w.pc[lane] == pc)
          group |= 1u << lane;
        else
          otherMin = std::min(otherMin, w.pc[lane]);
      });
      valid = true;
    }
    const Instr &instr = code[pc];

    if (instr.warpCollective) {
      uint32_t required = requiredLanes(cta, w, instr, group);
      uint32_t waiting = 0;
      forLanes(w.atCollective, [&](unsigned lane) {
        if (w.pc[lane] == pc)
          waiting |= 1u << lane;
      });
      uint32_t present = group | waiting;
      if (present & ~required) {
        unsigned lane =
            static_cast<unsigned>(__builtin_ctz(present & ~required));
        fault(cta, w, instr, lane,
              "the lane executes a warp-synchronous instruction whose "
              "member mask " +
                  hex(required) + " does not include it");
      }
      if ((present & required) != required) {
        if (required & w.exited) {
          unsigned lane = static_cast<unsigned>(__builtin_ctz(group));
          fault(cta, w, instr, lane,
                "warp-synchronous instruction reached by lanes " +
                    hex(present) + " of warp " + std::to_string(w.id) +
                    ", but lanes " + hex(required & w.exited) +
                    " it needs have exited");
        }
        materialize();
        w.running &= ~group;
        w.atCollective |= group;
        valid = false;
        continue;
      }
      w.atCollective &= ~waiting;
      w.running |= waiting;
      group = present;
      otherMin = UINT32_MAX;
      forLanes(w.running & ~group, [&](unsigned lane) {
        otherMin = std::min(otherMin, w.pc[lane]);
      });
      if (instr.warpgroupCollective && !warpgroupReady(cta, w, instr, pc)) {
        // The whole warp waits for the rest of its warpgroup.
        materialize();
        w.running &= ~group;
        w.atCollective |= group;
        valid = false;
        continue;
      }
    }

    uint32_t active = group;
    if (instr.guard != kNoReg) {
      active = 0;
      forLanes(group, [&](unsigned lane) {
        if ((w.reg(instr.guard, lane) != 0) != instr.guardNegated)
          active |= 1u << lane;
      });
    }
    if (++l.warpSteps > maxSteps) {
      unsigned lane = static_cast<unsigned>(__builtin_ctz(group));
      fault(cta, w, instr, lane,
            "the kernel ran for more than " + std::to_string(maxSteps) +
                " warp instructions without finishing (an endless loop?); "
                "SLR_CUDA_SIM_MAX_STEPS raises the limit",
            kErrorLaunchTimeout);
    }
    ++stats.warpInstructions;
    stats.threadInstructions +=
        static_cast<uint64_t>(__builtin_popcount(group));

    if (w.wgmmaBusy && active && !instr.warpgroupCollective)
      checkWgmmaRegisters(cta, w, instr, active);
    if (isControl(instr) || instr.warpCollective) {
      // Handlers of these read and set the lanes' program counters.
      ++pc;
      materialize();
      if (active || instr.warpCollective)
        instr.exec(cta, w, instr, active);
      if (instr.warpgroupCollective)
        releaseWarpgroup(cta, w, pc);
      valid = false;
      continue;
    }
    if (active)
      instr.exec(cta, w, instr, active);
    ++pc;
    if (pc >= otherMin) {
      materialize();
      valid = false;
    }
  }
}

void initCta(Cta &cta) {
  Launch &l = *cta.launch;
  cta.epoch = ++*l.epochCounter;
  cta.serial = cta.epoch;
  cta.exitedThreads = 0;
  cta.bulkCopies.clear();
  for (Barrier &b : cta.barriers)
    b = Barrier();
  // Poison: uninitialised shared and local memory reads as NaN / -1.
  std::fill(cta.shared.begin(), cta.shared.end(), 0xff);
  std::fill(cta.local.begin(), cta.local.end(), 0xff);
  for (unsigned i = 0; i < cta.warps.size(); ++i)
    initWarp(cta, cta.warps[i], i);
  initWarpgroups(cta);
}

void runCta(Cta &cta) {
  initCta(cta);
  while (true) {
    bool ran = false;
    for (Warp &w : cta.warps)
      if (w.running) {
        runWarp(cta, w);
        ran = true;
      }
    if (cta.exitedThreads == cta.threads)
      return;
    // Lanes that found an mbarrier phase incomplete (test_wait) let the other
    // warps run once before they try again.
    for (Warp &w : cta.warps)
      if (w.yielded) {
        w.running |= w.yielded;
        w.yielded = 0;
        ran = true;
      }
    // Bulk copies land at the latest when nothing else can go on.
    if (!ran && landBulkCopies(cta, -1))
      continue;
    if (!ran) {
      const Warp &w = cta.warps.front();
      const Instr &instr =
          cta.function
              ->code[std::min<size_t>(w.pc[0], cta.function->code.size() - 1)];
      fault(cta, w, instr, 0,
            "deadlock: no thread can go on:" + describeWaiting(cta));
    }
  }
}

} // namespace

uint32_t slr::sim::requiredLanes(const Cta &cta, const Warp &w,
                                 const Instr &instr, uint32_t group) {
  if (!instr.collectiveMaskFromOperand)
    return w.existMask;
  unsigned lane = static_cast<unsigned>(__builtin_ctz(group));
  uint32_t mask = static_cast<uint32_t>(
      operandBits(cta, w, instr.operands[instr.maskOperand], lane));
  return mask & w.existMask;
}

uint64_t slr::sim::readClock(const Cta &cta) {
  // A monotonic count (warp instructions so far), not a time.
  return cta.launch->stats->warpInstructions;
}

void slr::sim::runLaunch(Launch &l) {
  auto start = std::chrono::steady_clock::now();
  const Function &f = *l.function;
  Cta cta;
  cta.launch = &l;
  cta.function = &f;
  cta.threads = l.block[0] * l.block[1] * l.block[2];
  cta.warps.resize((cta.threads + 31) / 32);
  uint64_t sharedBytes = (f.staticSharedBytes + 15) / 16 * 16 + l.dynamicShared;
  cta.shared.assign(sharedBytes, 0);
  static thread_local std::vector<ShadowByte> shadow;
  if (shadow.size() < sharedBytes)
    shadow.resize(sharedBytes);
  cta.shadow = &shadow;
  cta.local.assign(static_cast<size_t>(cta.threads) * f.localBytes, 0);
  ++l.stats->launches;
  try {
    for (uint32_t z = 0; z < l.grid[2]; ++z)
      for (uint32_t y = 0; y < l.grid[1]; ++y)
        for (uint32_t x = 0; x < l.grid[0]; ++x) {
          cta.ctaid[0] = x;
          cta.ctaid[1] = y;
          cta.ctaid[2] = z;
          ++l.stats->ctas;
          runCta(cta);
        }
  } catch (...) {
    l.stats->seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    throw;
  }
  l.stats->seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
}

std::string slr::sim::hex(uint64_t value) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[value & 15]);
    value >>= 4;
  } while (value);
  return "0x" + s;
}

std::string slr::sim::threadName(const Cta &cta, unsigned t) {
  const Launch &l = *cta.launch;
  unsigned bx = l.block[0], by = l.block[1];
  return "(" + std::to_string(t % bx) + ", " + std::to_string((t / bx) % by) +
         ", " + std::to_string(t / (bx * by)) + ")";
}

void slr::sim::fault(const Cta &cta, const Warp &warp, const Instr &instr,
                     unsigned lane, const std::string &what, int code) {
  std::string message =
      "kernel '" + cta.function->name + "', PTX line " +
      std::to_string(instr.line) + " (`" + instr.text + "`), thread " +
      threadName(cta, linearThread(warp, lane)) + " of block (" +
      std::to_string(cta.ctaid[0]) + ", " + std::to_string(cta.ctaid[1]) +
      ", " + std::to_string(cta.ctaid[2]) + "): " + what;
  throw Fault{message, code};
}
