//===- Pipelines.cpp - slr pass pipelines ---------------------------------===//

#include "slr/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

// Textual so the pipeline reads like the command line users would write.
static constexpr const char *kCPUReferencePipeline =
    "convert-slr-to-linalg,"
    "func.func(convert-elementwise-to-linalg),"
    "one-shot-bufferize{bufferize-function-boundaries},"
    "buffer-deallocation-pipeline,"
    "func.func(convert-linalg-to-loops),"
    "convert-bufferization-to-memref,"
    "convert-scf-to-cf,"
    "expand-strided-metadata,"
    "lower-affine,"
    "convert-arith-to-llvm,"
    "finalize-memref-to-llvm,"
    "convert-to-llvm,"
    "reconcile-unrealized-casts";

void slr::buildCPUReferencePipeline(OpPassManager &pm) {
  if (failed(parsePassPipeline(kCPUReferencePipeline, pm)))
    llvm::report_fatal_error("slr: malformed built-in CPU pipeline");
}

void slr::registerSLRPipelines() {
  PassPipelineRegistration<>(
      "slr-cpu-reference-pipeline",
      "Lower slr and linalg-on-tensors to the LLVM dialect (reference CPU "
      "path, runs under mlir-runner)",
      buildCPUReferencePipeline);
}
