//===- Memory.cpp - Device memory and the checks on every access ----------===//
//
// Global memory is host memory the simulator allocated (with a red zone
// after each allocation, and freed ranges remembered for messages); every
// global access must lie inside one live allocation. Shared memory is the
// CTA's buffer (static variables, then the dynamic part); every access must
// lie inside it, and its shadow detects, per byte, conflicting accesses of
// two threads in the same barrier interval and reads of bytes a cp.async is
// still copying.
//
//===----------------------------------------------------------------------===//

#include "Machine.h"

#include <algorithm>
#include <cstdlib>

using namespace slr::sim;

namespace {
constexpr uint64_t kRedZone = 256;
constexpr uint16_t kManyThreads = 0xffff;
constexpr size_t kFreedRemembered = 4096;
} // namespace

void *DeviceMemory::allocate(uint64_t size, const std::string &label) {
  // 256-byte alignment like cudaMalloc; the red zone keeps neighbours apart
  // so that an overrun is outside every allocation.
  uint64_t bytes = (std::max<uint64_t>(size, 1) + kRedZone + 255) / 256 * 256;
  void *pointer = std::aligned_alloc(256, bytes);
  if (!pointer)
    return nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t base = reinterpret_cast<uint64_t>(pointer);
  live[base] = Allocation{base, size, label};
  freed.erase(base);
  return pointer;
}

bool DeviceMemory::release(void *pointer, std::string &error) {
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t base = reinterpret_cast<uint64_t>(pointer);
  auto it = live.find(base);
  if (it == live.end() || it->second.label == "module variable") {
    error = freed.count(base)
                ? "double free of device pointer " + hex(base)
                : "free of " + hex(base) + ", which is not a device allocation";
    return false;
  }
  if (freed.size() >= kFreedRemembered)
    freed.erase(freed.begin());
  freed[base] = it->second;
  live.erase(it);
  std::free(pointer);
  return true;
}

void DeviceMemory::registerRange(void *pointer, uint64_t size,
                                 const std::string &label) {
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t base = reinterpret_cast<uint64_t>(pointer);
  live[base] = Allocation{base, size, label};
}

void DeviceMemory::unregisterRange(void *pointer) {
  std::lock_guard<std::mutex> lock(mutex);
  live.erase(reinterpret_cast<uint64_t>(pointer));
}

const Allocation *DeviceMemory::find(uint64_t address, uint64_t size) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = live.upper_bound(address);
  if (it == live.begin())
    return nullptr;
  --it;
  const Allocation &a = it->second;
  if (address >= a.base && size <= a.size && address - a.base <= a.size - size)
    return &a;
  return nullptr;
}

bool DeviceMemory::overlapsAllocation(uint64_t address, uint64_t size) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = live.lower_bound(address + size);
  if (it == live.begin())
    return false;
  --it;
  return it->second.base + it->second.size > address;
}

std::string DeviceMemory::describe(uint64_t address, uint64_t size) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto describeIn = [&](const std::map<uint64_t, Allocation> &map,
                        const char *what) -> std::string {
    auto it = map.upper_bound(address);
    if (it == map.begin())
      return "";
    --it;
    const Allocation &a = it->second;
    if (address < a.base || address - a.base >= a.size + kRedZone)
      return "";
    uint64_t offset = address - a.base;
    std::string where =
        offset + size > a.size
            ? std::to_string(offset + size - a.size) + " bytes past the end of"
            : "inside";
    return std::string(where) + " the " + what + std::to_string(a.size) +
           "-byte " + a.label + " at " + hex(a.base) + " (offset " +
           std::to_string(offset) + ")";
  };
  std::string in = describeIn(live, "");
  if (!in.empty())
    return in;
  in = describeIn(freed, "freed ");
  if (!in.empty())
    return in;
  return "not inside any device allocation" +
         std::string(address < 65536 ? " (a null or small pointer)" : "");
}

