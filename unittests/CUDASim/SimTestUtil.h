//===- SimTestUtil.h - Running hand-written PTX on the simulator -*- C++
//-*-===//

#ifndef SLR_UNITTESTS_CUDASIM_SIMTESTUTIL_H
#define SLR_UNITTESTS_CUDASIM_SIMTESTUTIL_H

#include "slr/Runtime/CUDASim/Simulator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace slr::sim::test {

constexpr const char *kHeader = ".version 8.5\n.target sm_80\n"
                                ".address_size 64\n";
/// For the sm_90 instructions (mbarrier, elect, bulk copies, wgmma).
constexpr const char *kHopperHeader = ".version 8.6\n.target sm_90a\n"
                                      ".address_size 64\n";

/// A device buffer holding a copy of a host vector.
template <typename T> class DeviceVector {
public:
  explicit DeviceVector(const std::vector<T> &host) : count(host.size()) {
    pointer = Simulator::instance().allocate(bytes());
    std::memcpy(pointer, host.data(), bytes());
  }
  explicit DeviceVector(size_t count, T fill = T())
      : DeviceVector(std::vector<T>(count, fill)) {}
  ~DeviceVector() { (void)Simulator::instance().free(pointer); }
  DeviceVector(const DeviceVector &) = delete;
  DeviceVector &operator=(const DeviceVector &) = delete;

  std::vector<T> read() const {
    std::vector<T> host(count);
    std::memcpy(host.data(), pointer, bytes());
    return host;
  }
  uint64_t address() const { return reinterpret_cast<uint64_t>(pointer); }
  size_t bytes() const { return count * sizeof(T); }

private:
  size_t count;
  void *pointer;
};

/// SLR_SIM_TEST_PTX_DIR=dir keeps every kernel a test loads, to check them
/// with ptxas (check-ptx.sh).
inline void keepKernel(const std::string &text) {
  if (const char *dir = std::getenv("SLR_SIM_TEST_PTX_DIR")) {
    static int counter = 0;
    std::string path =
        std::string(dir) + "/kernel" + std::to_string(counter++) + ".ptx";
    if (FILE *f = std::fopen(path.c_str(), "w")) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
  }
}

/// Loads `ptx` (kHeader prepended) and runs kernel `name` with 64-bit
/// parameters. Returns the simulator's status.
inline Status runKernelWithHeader(const char *header, const std::string &ptx,
                                  const char *name,
                                  std::vector<uint64_t> params, unsigned blockX,
                                  unsigned gridX = 1,
                                  uint64_t dynamicShared = 0) {
  Simulator &sim = Simulator::instance();
  std::string text = std::string(header) + ptx;
  keepKernel(text);
  Module *module = nullptr;
  Status status = sim.loadModule(text.c_str(), text.size(), module);
  if (!status)
    return status;
  Function *function = nullptr;
  status = sim.getFunction(module, name, function);
  if (!status) {
    sim.unloadModule(module);
    return status;
  }
  std::vector<void *> pointers;
  for (uint64_t &p : params)
    pointers.push_back(&p);
  LaunchConfig config;
  config.grid[0] = gridX;
  config.block[0] = blockX;
  config.dynamicSharedBytes = dynamicShared;
  status = sim.launch(function, config, pointers.data());
  sim.unloadModule(module);
  return status;
}

inline Status runKernel(const std::string &ptx, const char *name,
                        std::vector<uint64_t> params, unsigned blockX,
                        unsigned gridX = 1, uint64_t dynamicShared = 0) {
  return runKernelWithHeader(kHeader, ptx, name, std::move(params), blockX,
                             gridX, dynamicShared);
}

/// A failed launch whose one-line error contains every part.
inline void expectError(const Status &status,
                        std::initializer_list<std::string> parts) {
  EXPECT_NE(status.code, 0) << "the launch succeeded";
  for (const std::string &part : parts)
    EXPECT_NE(status.error.find(part), std::string::npos)
        << "expected \"" << part << "\" in: " << status.error;
  EXPECT_EQ(status.error.find('\n'), std::string::npos)
      << "not one line: " << status.error;
}

#define EXPECT_RUNS(status)                                                    \
  do {                                                                         \
    ::slr::sim::Status s_ = (status);                                          \
    EXPECT_EQ(s_.code, 0) << s_.error;                                         \
  } while (0)

inline uint32_t f32Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
inline float bitsF32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint64_t f64Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

} // namespace slr::sim::test

#endif // SLR_UNITTESTS_CUDASIM_SIMTESTUTIL_H
