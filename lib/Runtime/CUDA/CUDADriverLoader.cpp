//===- CUDADriverLoader.cpp - The CUDA driver through dlopen --------------===//
//
// The driver provider of libslr_cuda_runtime: libcuda.so.1, loaded on first
// use so that the runtime builds and loads on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/CUDADriver.h"

#include <dlfcn.h>

using namespace slr::cuda;

bool slr::cuda::loadDriverAPI(DriverAPI &api, std::string &error) {
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    error = "cannot load the CUDA driver (libcuda.so.1): no NVIDIA driver on "
            "this machine?";
    return false;
  }
#define SLR_LOOKUP(field, symbol)                                              \
  api.field = reinterpret_cast<decltype(api.field)>(dlsym(library, #symbol));  \
  if (!api.field && error.empty())                                             \
    error = "the CUDA driver lacks " #symbol                                   \
            " (driver too old for this runtime?)";
  SLR_CUDA_DRIVER_ENTRY_POINTS(SLR_LOOKUP)
#undef SLR_LOOKUP
  return error.empty();
}

const char *slr::cuda::runtimeName() { return "slr_cuda_runtime"; }
