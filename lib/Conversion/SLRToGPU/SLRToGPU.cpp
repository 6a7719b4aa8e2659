//===- SLRToGPU.cpp - The --convert-slr-to-gpu pass -----------------------===//
//
// Applies the patterns of populateSLRToGPUConversionPatterns (one file per op
// family, LinearToGPU.cpp) to every slr.linear outside the kernel modules,
// in program order. An op a pattern declines is left for the CPU lowering
// with a warning that names the pattern's reason, or is an error with
// `strict`. Options wrong for every op are errors before any op is looked at.
//
//===----------------------------------------------------------------------===//

#include "SLRToGPUPatterns.h"

#include "slr/Conversion/SLRToGPU/SLRToGPU.h"
#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Rewrite/PatternApplicator.h"

namespace slr {
#define GEN_PASS_DEF_CONVERTSLRTOGPU
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

/// Keeps the reason of the last declined match.
struct MatchFailureRecorder : RewriterBase::Listener {
  void
  notifyMatchFailure(Location,
                     function_ref<void(Diagnostic &)> reasonCallback) override {
    Diagnostic diag(UnknownLoc::get(context), DiagnosticSeverity::Remark);
    reasonCallback(diag);
    reason = diag.str();
  }
  MLIRContext *context = nullptr;
  std::string reason;
};

struct ConvertSLRToGPUPass
    : slr::impl::ConvertSLRToGPUBase<ConvertSLRToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    std::optional<PlantedDefect> planted = parsePlantedDefect(testDefect);
    if (!planted) {
      module.emitError() << "unknown test-defect '" << testDefect
                         << "' (none, drop-barrier, short-wait, "
                            "read-past-tile)";
      return signalPassFailure();
    }
    SLRToGPUPatternOptions options;
    options.tiles = {tileN, tileM, tileK, warpsN, warpsM, stages};
    options.chip = chip;
    options.kernelModule = kernelModule;
    options.defect = *planted;

    SmallVector<LinearOp> ops;
    module.walk([&](LinearOp op) {
      if (!op->getParentOfType<mlir::gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    if (std::optional<std::string> error =
            checkSLRGPUTileConfig(options.tiles)) {
      module.emitError() << "convert-slr-to-gpu: " << *error;
      return signalPassFailure();
    }

    RewritePatternSet patterns(ctx);
    populateSLRToGPUConversionPatterns(patterns, options);
    FrozenRewritePatternSet frozen(std::move(patterns));
    PatternApplicator applicator(frozen);
    applicator.applyDefaultCostModel();
    MatchFailureRecorder recorder;
    recorder.context = ctx;
    PatternRewriter rewriter(ctx);
    rewriter.setListener(&recorder);
    bool failedAny = false;
    for (LinearOp op : ops) {
      recorder.reason.clear();
      rewriter.setInsertionPoint(op);
      if (succeeded(applicator.matchAndRewrite(op, rewriter)))
        continue;
      if (strict) {
        op.emitOpError() << "cannot be lowered to the GPU: " << recorder.reason;
        failedAny = true;
      } else {
        op.emitWarning() << "'" << op->getName()
                         << "' op left for the CPU lowering: cannot be "
                            "lowered to the GPU: "
                         << recorder.reason;
      }
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
