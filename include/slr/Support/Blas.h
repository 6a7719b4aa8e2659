//===- Blas.h - Process-wide control of the BLAS library --------*- C++ -*-===//
//
// slr uses whichever CBLAS it is linked with (OpenBLAS on Debian). These
// helpers reach OpenBLAS's own controls through weak symbols, so they do
// nothing (and link fine) with another BLAS.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_SUPPORT_BLAS_H
#define SLR_SUPPORT_BLAS_H

namespace slr {

/// Sets OpenBLAS's thread count (returns false when another BLAS is linked).
/// Small models run fastest on one thread: their products are tiny, and
/// OpenBLAS's waiting workers then only take CPU from the attention and
/// softmax code between the calls.
bool setBlasThreadCount(int count);

/// OpenBLAS picks its kernels from the CPU model at load time and falls back
/// to its baseline ("Prescott", SSE3) for models it does not know, e.g. the
/// generic CPU models of many virtual machines; its GEMMs then run 2-3x
/// slower. When that happened, OPENBLAS_CORETYPE is unset and the CPU has
/// AVX-512 or AVX2 + FMA, this sets OPENBLAS_CORETYPE to the matching kernel
/// family (SkylakeX or Haswell) and re-executes the program (/proc/self/exe)
/// with the same `argv`, because OpenBLAS reads the variable only when it is
/// loaded. Call it first thing in main(). Returns (doing nothing) in every
/// other case, including when the re-execution fails.
void selectBlasKernelsForHost(char **argv);

/// The kernel family OpenBLAS is using ("SkylakeX", ...), or "" when the BLAS
/// is not OpenBLAS.
const char *getBlasKernelFamily();

} // namespace slr

#endif // SLR_SUPPORT_BLAS_H
