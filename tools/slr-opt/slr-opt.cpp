//===- slr-opt.cpp - mlir-opt with the slr dialect and passes -------------===//

#include "slr/Conversion/Passes.h"
#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"
#include "slr/Pipelines/Pipelines.h"
#include "slr/Support/Blas.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  mlir::registerAllPasses();
  slr::registerSLRConversionPasses();
  slr::registerSLRTransformsPasses();
  slr::registerSLRPipelines();
  slr::registerSLRGPUPipeline();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR inside the pass.
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<slr::SLRDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "slr optimizer driver\n", registry));
}
