//===- Pipelines.h - slr pass pipelines --------------------------*- C++
//-*-===//

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
/// reference pipeline, but every slr.linear becomes a call of the runtime's
/// packed kernel (--convert-slr-to-cpu-runtime) and every f32 contraction
/// (all matmuls, attention) a BLAS call into the slr CPU runtime. With
/// `unpackSparse`, slr.linear is unpacked (--convert-slr-to-linalg) and its
/// products go to BLAS instead (the previous path, kept to compare against).
/// With `externalizeWeights`, constant globals become external declarations
/// after bufferization (--slr-externalize-weights) for slr::CompiledModel to
/// bind to the weights in memory. Registered as `slr-cpu-fast-pipeline`
/// (options `unpack-sparse`, `externalize-weights`).
void buildCPUFastPipeline(mlir::OpPassManager &pm, bool unpackSparse = false,
                          bool externalizeWeights = false);

/// Registers the pipelines above with the global pass registry.
void registerSLRPipelines();

} // namespace slr

#endif // SLR_PIPELINES_PIPELINES_H