namespace {

[[noreturn]] void raceFault(Cta &cta, Warp &w, const Instr &instr,
                            unsigned lane, uint64_t offset, const char *mine,
                            const char *theirs, unsigned otherThread,
                            uint32_t otherInstr) {
  const Instr &other = cta.function->code[otherInstr];
  fault(cta, w, instr, lane,
        std::string("shared-memory race: ") + mine + " of shared byte " +
            hex(offset) + " conflicts with the " + theirs + " by thread " +
            threadName(cta, otherThread) + " at PTX line " +
            std::to_string(other.line) + " (`" + other.text +
            "`) in the same barrier interval (no bar.sync between them)",
        kErrorLaunchFailed);
}

uint32_t instrIndex(const Cta &cta, const Instr &instr) {
  return static_cast<uint32_t>(&instr - cta.function->code.data());
}

/// Whether an earlier access by `other` (of warp `otherWarp` at warp epoch
/// `otherWarpEpoch`) is ordered before the current one by a bar.warp.sync.
bool warpOrdered(const Warp &w, uint16_t otherWarp, uint32_t otherWarpEpoch) {
  return otherWarp == w.id && otherWarpEpoch < w.warpEpoch;
}

void checkShared(Cta &cta, Warp &w, const Instr &instr, unsigned lane,
                 uint64_t offset, unsigned size, Access access) {
  std::vector<ShadowByte> &shadow = *cta.shadow;
  const uint16_t me = static_cast<uint16_t>(linearThread(w, lane));
  const uint32_t index = instrIndex(cta, instr);
  const uint32_t epoch = cta.epoch;
  for (unsigned i = 0; i < size; ++i) {
    ShadowByte &s = shadow[offset + i];
    if (s.pending && s.pendingCta == cta.serial) {
      const Instr &copy = cta.function->code[s.pendingInstr];
      bool bulk = copy.opcode.rfind("cp.async.bulk", 0) == 0;
      fault(cta, w, instr, lane,
            std::string(access == Access::Read ? "stale read" : "write") +
                " of shared byte " + hex(offset + i) + " while a " +
                (bulk ? "cp.async.bulk" : "cp.async") + " of thread " +
                threadName(cta, s.pendingThread) + " (PTX line " +
                std::to_string(copy.line) + ") is still copying into it: " +
                (bulk ? "the phase of its mbarrier had not completed "
                        "(mbarrier.try_wait) before this access"
                      : "its group was not waited for "
                        "(cp.async.wait_group) before this access"));
    }
    if (access != Access::Read && s.wgmmaReads && s.wgmmaCta == cta.serial)
      wgmmaReadFault(cta, w, instr, lane, offset + i, s, "write");
    if (!cta.launch->options->checkRaces)
      continue;
    bool sameInterval = s.writeEpoch == epoch;
    bool bothAtomic = access == Access::Atomic && s.writeAtomic;
    if (sameInterval && s.writer != me && !bothAtomic &&
        !warpOrdered(w, static_cast<uint16_t>(s.writer / 32), s.writeWarpEpoch))
      raceFault(cta, w, instr, lane, offset + i,
                access == Access::Read ? "read" : "write", "write", s.writer,
                s.writeInstr);
    if (access == Access::Read) {
      if (s.readEpoch != epoch) {
        s.readEpoch = epoch;
        s.reader = me;
        s.readerWarp = static_cast<uint16_t>(w.id);
        s.readWarpEpoch = w.warpEpoch;
        s.readInstr = index;
      } else if (s.reader != me) {
        s.reader = kManyThreads;
        if (s.readerWarp != w.id)
          s.readerWarp = kManyThreads;
        s.readWarpEpoch = std::max(s.readWarpEpoch, w.warpEpoch);
      }
      continue;
    }
    if (s.readEpoch == epoch && s.reader != me &&
        !(s.readerWarp != kManyThreads &&
          warpOrdered(w, s.readerWarp, s.readWarpEpoch)))
      raceFault(cta, w, instr, lane, offset + i, "write",
                s.reader == kManyThreads ? "reads" : "read",
                s.reader == kManyThreads ? 0 : s.reader, s.readInstr);
    s.writeAtomic = access == Access::Atomic &&
                    (!sameInterval || s.writeAtomic || s.writer == me);
    s.writeEpoch = epoch;
    s.writer = me;
    s.writeWarpEpoch = w.warpEpoch;
    s.writeInstr = index;
  }
}

const char *accessName(Access access) {
  switch (access) {
  case Access::Read:
    return "read";
  case Access::Write:
    return "write";
  case Access::Atomic:
    return "atomic";
  }
  return "access";
}

} // namespace

