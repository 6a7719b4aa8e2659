//===- GPUPipeline.cpp - slr GPU compilation pipeline ---------------------===//

#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Conversion/Passes.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

std::string slr::getSLRKernelTargetPipelineText(llvm::StringRef chip,
                                                llvm::StringRef features,
                                                int optLevel) {
  return llvm::formatv("nvvm-attach-target{{chip={0} features={1} O={2}}",
                       chip, features, optLevel)
      .str();
}

std::string slr::getSLRKernelLoweringPipelineText() {
  return "gpu.module(convert-scf-to-cf,convert-nvgpu-to-nvvm,"
         "convert-gpu-to-nvvm,convert-vector-to-llvm,canonicalize,cse,"
         "reconcile-unrealized-casts)";
}

std::string slr::getSLRGPUPipelineText(const SLRGPUPipelineOptions &o) {
  return llvm::formatv(
             "convert-slr-to-gpu{{tile-n={0} tile-m={1} tile-k={2} warps-n={3} "
             "warps-m={4} stages={5}},"
             "convert-slr-to-linalg,"
             "func.func(convert-elementwise-to-linalg),"
             "one-shot-bufferize{{bufferize-function-boundaries "
             "function-boundary-type-conversion=identity-layout-map},"
             "buffer-deallocation-pipeline,"
             "slr-gpu-materialize-launchers,"
             "func.func(convert-linalg-to-loops),"
             "convert-bufferization-to-memref,"
             "{6},{7},"
             "convert-scf-to-cf,"
             "expand-strided-metadata,"
             "lower-affine,"
             "gpu-to-llvm,"
             "gpu-module-to-binary{{format={8}},"
             "convert-math-to-llvm,"
             "convert-arith-to-llvm,"
             "finalize-memref-to-llvm,"
             "convert-to-llvm,"
             "reconcile-unrealized-casts",
             o.tileN, o.tileM, o.tileK, o.warpsN, o.warpsM, o.stages,
             getSLRKernelTargetPipelineText(o.chip, o.features, o.optLevel),
             getSLRKernelLoweringPipelineText(), o.format)
      .str();
}

void slr::buildSLRGPUPipeline(OpPassManager &pm,
                              const SLRGPUPipelineOptions &options) {
  // The tools have not necessarily registered every pass the text names.
  static const bool registered = [] {
    registerAllPasses();
    slr::registerSLRConversionPasses();
    return true;
  }();
  (void)registered;
  if (failed(parsePassPipeline(getSLRGPUPipelineText(options), pm)))
    llvm::report_fatal_error("slr: malformed GPU pipeline");
}

void slr::registerSLRGPUPipeline() {
  PassPipelineRegistration<SLRGPUPipelineOptions>(
      "slr-gpu-pipeline",
      "Lower slr and linalg-on-tensors to LLVM with sparse tensor-core GPU "
      "kernels embedded as a binary (link libslr_cuda_runtime)",
      buildSLRGPUPipeline);
}
