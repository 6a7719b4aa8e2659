//===- Simulator.cpp - The simulated device -------------------------------===//

#include "slr/Runtime/CUDASim/Simulator.h"

#include "Machine.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <xmmintrin.h>

using namespace slr::sim;

struct Simulator::State {
  std::mutex mutex;
  DeviceProperties properties;
  DeviceMemory memory;
  Options options;
  Statistics stats;
  uint32_t epochCounter = 0;
  std::vector<Module *> modules;
};

namespace {

void printStatistics() {
  SimulationStatistics s = Simulator::instance().statistics();
  std::fprintf(stderr,
               "slr_cuda_sim: %llu launches, %llu CTAs, %llu warp / %llu "
               "thread instructions in %.2f s of host time (%.3g thread "
               "instructions/s); %llu allocations, %llu copies of %llu "
               "bytes; simulated, not GPU timing\n",
               static_cast<unsigned long long>(s.launches),
               static_cast<unsigned long long>(s.ctas),
               static_cast<unsigned long long>(s.warpInstructions),
               static_cast<unsigned long long>(s.threadInstructions), s.seconds,
               s.seconds > 0 ? s.threadInstructions / s.seconds : 0.0,
               static_cast<unsigned long long>(s.allocations),
               static_cast<unsigned long long>(s.copies),
               static_cast<unsigned long long>(s.copiedBytes));
}

void registerGlobal(void *context, void *pointer, uint64_t size,
                    const std::string &name) {
  (void)name;
  static_cast<DeviceMemory *>(context)->registerRange(pointer, size,
                                                      "module variable");
}

} // namespace

Simulator::Simulator() : state(new State) {
  if (const char *race = std::getenv("SLR_CUDA_SIM_RACECHECK"))
    state->options.checkRaces = std::strcmp(race, "0") != 0;
  if (const char *steps = std::getenv("SLR_CUDA_SIM_MAX_STEPS")) {
    char *end = nullptr;
    unsigned long long n = std::strtoull(steps, &end, 10);
    if (end && *end == 0 && n > 0)
      state->options.maxWarpSteps = n;
  }
  if (const char *stats = std::getenv("SLR_CUDA_SIM_STATS"))
    if (std::strcmp(stats, "0") != 0)
      std::atexit(printStatistics);
}

Simulator::~Simulator() = default;

Simulator &Simulator::instance() {
  // Leaked on purpose: module-unload destructors of programs may run after
  // static objects of this library were destroyed.
  static Simulator *simulator = new Simulator;
  return *simulator;
}

const DeviceProperties &Simulator::properties() const {
  return state->properties;
}

void *Simulator::allocate(uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    ++state->stats.allocations;
  }
  return state->memory.allocate(bytes, "device allocation");
}

Status Simulator::free(void *pointer) {
  Status status;
  if (!pointer)
    return status;
  if (!state->memory.release(pointer, status.error))
    status.code = kErrorInvalidValue;
  return status;
}

bool Simulator::isDevicePointer(const void *pointer) const {
  return state->memory.find(reinterpret_cast<uint64_t>(pointer), 1) != nullptr;
}

namespace {
/// A host range may be anything; a range that touches a device allocation
/// must lie inside it.
bool checkCopyRange(const DeviceMemory &memory, const void *pointer,
                    uint64_t bytes, const char *what, std::string &error) {
  uint64_t address = reinterpret_cast<uint64_t>(pointer);
  if (!memory.overlapsAllocation(address, bytes))
    return true;
  if (memory.find(address, bytes))
    return true;
  error = std::string("copy of ") + std::to_string(bytes) + " bytes: the " +
          what + " range at " + hex(address) + " is " +
          memory.describe(address, bytes);
  return false;
}
} // namespace

Status Simulator::copy(void *destination, const void *source, uint64_t bytes) {
  Status status;
  if (!bytes)
    return status;
  if (!checkCopyRange(state->memory, destination, bytes, "destination",
                      status.error) ||
      !checkCopyRange(state->memory, source, bytes, "source", status.error)) {
    status.code = kErrorInvalidValue;
    return status;
  }
  std::memmove(destination, source, bytes);
  std::lock_guard<std::mutex> lock(state->mutex);
  ++state->stats.copies;
  state->stats.copiedBytes += bytes;
  return status;
}

Status Simulator::fill(void *destination, uint32_t value, unsigned elementBytes,
                       uint64_t count) {
  Status status;
  if (!count)
    return status;
  if (!checkCopyRange(state->memory, destination, count * elementBytes,
                      "destination", status.error)) {
    status.code = kErrorInvalidValue;
    return status;
  }
  auto *p = static_cast<uint8_t *>(destination);
  for (uint64_t i = 0; i < count; ++i)
    std::memcpy(p + i * elementBytes, &value, elementBytes);
  return status;
}

