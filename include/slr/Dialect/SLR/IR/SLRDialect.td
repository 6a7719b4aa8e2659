//===- SLRDialect.td - slr dialect definition --------------*- tablegen -*-===//
//
// The slr dialect: sparse-plus-low-rank linear layers.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_DIALECT_SLR_IR_SLRDIALECT_TD
#define SLR_DIALECT_SLR_IR_SLRDIALECT_TD

include "mlir/IR/OpBase.td"

def SLR_Dialect : Dialect {
  let name = "slr";
  let summary = "Sparse-plus-low-rank (W ~ S + U*V) linear layers";
  let description = [{
    The `slr` dialect represents dense linear layers compressed into an N:M
    structured-sparse matrix `S` (2:4 first) plus a low-rank product `U*V`.
    `S` is carried in packed form (values + in-group positions); see
    `slr.pack` for the exact layout.
  }];
  let cppNamespace = "::slr";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  // `slr.gpu_launcher` must be a #slr.gpu_launch on a matching function.
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The discardable attribute carrying a GPU launcher's launch recipe.
    static constexpr ::llvm::StringLiteral getGPULauncherAttrName() {
      return ::llvm::StringLiteral("slr.gpu_launcher");
    }
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // SLR_DIALECT_SLR_IR_SLRDIALECT_TD
