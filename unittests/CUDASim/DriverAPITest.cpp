//===- DriverAPITest.cpp - libslr_cuda_sim.so as a CUDA driver ------------===//
//
// Loads the simulator library the way programs load libcuda.so.1 (dlopen,
// dlsym of the driver's entry points) and checks the driver-level
// behaviour: PTX modules load and launch, binary images are refused,
// kernels above 48 KiB of dynamic shared memory must opt in, copies must
// stay inside their device allocations, a kernel fault is sticky and
// cuGetErrorString explains the last failure in one line.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/CUDADriver.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstring>
#include <string>
#include <vector>

using namespace slr::cuda;

namespace {

const DriverAPI &simulatorDriver() {
  static DriverAPI api = [] {
    DriverAPI d{};
    void *library = dlopen(SLR_CUDA_SIM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    EXPECT_NE(library, nullptr) << dlerror();
#define SLR_LOOKUP(field, symbol)                                              \
  d.field = reinterpret_cast<decltype(d.field)>(dlsym(library, #symbol));      \
  EXPECT_NE(d.field, nullptr) << #symbol;
    SLR_CUDA_DRIVER_ENTRY_POINTS(SLR_LOOKUP)
#undef SLR_LOOKUP
    return d;
  }();
  return api;
}

std::string lastError(CUresult code) {
  const char *text = nullptr;
  simulatorDriver().cuGetErrorString(code, &text);
  return text ? text : "";
}

/// out[tid] = tid, with `shared` bytes of dynamic shared memory declared.
const char *kKernel = R"(.version 8.5
.target sm_80
.address_size 64
.extern .shared .align 16 .b8 dyn[];
.visible .entry fill(.param .u64 pout)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [pout];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r1;
  mov.u32 %r2, dyn;
  mad.lo.u32 %r3, %r1, 4, %r2;
  st.shared.u32 [%r3], %r1;
  ret;
}
)";

/// The memory type answers of the driver that the launchers' staging relies
/// on, and the staging itself (CUDARuntime.h): device memory is used as it
/// is, host memory gets a device copy that is copied back and freed.
TEST(DriverAPITest, PointerMemoryTypeAndActivationStaging) {
  const DriverAPI &d = simulatorDriver();
  ASSERT_EQ(d.cuInit(0), 0);
  CUdeviceptr device = 0;
  ASSERT_EQ(d.cuMemAlloc(&device, 256), 0);
  unsigned type = 0;
  EXPECT_EQ(
      d.cuPointerGetAttribute(&type, kPointerAttributeMemoryType, device + 100),
      0);
  EXPECT_EQ(type, kMemoryTypeDevice);
  std::vector<float> host(64, 1.5f);
  EXPECT_EQ(d.cuPointerGetAttribute(&type, kPointerAttributeMemoryType,
                                    reinterpret_cast<CUdeviceptr>(host.data())),
            1);
  EXPECT_EQ(
      d.cuPointerGetAttribute(&type, kPointerAttributeMemoryType, device + 256),
      1)
      << "one past the end is not inside the allocation";

  void *library = dlopen(SLR_CUDA_SIM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << dlerror();
  auto stageInput = reinterpret_cast<void *(*)(void *, uint64_t)>(
      dlsym(library, "slrGpuStageInput"));
  auto stageOutput = reinterpret_cast<void *(*)(void *, uint64_t)>(
      dlsym(library, "slrGpuStageOutput"));
  auto unstage = reinterpret_cast<void (*)(void *, void *, uint64_t, bool)>(
      dlsym(library, "slrGpuUnstage"));
  ASSERT_TRUE(stageInput && stageOutput && unstage);

  void *devicePointer = reinterpret_cast<void *>(device);
  EXPECT_EQ(stageInput(devicePointer, 256), devicePointer);
  EXPECT_EQ(stageOutput(devicePointer, 256), devicePointer);
  unstage(devicePointer, devicePointer, 256, true);

  void *staged = stageInput(host.data(), 256);
  ASSERT_NE(staged, host.data());
  std::vector<float> back(64, 0.0f);
  ASSERT_EQ(d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(back.data()),
                            reinterpret_cast<CUdeviceptr>(staged), 256,
                            nullptr),
            0);
  EXPECT_EQ(back, host);
  unstage(host.data(), staged, 256, false);

  void *result = stageOutput(back.data(), 256);
  ASSERT_NE(result, back.data());
  std::vector<float> twos(64, 2.0f);
  ASSERT_EQ(d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(result),
                            reinterpret_cast<CUdeviceptr>(twos.data()), 256,
                            nullptr),
            0);
  unstage(back.data(), result, 256, true);
  EXPECT_EQ(back, twos);
  // Freed by unstage: no longer device memory.
  EXPECT_EQ(d.cuPointerGetAttribute(&type, kPointerAttributeMemoryType,
                                    reinterpret_cast<CUdeviceptr>(result)),
            1);
  EXPECT_EQ(d.cuMemFree(device), 0);
}

TEST(DriverAPITest, ModulesLaunchesCopiesAndStickyFaults) {
  const DriverAPI &d = simulatorDriver();
  ASSERT_EQ(d.cuInit(0), 0);
  int count = 0;
  ASSERT_EQ(d.cuDeviceGetCount(&count), 0);
  EXPECT_EQ(count, 1);
  char name[256];
  ASSERT_EQ(d.cuDeviceGetName(name, sizeof(name), 0), 0);
  EXPECT_NE(std::string(name).find("simulator"), std::string::npos);

  const char cubin[] = "\x7f"
                       "ELF\x02\x01\x01";
  CUmodule module = nullptr;
  CUresult r = d.cuModuleLoadData(&module, cubin);
  EXPECT_EQ(r, 218);
  EXPECT_NE(lastError(r).find("format=isa"), std::string::npos);

  ASSERT_EQ(d.cuModuleLoadData(&module, kKernel), 0);
  CUfunction function = nullptr;
  ASSERT_EQ(d.cuModuleGetFunction(&function, module, "fill"), 0);
  EXPECT_EQ(d.cuModuleGetFunction(&function, module, "nope"), 500);
  ASSERT_EQ(d.cuModuleGetFunction(&function, module, "fill"), 0);

  CUdeviceptr out = 0;
  ASSERT_EQ(d.cuMemAlloc(&out, 64 * 4), 0);
  void *args[] = {&out};
  // 64 KiB of dynamic shared memory needs the opt-in first.
  r = d.cuLaunchKernel(function, 1, 1, 1, 64, 1, 1, 64 * 1024, nullptr, args,
                       nullptr);
  EXPECT_EQ(r, 1);
  EXPECT_NE(lastError(r).find("must opt in"), std::string::npos)
      << lastError(r);
  ASSERT_EQ(d.cuFuncSetAttribute(
                function, kFuncAttributeMaxDynamicSharedSizeBytes, 64 * 1024),
            0);
  ASSERT_EQ(d.cuLaunchKernel(function, 1, 1, 1, 64, 1, 1, 64 * 1024, nullptr,
                             args, nullptr),
            0);
  std::vector<uint32_t> host(64);
  ASSERT_EQ(d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(host.data()), out,
                            64 * 4, nullptr),
            0);
  for (uint32_t i = 0; i < 64; ++i)
    EXPECT_EQ(host[i], i);

