//===- BlasThreads.cpp - BLAS thread count control ------------------------===//
//
// Kept apart from cblas.h, whose OpenBLAS flavour declares the function
// without the weak attribute that makes other BLAS libraries link too.
//
//===----------------------------------------------------------------------===//

#include "slr/Model/LlamaReference.h"

// Defined by OpenBLAS only; null when another BLAS is linked.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

bool slr::setBlasThreadCount(int count) {
  if (!openblas_set_num_threads || count < 1)
    return false;
  openblas_set_num_threads(count);
  return true;
}
