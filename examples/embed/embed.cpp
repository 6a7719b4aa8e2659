//===- embed.cpp - using slr from another MLIR-based stack ----------------===//
//
// Parses a function with an slr.linear, lowers it with the registered
// `convert-slr-to-linalg` pass and prints the result.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/Passes.h"
#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

static const char *kInput = R"mlir(
func.func @layer(%x: tensor<2x8xf32>, %v: tensor<4x4xf32>, %p: tensor<4x2xi8>)
    -> tensor<2x4xf32> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
         : tensor<2x8xf32>, tensor<4x4xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
)mlir";

int main() {
  mlir::DialectRegistry registry;
  registry.insert<slr::SLRDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::tensor::TensorDialect>();
  slr::registerConvertSLRToLinalg();
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(kInput, &context);
  if (!module)
    return 1;
  mlir::PassManager pm(&context);
  if (failed(mlir::parsePassPipeline("convert-slr-to-linalg", pm)) ||
      failed(pm.run(*module)))
    return 1;
  module->print(llvm::outs());
  return 0;
}