  // A copy that runs past its device allocation.
  std::vector<uint32_t> big(128);
  r = d.cuMemcpyAsync(out, reinterpret_cast<CUdeviceptr>(big.data()), 128 * 4,
                      nullptr);
  EXPECT_EQ(r, 1);
  EXPECT_NE(lastError(r).find("bytes past the end of"), std::string::npos)
      << lastError(r);

  // 65 threads write past the 64-word buffer: the fault is sticky.
  r = d.cuLaunchKernel(function, 1, 1, 1, 65, 1, 1, 1024, nullptr, args,
                       nullptr);
  EXPECT_EQ(r, 700);
  std::string message = lastError(r);
  EXPECT_NE(message.find("an illegal memory access was encountered: kernel "
                         "'fill', PTX line 13"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("thread (64, 0, 0) of block (0, 0, 0)"),
            std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  CUdeviceptr other = 0;
  EXPECT_EQ(d.cuMemAlloc(&other, 16), 700);
  EXPECT_EQ(d.cuStreamSynchronize(nullptr), 700);
}

} // namespace

/// cuTensorMapEncodeTiled (not among the entry points slr's runtime loads:
/// the Hopper kernels' hosts look it up themselves).
TEST(DriverAPITest, TensorMapEncodeTiledChecksItsParameters) {
  using Encode = CUresult (*)(void *, int, uint32_t, void *, const uint64_t *,
                              const uint64_t *, const uint32_t *,
                              const uint32_t *, int, int, int, int);
  void *library = dlopen(SLR_CUDA_SIM_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << dlerror();
  auto encode =
      reinterpret_cast<Encode>(dlsym(library, "cuTensorMapEncodeTiled"));
  ASSERT_NE(encode, nullptr);
  // Encoding is host work: it needs no context (an earlier test's sticky
  // fault does not matter) and no allocation behind the address.
  alignas(16) static uint16_t tensor[64 * 64];
  void *device = tensor;
  alignas(64) uint8_t map[128];
  uint64_t dims[2] = {64, 64}, stride = 128;
  uint32_t box[2] = {64, 8}, ones[2] = {1, 1};
  // bf16 (9), 128-byte rows under the 128-byte swizzle (3).
  EXPECT_EQ(encode(map, 9, 2, device, dims, &stride, box, ones, 0, 3, 0, 0), 0);
  stride = 100;
  CUresult result =
      encode(map, 9, 2, device, dims, &stride, box, ones, 0, 3, 0, 0);
  EXPECT_EQ(result, 1); // CUDA_ERROR_INVALID_VALUE
  EXPECT_NE(lastError(result).find("globalStrides[0] must be a multiple of 16"),
            std::string::npos)
      << lastError(result);
  dlclose(library);
}
