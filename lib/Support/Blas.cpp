//===- Blas.cpp - Process-wide control of the BLAS library ----------------===//
//
// Kept apart from cblas.h, whose OpenBLAS flavour declares these functions
// without the weak attribute that makes other BLAS libraries link too.
//
//===----------------------------------------------------------------------===//

#include "slr/Support/Blas.h"

#include <cstdlib>
#include <strings.h>
#include <unistd.h>

// Defined by OpenBLAS only; null when another BLAS is linked.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char *openblas_get_corename(void) __attribute__((weak));

bool slr::setBlasThreadCount(int count) {
  if (!openblas_set_num_threads || count < 1)
    return false;
  openblas_set_num_threads(count);
  return true;
}

const char *slr::getBlasKernelFamily() {
  if (!openblas_get_corename)
    return "";
  const char *name = openblas_get_corename();
  return name ? name : "";
}

void slr::selectBlasKernelsForHost(char **argv) {
#if defined(__x86_64__) && defined(__linux__)
  if (!argv || !argv[0] || std::getenv("OPENBLAS_CORETYPE") ||
      strcasecmp(getBlasKernelFamily(), "Prescott") != 0)
    return;
  const char *family = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    family = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    family = "Haswell";
  if (!family)
    return;
  // Set even if exec fails below: then nothing changes for this process, and
  // a second call cannot loop.
  setenv("OPENBLAS_CORETYPE", family, /*overwrite=*/1);
  execv("/proc/self/exe", argv);
#else
  (void)argv;
#endif
}