Status Simulator::loadModule(const char *ptx, size_t size, Module *&module) {
  Status status;
  module = nullptr;
  if (!ptx) {
    status = {kErrorInvalidValue, "null module image"};
    return status;
  }
  if (size >= 4 && std::memcmp(ptx,
                               "\x7f"
                               "ELF",
                               4) == 0) {
    status = {218, // CUDA_ERROR_INVALID_PTX
              "the module is a cubin (ELF): the simulator executes PTX; "
              "compile with --slr-gpu-pipeline=\"format=isa\""};
    return status;
  }
  if (size >= 4 && static_cast<uint8_t>(ptx[0]) == 0x50 &&
      static_cast<uint8_t>(ptx[1]) == 0xed &&
      static_cast<uint8_t>(ptx[2]) == 0x55 &&
      static_cast<uint8_t>(ptx[3]) == 0xba) {
    status = {218, "the module is a fatbin: the simulator executes PTX; "
                   "compile with --slr-gpu-pipeline=\"format=isa\""};
    return status;
  }
  std::string text =
      size ? std::string(ptx, strnlen(ptx, size)) : std::string(ptx);
  std::lock_guard<std::mutex> lock(state->mutex);
  std::string error;
  std::unique_ptr<Module> parsed =
      parseModule(text, error, registerGlobal, &state->memory);
  if (!parsed) {
    status = {218, error};
    return status;
  }
  unsigned sm = parsed->smVersion;
  if (sm < 70 || sm > 90) {
    status = {209, // CUDA_ERROR_NO_BINARY_FOR_GPU
              "PTX for " + parsed->target +
                  ": the simulated device is sm_90a (sm_70 .. sm_90a PTX "
                  "loads)"};
    return status;
  }
  module = parsed.release();
  state->modules.push_back(module);
  return status;
}

void Simulator::unloadModule(Module *module) {
  std::lock_guard<std::mutex> lock(state->mutex);
  for (size_t i = 0; i < state->modules.size(); ++i)
    if (state->modules[i] == module) {
      for (const Variable &v : module->globals)
        state->memory.unregisterRange(reinterpret_cast<void *>(v.address));
      state->modules.erase(state->modules.begin() + i);
      delete module;
      return;
    }
}

Status Simulator::getFunction(Module *module, const char *name,
                              Function *&function) {
  Status status;
  function = module ? module->find(name) : nullptr;
  if (!function || !function->isKernel)
    status = {500, // CUDA_ERROR_NOT_FOUND
              std::string("no kernel named '") + name + "' in the module"};
  return status;
}

unsigned Simulator::parameterCount(const Function *function) const {
  return static_cast<unsigned>(function->params.size());
}

uint64_t Simulator::staticSharedBytes(const Function *function) const {
  return function->staticSharedBytes;
}

Status Simulator::launch(Function *function, const LaunchConfig &config,
                         void **params) {
  Status status;
  const Function &f = *function;
  uint64_t threads =
      uint64_t(config.block[0]) * config.block[1] * config.block[2];
  auto invalid = [&](const std::string &why) {
    return Status{kErrorInvalidValue,
                  "launch of kernel '" + f.name + "': " + why};
  };
  for (unsigned d = 0; d < 3; ++d)
    if (config.grid[d] == 0 || config.block[d] == 0)
      return invalid("grid and block dimensions must be positive");
  if (threads > static_cast<uint64_t>(state->properties.maxThreadsPerBlock))
    return invalid(std::to_string(threads) + " threads per block; at most " +
                   std::to_string(state->properties.maxThreadsPerBlock));
  if (f.maxThreads[0] &&
      threads > uint64_t(f.maxThreads[0]) * f.maxThreads[1] * f.maxThreads[2])
    return invalid(std::to_string(threads) +
                   " threads per block, more than its .maxntid");
  if (f.reqThreads[0])
    for (unsigned d = 0; d < 3; ++d)
      if (config.block[d] != f.reqThreads[d])
        return invalid("block dimensions differ from its .reqntid");
  uint64_t shared =
      (f.staticSharedBytes + 15) / 16 * 16 + config.dynamicSharedBytes;
  if (shared > state->properties.sharedPerBlockOptIn)
    return invalid(std::to_string(shared) +
                   " bytes of shared memory; the device allows " +
                   std::to_string(state->properties.sharedPerBlockOptIn));
  if (!f.params.empty() && !params)
    return invalid("no parameters passed");

  Launch l;
  l.function = &f;
  l.memory = &state->memory;
  l.options = &state->options;
  for (unsigned d = 0; d < 3; ++d) {
    l.grid[d] = config.grid[d];
    l.block[d] = config.block[d];
  }
  l.dynamicShared = config.dynamicSharedBytes;
  l.params.assign(f.paramBytes, 0);
  for (size_t i = 0; i < f.params.size(); ++i) {
    if (!params[i])
      return invalid("parameter " + std::to_string(i) + " is null");
    std::memcpy(l.params.data() + f.params[i].offset, params[i],
                f.params[i].size);
  }
  std::lock_guard<std::mutex> lock(state->mutex);
  l.stats = &state->stats;
  l.epochCounter = &state->epochCounter;
  // Host arithmetic must keep subnormals: a process running with
  // flush-to-zero (e.g. linked with -ffast-math) would change results.
  const unsigned csr = _mm_getcsr();
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  _mm_setcsr(csr & ~(kFlushToZero | kDenormalsAreZero));
  try {
    runLaunch(l);
  } catch (const Fault &fault) {
    status = {fault.code, fault.message};
  }
  _mm_setcsr(csr);
  return status;
}

SimulationStatistics Simulator::statistics() const {
  const Statistics &s = state->stats;
  SimulationStatistics out;
  out.launches = s.launches;
  out.ctas = s.ctas;
  out.warpInstructions = s.warpInstructions;
  out.threadInstructions = s.threadInstructions;
  out.seconds = s.seconds;
  out.copies = s.copies;
  out.copiedBytes = s.copiedBytes;
  out.allocations = s.allocations;
  return out;
}

void Simulator::setRaceCheck(bool enabled) {
  state->options.checkRaces = enabled;
}

void Simulator::setMaxWarpSteps(uint64_t steps) {
  state->options.maxWarpSteps = steps;
}
