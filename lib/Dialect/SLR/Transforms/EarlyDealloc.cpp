//===- EarlyDealloc.cpp - --slr-early-dealloc -----------------------------===//

#include "slr/Dialect/SLR/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/SetVector.h"

namespace slr {
#define GEN_PASS_DEF_SLREARLYDEALLOC
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

struct SLREarlyDeallocPass
    : slr::impl::SLREarlyDeallocBase<SLREarlyDeallocPass> {
  void runOnOperation() override {
    SmallVector<memref::DeallocOp> deallocs;
    getOperation().walk(
        [&](memref::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    for (memref::DeallocOp dealloc : deallocs)
      moveUp(dealloc);
  }

  /// The op of `block` that is or contains `op`, or null.
  static Operation *ancestorIn(Block *block, Operation *op) {
    return block->findAncestorOpInBlock(*op);
  }

  void moveUp(memref::DeallocOp dealloc) {
    Value buffer = dealloc.getMemref();
    Operation *alloc = buffer.getDefiningOp<memref::AllocOp>();
    Block *block = dealloc->getBlock();
    if (!alloc || alloc->getBlock() != block)
      return;
    llvm::SetVector<Value> aliases;
    aliases.insert(buffer);
    Operation *last = alloc;
    for (size_t i = 0; i < aliases.size(); ++i) {
      for (Operation *user : aliases[i].getUsers()) {
        if (user == dealloc)
          continue;
        Operation *ancestor = ancestorIn(block, user);
        // Escapes the block, is freed elsewhere, or is returned: unknown.
        if (!ancestor || isa<memref::DeallocOp>(user) ||
            user->hasTrait<OpTrait::IsTerminator>())
          return;
        if (last->isBeforeInBlock(ancestor))
          last = ancestor;
        for (Operation *op : {user, ancestor})
          for (Value result : op->getResults())
            if (isa<BaseMemRefType>(result.getType()))
              aliases.insert(result);
      }
    }
    if (last->isBeforeInBlock(dealloc))
      dealloc->moveAfter(last);
  }
};

} // namespace
