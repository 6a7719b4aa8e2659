//===- Passes.td - slr conversion passes -------------------*- tablegen -*-===//

#ifndef SLR_CONVERSION_PASSES_TD
#define SLR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertSLRToLinalg : Pass<"convert-slr-to-linalg"> {
  let summary = "Lower slr ops to linalg/tensor/arith (CPU reference)";
  let description = [{
    Reference lowering: `slr.unpack` becomes a `linalg.generic` scattering the
    packed values, `slr.pack` a `linalg.generic` that selects the kept entries
    of every group, and `slr.linear` the unpacked `S` followed by
    transposed-B contractions `x·Sᵀ`, `(x·Vᵀ)·Uᵀ` accumulated in f32 (bias
    broadcast into the accumulator), truncated to the result element type.
    Meant for correctness tests, not for speed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertContractionsToSLRRuntime
    : Pass<"convert-contractions-to-slr-runtime", "::mlir::ModuleOp"> {
  let summary = "Turn f32 matmul-shaped linalg ops on memrefs into BLAS calls";
  let description = [{
    After bufferization, replaces every f32 `linalg` contraction with one
    reduction, one row and one column dimension (and at most one batch
    dimension, which may be absent from one operand, i.e. broadcast) —
    `linalg.matmul` with any indexing maps, `linalg.batch_matmul`, matmul-like
    `linalg.generic` — by calls to `slr_rt_sgemm` of the slr CPU runtime
    (`C += A·B` on strided 2-D views; transposed operands become transposed
    views, batches an `scf.for`). This is what makes model IR run at BLAS
    speed on the CPU; everything else keeps the upstream loop lowering.
  }];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
  ];
}

#endif // SLR_CONVERSION_PASSES_TD
