//===- Simulator.h - A PTX functional simulator -----------------*- C++ -*-===//
//
// Runs PTX kernels on the CPU, bit for bit as the PTX ISA defines the
// instructions, with the checks of a sanitizer: every global access must lie
// in a device allocation, every shared access in the CTA's shared memory and
// naturally aligned; two threads touching the same shared bytes in one
// barrier interval (a write involved), a read of bytes a cp.async is still
// copying, a barrier some thread can no longer reach, and a deadlock are
// errors; so is any instruction or modifier the simulator does not
// implement. Errors are one line naming the kernel, the PTX line, the thread
// and block and what happened.
//
// Plain C++ (no MLIR, no LLVM). `libslr_cuda_sim.so` puts the CUDA driver
// API and the `mgpu*` runtime ABI on top of it (see CUDASimDriver.h), so
// that programs written for a GPU run unchanged. The simulator models
// results, not time: it has no timing, caches or real warp scheduler.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_RUNTIME_CUDASIM_SIMULATOR_H
#define SLR_RUNTIME_CUDASIM_SIMULATOR_H

#include <cstdint>
#include <memory>
#include <string>

namespace slr::sim {

struct Module;
struct Function;
class Device;

/// What the simulated device reports about itself.
struct DeviceProperties {
  const char *name = "slr PTX simulator (functional model of an sm_90a GPU; "
                     "no timing)";
  int computeMajor = 9, computeMinor = 0;
  int multiprocessors = 132;
  int maxThreadsPerBlock = 1024;
  uint64_t sharedPerBlock = 48 * 1024;        // without opt-in
  uint64_t sharedPerBlockOptIn = 227 * 1024;  // sm_90
  uint64_t globalMemory = uint64_t(80) << 30; // nominal
};

/// Counters over the process's launches. Simulated work, not GPU time.
struct SimulationStatistics {
  uint64_t launches = 0, ctas = 0;
  uint64_t warpInstructions = 0, threadInstructions = 0;
  double seconds = 0;                   // host time spent simulating
  uint64_t copies = 0, copiedBytes = 0; // memcpy between host and device
  uint64_t allocations = 0;
};

struct LaunchConfig {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint64_t dynamicSharedBytes = 0;
};

/// Result codes: 0 on success, otherwise a CUresult (cuda.h) with `error`
/// set to a one-line message.
struct Status {
  int code = 0;
  std::string error;
  explicit operator bool() const { return code == 0; }
};

/// The simulated device. One per process (instance()); it is never
/// destroyed, so that module unloads from static destructors stay valid.
class Simulator {
public:
  static Simulator &instance();

  const DeviceProperties &properties() const;

  /// Device memory: host memory the simulator hands out and checks every
  /// kernel access against. Null if the host is out of memory.
  void *allocate(uint64_t bytes);
  Status free(void *pointer);
  /// Whether `pointer` lies inside a live device allocation.
  bool isDevicePointer(const void *pointer) const;
  /// A host<->device copy: any part of either range that touches a device
  /// allocation must lie inside it.
  Status copy(void *destination, const void *source, uint64_t bytes);
  /// Fills `count` elements of `elementBytes` (1, 2 or 4) with `value`.
  Status fill(void *destination, uint32_t value, unsigned elementBytes,
              uint64_t count);

  /// Parses PTX text (not a cubin or fatbin).
  Status loadModule(const char *ptx, size_t size, Module *&module);
  void unloadModule(Module *module);
  Status getFunction(Module *module, const char *name, Function *&function);
  /// Number of bytes of the function's parameters, and of each.
  unsigned parameterCount(const Function *function) const;
  uint64_t staticSharedBytes(const Function *function) const;

  /// Runs a kernel to completion. `params[i]` points at the value of
  /// parameter i (the cuLaunchKernel convention).
  Status launch(Function *function, const LaunchConfig &config, void **params);

  SimulationStatistics statistics() const;

  /// Options, read from the environment at first use:
  ///   SLR_CUDA_SIM_RACECHECK=0   no shared-memory race check
  ///   SLR_CUDA_SIM_MAX_STEPS=N   warp instructions per launch before a
  ///                              launch counts as hung (default 2^33)
  ///   SLR_CUDA_SIM_STATS=1       statistics on stderr at exit
  void setRaceCheck(bool enabled);
  void setMaxWarpSteps(uint64_t steps);

  ~Simulator();

private:
  Simulator();
  struct State;
  std::unique_ptr<State> state;
};

/// cuTensorMapEncodeTiled: checks the parameters as the driver documents
/// them and writes the 128-byte `map` (64-byte aligned) that
/// cp.async.bulk.tensor reads. Enumerations are the driver's values.
Status encodeTensorMapTiled(void *map, int dataType, uint32_t rank,
                            void *globalAddress, const uint64_t *globalDim,
                            const uint64_t *globalStrides,
                            const uint32_t *boxDim,
                            const uint32_t *elementStrides, int interleave,
                            int swizzle, int l2Promotion, int oobFill);

} // namespace slr::sim

#endif // SLR_RUNTIME_CUDASIM_SIMULATOR_H
