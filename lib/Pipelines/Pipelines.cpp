//===- Pipelines.cpp - slr pass pipelines ---------------------------------===//

#include "slr/Pipelines/Pipelines.h"
#include "slr/Conversion/Passes.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"

#include "mlir/InitAllPasses.h"

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

// Preceded by convert-slr-to-cpu-runtime unless slr.linear is to be unpacked;
// slr-externalize-weights goes between the two halves when asked for.
static constexpr const char *kCPUFastPipelineToBuffers =
    "convert-slr-to-linalg,"
    "canonicalize,"
    "func.func(convert-elementwise-to-linalg),"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-deallocation-pipeline,"
    "convert-contractions-to-slr-runtime,"
    "slr-outline-kernels,"
    "slr-early-dealloc";
static constexpr const char *kCPUFastPipelineToLLVM =
    "func.func(convert-linalg-to-loops),"
    "convert-bufferization-to-memref,"
    "convert-scf-to-cf,"
    "expand-strided-metadata,"
    "lower-affine,"
    "convert-math-to-llvm,"
    "convert-arith-to-llvm,"
    "finalize-memref-to-llvm,"
    "convert-to-llvm,"
    "reconcile-unrealized-casts";

static void addTextualPipeline(OpPassManager &pm, const char *pipeline) {
  // Library users (the tools) have not necessarily registered the passes the
  // textual pipelines name; do it once here.
  static const bool registered = [] {
    registerAllPasses();
    // The CPU conversions only: SLRPipelines does not link SLRToGPU.
    slr::registerConvertSLRToLinalg();
    slr::registerConvertContractionsToSLRRuntime();
    slr::registerConvertSLRToCPURuntime();
    slr::registerSLRTransformsPasses();
    return true;
  }();
  (void)registered;
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("slr: malformed built-in pipeline");
}

void slr::buildCPUReferencePipeline(OpPassManager &pm) {
  addTextualPipeline(pm, kCPUReferencePipeline);
}

void slr::buildCPUFastPipeline(OpPassManager &pm, bool unpackSparse,
                               bool externalizeWeights) {
  if (!unpackSparse)
    addTextualPipeline(pm, "convert-slr-to-cpu-runtime");
  addTextualPipeline(pm, kCPUFastPipelineToBuffers);
  if (externalizeWeights)
    addTextualPipeline(pm, "slr-externalize-weights");
  addTextualPipeline(pm, kCPUFastPipelineToLLVM);
}

namespace {
struct CPUFastPipelineOptions : PassPipelineOptions<CPUFastPipelineOptions> {
  Option<bool> unpackSparse{
      *this, "unpack-sparse",
      llvm::cl::desc("Unpack slr.linear's S and use BLAS (the previous path) "
                     "instead of the packed kernel"),
      llvm::cl::init(false)};
  Option<bool> externalizeWeights{
      *this, "externalize-weights",
      llvm::cl::desc("Leave constant globals as external declarations for "
                     "slr::CompiledModel to bind (--slr-externalize-weights; "
                     "mlir-runner cannot run the result)"),
      llvm::cl::init(false)};
};
} // namespace

void slr::registerSLRPipelines() {
  PassPipelineRegistration<>(
      "slr-cpu-reference-pipeline",
      "Lower slr and linalg-on-tensors to the LLVM dialect (reference CPU "
      "path, runs under mlir-runner)",
      buildCPUReferencePipeline);
  PassPipelineRegistration<CPUFastPipelineOptions>(
      "slr-cpu-fast-pipeline",
      "Lower slr and model IR to the LLVM dialect with the packed slr.linear "
      "kernel and BLAS calls for every f32 contraction (link the slr CPU "
      "runtime)",
      [](OpPassManager &pm, const CPUFastPipelineOptions &options) {
        buildCPUFastPipeline(pm, options.unpackSparse,
                             options.externalizeWeights);
      });
}
