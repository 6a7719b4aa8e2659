//===- SLRToCPURuntime.h - slr.linear to the CPU kernel ---------*- C++ -*-===//

#ifndef SLR_CONVERSION_SLRTOCPURUNTIME_SLRTOCPURUNTIME_H
#define SLR_CONVERSION_SLRTOCPURUNTIME_SLRTOCPURUNTIME_H

#include "mlir/Pass/Pass.h"

namespace slr {

#define GEN_PASS_DECL_CONVERTSLRTOCPURUNTIME
#include "slr/Conversion/Passes.h.inc"

/// Prefix of the runtime's packed slr.linear entry points (C interface):
/// `<prefix><f32|f16|bf16>_i<8|16|32|64>`.
inline constexpr const char *kRuntimeSparseLinearPrefix =
    "slr_rt_sparse_linear_";

} // namespace slr

#endif // SLR_CONVERSION_SLRTOCPURUNTIME_SLRTOCPURUNTIME_H
