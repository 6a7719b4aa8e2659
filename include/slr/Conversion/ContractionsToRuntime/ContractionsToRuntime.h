//===- ContractionsToRuntime.h - BLAS calls for contractions -----*- C++ -*-===//

#ifndef SLR_CONVERSION_CONTRACTIONSTORUNTIME_CONTRACTIONSTORUNTIME_H
#define SLR_CONVERSION_CONTRACTIONSTORUNTIME_CONTRACTIONSTORUNTIME_H

#include "mlir/Pass/Pass.h"

namespace slr {

#define GEN_PASS_DECL_CONVERTCONTRACTIONSTOSLRRUNTIME
#include "slr/Conversion/Passes.h.inc"

/// Name of the runtime GEMM entry point (C interface).
inline constexpr const char *kRuntimeSgemm = "slr_rt_sgemm";

} // namespace slr

#endif // SLR_CONVERSION_CONTRACTIONSTORUNTIME_CONTRACTIONSTORUNTIME_H