uint8_t *slr::sim::accessMemory(Cta &cta, Warp &w, const Instr &instr,
                                unsigned lane, Space space, uint64_t address,
                                unsigned size, Access access,
                                unsigned alignment) {
  if (space == Space::Generic) {
    if (address - kSharedWindow < kWindowSize) {
      space = Space::Shared;
      address -= kSharedWindow;
    } else if (address - kLocalWindow < kWindowSize) {
      space = Space::Local;
      address -= kLocalWindow;
    } else if (address - kParamWindow < kWindowSize) {
      space = Space::Param;
      address -= kParamWindow;
    } else {
      space = Space::Global;
    }
  }
  auto describeAccess = [&]() {
    return std::string(spaceName(space)) + " " + accessName(access) + " of " +
           std::to_string(size) + " bytes at " + hex(address);
  };
  if (alignment > 1 && address % alignment != 0)
    fault(cta, w, instr, lane,
          "misaligned " + describeAccess() + " (needs " +
              std::to_string(alignment) + "-byte alignment)",
          kErrorMisalignedAddress);
  switch (space) {
  case Space::Shared: {
    uint64_t total = cta.shared.size();
    if (address > total || size > total - address)
      fault(cta, w, instr, lane,
            "out-of-bounds " + describeAccess() + ": the CTA has " +
                std::to_string(total) + " bytes of shared memory (" +
                std::to_string(cta.function->staticSharedBytes) + " static + " +
                std::to_string(cta.launch->dynamicShared) + " dynamic)",
            kErrorIllegalAddress);
    checkShared(cta, w, instr, lane, address, size, access);
    return cta.shared.data() + address;
  }
  case Space::Global:
  case Space::Const: {
    const Allocation *a = cta.lastAllocation;
    if (!a || address < a->base || size > a->size ||
        address - a->base > a->size - size) {
      a = cta.launch->memory->find(address, size);
      if (!a)
        fault(cta, w, instr, lane,
              "out-of-bounds " + describeAccess() + ": " +
                  cta.launch->memory->describe(address, size),
              kErrorIllegalAddress);
      cta.lastAllocation = a;
    }
    return reinterpret_cast<uint8_t *>(address);
  }
  case Space::Local: {
    uint64_t total = cta.function->localBytes;
    if (address > total || size > total - address)
      fault(cta, w, instr, lane,
            "out-of-bounds " + describeAccess() + ": the thread has " +
                std::to_string(total) + " bytes of local memory",
            kErrorIllegalAddress);
    return cta.local.data() + linearThread(w, lane) * total + address;
  }
  case Space::Param: {
    uint64_t total = cta.launch->params.size();
    if (access != Access::Read)
      fault(cta, w, instr, lane, "kernel parameters are read-only");
    if (address > total || size > total - address)
      fault(cta, w, instr, lane,
            "out-of-bounds " + describeAccess() + ": the kernel has " +
                std::to_string(total) + " bytes of parameters",
            kErrorIllegalAddress);
    return cta.launch->params.data() + address;
  }
  case Space::Generic:
    break;
  }
  fault(cta, w, instr, lane, "unsupported state space");
}

void slr::sim::issueAsyncCopy(Cta &cta, Warp &w, const Instr &instr,
                              unsigned lane, uint64_t sharedAddress,
                              uint64_t globalAddress, unsigned copySize,
                              unsigned sourceSize) {
  AsyncCopy copy;
  copy.size = copySize;
  copy.instrIndex = static_cast<uint32_t>(&instr - cta.function->code.data());
  std::memset(copy.data, 0, sizeof(copy.data));
  if (sourceSize) {
    const uint8_t *source =
        accessMemory(cta, w, instr, lane, Space::Global, globalAddress,
                     sourceSize, Access::Read, copySize);
    std::memcpy(copy.data, source, sourceSize);
  }
  // Bounds and alignment of the destination now; the bytes arrive later.
  accessMemory(cta, w, instr, lane, Space::Shared, sharedAddress, 0,
               Access::Read, copySize);
  uint64_t total = cta.shared.size();
  if (sharedAddress > total || copySize > total - sharedAddress)
    fault(cta, w, instr, lane,
          "out-of-bounds cp.async of " + std::to_string(copySize) +
              " bytes to shared offset " + hex(sharedAddress) +
              ": the CTA has " + std::to_string(total) +
              " bytes of shared memory",
          kErrorIllegalAddress);
  copy.sharedOffset = static_cast<uint32_t>(sharedAddress);
  checkWgmmaReaders(cta, w, instr, lane, sharedAddress, copySize, "cp.async");
  std::vector<ShadowByte> &shadow = *cta.shadow;
  for (unsigned i = 0; i < copySize; ++i) {
    ShadowByte &s = shadow[sharedAddress + i];
    if (s.pending && s.pendingCta == cta.serial) {
      const Instr &other = cta.function->code[s.pendingInstr];
      fault(cta, w, instr, lane,
            "cp.async into shared byte " + hex(sharedAddress + i) +
                " while an earlier cp.async of thread " +
                threadName(cta, s.pendingThread) + " (PTX line " +
                std::to_string(other.line) + ") is still copying into it");
    }
    s.pending = 1;
    s.pendingCta = cta.serial;
    s.pendingThread = static_cast<uint16_t>(linearThread(w, lane));
    s.pendingInstr = copy.instrIndex;
  }
  w.uncommitted[lane].push_back(copy);
}

void slr::sim::completeAsyncGroups(Cta &cta, Warp &w, unsigned lane,
                                   size_t keep) {
  std::vector<ShadowByte> &shadow = *cta.shadow;
  while (w.groups[lane].size() > keep) {
    for (const AsyncCopy &copy : w.groups[lane].front()) {
      for (unsigned i = 0; i < copy.size; ++i)
        shadow[copy.sharedOffset + i].pending = 0;
      // The copy lands now: a write by the issuing thread in this interval.
      const Instr &instr = cta.function->code[copy.instrIndex];
      uint8_t *dst =
          accessMemory(cta, w, instr, lane, Space::Shared, copy.sharedOffset,
                       copy.size, Access::Write, 1);
      std::memcpy(dst, copy.data, copy.size);
    }
    w.groups[lane].pop_front();
  }
}
