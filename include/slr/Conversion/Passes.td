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

#endif // SLR_CONVERSION_PASSES_TD
