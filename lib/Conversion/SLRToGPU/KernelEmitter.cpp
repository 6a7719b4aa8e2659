//===- KernelEmitter.cpp - Shared pieces of slr's GPU kernels -------------===//

#include "KernelEmitter.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace slr;

const char *slr::gpu_kernels::defectSuffix(PlantedDefect defect) {
  switch (defect) {
  case PlantedDefect::None:
    return "";
  case PlantedDefect::DropBarrier:
    return "_defect_drop_barrier";
  case PlantedDefect::ShortWait:
    return "_defect_short_wait";
  case PlantedDefect::ReadPastTile:
    return "_defect_read_past_tile";
  }
  return "";
}

gpu::GPUFuncOp slr::gpu_kernels::createKernel(OpBuilder &builder,
                                              gpu::GPUModuleOp module,
                                              StringRef name,
                                              ArrayRef<Type> argTypes,
                                              int64_t threads, bool &exists) {
  if (auto existing = module.lookupSymbol<gpu::GPUFuncOp>(name)) {
    exists = true;
    return existing;
  }
  exists = false;
  OpBuilder::InsertionGuard g(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func =
      gpu::GPUFuncOp::create(builder, module.getLoc(), name,
                             builder.getFunctionType(argTypes, TypeRange{}));
  func->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSize(
      ArrayRef<int32_t>{static_cast<int32_t>(threads), 1, 1});
  return func;
}

void slr::gpu_kernels::tidyKernel(gpu::GPUFuncOp func) {
  MLIRContext *ctx = func.getContext();
  RewritePatternSet patterns(ctx);
  for (Dialect *dialect : ctx->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, ctx);
  (void)applyPatternsGreedily(func, std::move(patterns));
  IRRewriter rewriter(ctx);
  DominanceInfo dominance(func);
  eliminateCommonSubExpressions(rewriter, dominance, func);
}
