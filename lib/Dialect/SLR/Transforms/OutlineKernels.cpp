//===- OutlineKernels.cpp - --slr-outline-kernels -------------------------===//

#include "slr/Dialect/SLR/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"

namespace slr {
#define GEN_PASS_DEF_SLROUTLINEKERNELS
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

/// Scalar constants (no operands) are cloned into a kernel, not passed.
bool isClonedConstant(Value value) {
  Operation *def = value.getDefiningOp();
  return def && def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
         matchPattern(value, m_Constant()) && !isa<ShapedType>(value.getType());
}

struct SLROutlineKernelsPass
    : slr::impl::SLROutlineKernelsBase<SLROutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() &&
          !op->getParentOfType<linalg::LinalgOp>() &&
          op->getParentOfType<func::FuncOp>() &&
          !op->getParentOfType<gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    SymbolTable symbols(module);
    // The printed kernel (named "kernel") -> the function holding it.
    llvm::StringMap<func::FuncOp> kernels;
    for (linalg::LinalgOp op : ops)
      outline(op, symbols, kernels);
  }

  void outline(linalg::LinalgOp op, SymbolTable &symbols,
               llvm::StringMap<func::FuncOp> &kernels) {
    MLIRContext *ctx = op->getContext();
    llvm::SetVector<Value> used(op->getOperands().begin(),
                                op->getOperands().end());
    getUsedValuesDefinedAbove(op->getRegions(), used);
    SmallVector<Value> arguments, constants;
    for (Value value : used)
      (isClonedConstant(value) ? constants : arguments).push_back(value);

    OpBuilder b(ctx);
    auto kernel = func::FuncOp::create(
        b, op.getLoc(), "kernel",
        FunctionType::get(ctx, ValueRange(arguments).getTypes(), {}));
    kernel.setPrivate();
    kernel->setAttr("passthrough",
                    b.getArrayAttr({b.getStringAttr("noinline")}));
    Block *body = kernel.addEntryBlock();
    b.setInsertionPointToStart(body);
    IRMapping mapping;
    for (auto [value, argument] : llvm::zip(arguments, body->getArguments()))
      mapping.map(value, argument);
    for (Value value : constants)
      b.clone(*value.getDefiningOp(), mapping);
    b.clone(*op, mapping);
    func::ReturnOp::create(b, op.getLoc());

    std::string key;
    llvm::raw_string_ostream os(key);
    kernel.print(os);
    auto [it, inserted] = kernels.try_emplace(key, kernel);
    if (inserted) {
      kernel.setName("slr_kernel");
      symbols.insert(kernel); // renamed slr_kernel_<n> if taken
    } else {
      kernel.erase();
    }
    OpBuilder callBuilder(op);
    func::CallOp::create(callBuilder, op.getLoc(), it->second, arguments);
    op->erase();
  }
};

} // namespace
