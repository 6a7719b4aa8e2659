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
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // SLR_DIALECT_SLR_IR_SLRDIALECT_TD
