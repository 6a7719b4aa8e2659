//===- Pipelines.h - slr pass pipelines --------------------------*- C++ -*-===//

#ifndef SLR_PIPELINES_PIPELINES_H
#define SLR_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace slr {

/// slr + linalg on tensors -> LLVM dialect through the reference lowering
/// (--convert-slr-to-linalg, bufferization, loops). Registered as
/// `slr-cpu-reference-pipeline`; its output runs under mlir-runner.
void buildCPUReferencePipeline(mlir::OpPassManager &pm);

/// slr + model IR -> LLVM dialect for fast CPU execution: like the
/// reference pipeline, but every f32 contraction (all matmuls, attention, and
/// the x*S^T / low-rank products of slr.linear) becomes a BLAS call into the
/// slr CPU runtime. Registered as `slr-cpu-fast-pipeline`.
void buildCPUFastPipeline(mlir::OpPassManager &pm);

/// Registers the pipelines above with the global pass registry.
void registerSLRPipelines();

} // namespace slr

#endif // SLR_PIPELINES_PIPELINES_H
