//===- ContractionsToRuntime.cpp - BLAS calls for contractions ------------===//

#include "slr/Conversion/ContractionsToRuntime/ContractionsToRuntime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace slr {
#define GEN_PASS_DEF_CONVERTCONTRACTIONSTOSLRRUNTIME
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

/// Where an operand's memref dimensions come from, in the op's loop space.
struct OperandDims {
  std::optional<unsigned> batchPosition; // memref dim holding the batch
  unsigned rowDim, colDim;               // loop dims of the remaining 2 dims
};

/// `map` lists only loop dims; returns them, or nothing.
std::optional<SmallVector<unsigned>> loopDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    dims.push_back(dim.getPosition());
  }
  return dims;
}

/// Splits an operand's dims into an optional batch dim and two others.
std::optional<OperandDims> classify(AffineMap map,
                                    std::optional<unsigned> batch) {
  std::optional<SmallVector<unsigned>> dims = loopDims(map);
  if (!dims)
    return std::nullopt;
  OperandDims result;
  SmallVector<unsigned> rest;
  for (auto [position, dim] : llvm::enumerate(*dims)) {
    if (batch && dim == *batch)
      result.batchPosition = position;
    else
      rest.push_back(dim);
  }
  if (rest.size() != 2)
    return std::nullopt;
  result.rowDim = rest[0];
  result.colDim = rest[1];
  return result;
}

MemRefType dynamic2DType(MLIRContext *ctx) {
  return MemRefType::get(
      {ShapedType::kDynamic, ShapedType::kDynamic}, Float32Type::get(ctx),
      StridedLayoutAttr::get(ctx, ShapedType::kDynamic,
                             {ShapedType::kDynamic, ShapedType::kDynamic}));
}

/// The 2-D view of `operand` (at batch index `batchIndex` when it has a batch
/// dim) whose dims are (`wantRow`, `wantCol`) in loop space, transposing when
/// the memref stores them the other way round; cast to the runtime's type.
Value view2D(OpBuilder &b, Location loc, Value operand,
             const OperandDims &dims, Value batchIndex, unsigned wantRow) {
  Value view = operand;
  auto type = cast<MemRefType>(operand.getType());
  if (dims.batchPosition) {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      bool isBatch = static_cast<unsigned>(d) == *dims.batchPosition;
      offsets.push_back(isBatch ? OpFoldResult(batchIndex)
                                : OpFoldResult(b.getIndexAttr(0)));
      sizes.push_back(isBatch ? OpFoldResult(b.getIndexAttr(1))
                              : OpFoldResult(memref::DimOp::create(
                                                 b, loc, operand, d)
                                                 .getResult()));
      strides.push_back(b.getIndexAttr(1));
    }
    MemRefType reduced = memref::SubViewOp::inferRankReducedResultType(
        {ShapedType::kDynamic, ShapedType::kDynamic}, type, offsets, sizes,
        strides);
    view = memref::SubViewOp::create(b, loc, reduced, operand, offsets, sizes,
                                     strides);
  }
  if (dims.rowDim != wantRow) {
    AffineMap swap = AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0},
                                                  b.getContext());
    view = memref::TransposeOp::create(b, loc, view, AffineMapAttr::get(swap));
  }
  return memref::CastOp::create(b, loc, dynamic2DType(b.getContext()), view);
}

struct ConvertContractionsToSLRRuntimePass
    : slr::impl::ConvertContractionsToSLRRuntimeBase<
          ConvertContractionsToSLRRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumDpsInputs() == 2 &&
          op.getNumDpsInits() == 1 && linalg::isaContractionOpInterface(op))
        candidates.push_back(op);
    });
    func::FuncOp callee;
    for (linalg::LinalgOp op : candidates) {
      if (!allF32(op))
        continue;
      FailureOr<linalg::ContractionDimensions> dims =
          linalg::inferContractionDims(op);
      if (failed(dims))
        continue;
      // A batch that one operand lacks (a broadcast weight) shows up as a
      // second m (or n) dim; treat the outer one as the batch.
      if (dims->batch.empty() && dims->m.size() == 2 && dims->n.size() == 1) {
        dims->batch.push_back(dims->m.front());
        dims->m.erase(dims->m.begin());
      } else if (dims->batch.empty() && dims->n.size() == 2 &&
                 dims->m.size() == 1) {
        dims->batch.push_back(dims->n.front());
        dims->n.erase(dims->n.begin());
      }
      if (dims->m.size() != 1 || dims->n.size() != 1 ||
          dims->k.size() != 1 || dims->batch.size() > 1)
        continue;
      if (!callee)
        callee = declareRuntime(module);
      rewrite(op, *dims, callee);
    }
  }

  static bool allF32(linalg::LinalgOp op) {
    for (Value operand : op->getOperands())
      if (!cast<MemRefType>(operand.getType()).getElementType().isF32())
        return false;
    return true;
  }

  func::FuncOp declareRuntime(ModuleOp module) {
    if (auto existing = module.lookupSymbol<func::FuncOp>(kRuntimeSgemm))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    Type view = dynamic2DType(module.getContext());
    auto func = func::FuncOp::create(b, module.getLoc(), kRuntimeSgemm,
                                     b.getFunctionType({view, view, view}, {}));
    func.setPrivate();
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return func;
  }

  void rewrite(linalg::LinalgOp op, const linalg::ContractionDimensions &dims,
               func::FuncOp callee) {
    std::optional<unsigned> batch =
        dims.batch.empty() ? std::nullopt
                           : std::optional<unsigned>(dims.batch.front());
    unsigned m = dims.m.front(), n = dims.n.front(), k = dims.k.front();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    // The input holding m is A ([M, K]); the other is B ([K, N]).
    std::optional<OperandDims> first = classify(maps[0], batch);
    std::optional<OperandDims> second = classify(maps[1], batch);
    std::optional<OperandDims> out = classify(maps[2], batch);
    if (!first || !second || !out || (batch && !out->batchPosition))
      return;
    auto holds = [](const OperandDims &d, unsigned dim) {
      return d.rowDim == dim || d.colDim == dim;
    };
    bool firstIsA = holds(*first, m);
    Value a = op.getDpsInputs()[firstIsA ? 0 : 1];
    Value bOperand = op.getDpsInputs()[firstIsA ? 1 : 0];
    OperandDims aDims = firstIsA ? *first : *second;
    OperandDims bDims = firstIsA ? *second : *first;
    if (!holds(aDims, m) || !holds(aDims, k) || !holds(bDims, k) ||
        !holds(bDims, n) || !holds(*out, m) || !holds(*out, n))
      return;
    Value c = op.getDpsInits()[0];

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto emitCall = [&](OpBuilder &builder, Value batchIndex) {
      Value aView = view2D(builder, loc, a, aDims, batchIndex, m);
      Value bView = view2D(builder, loc, bOperand, bDims, batchIndex, k);
      Value cView = view2D(builder, loc, c, *out, batchIndex, m);
      func::CallOp::create(builder, loc, callee, ValueRange{aView, bView, cView});
    };
    if (!batch) {
      emitCall(b, Value());
    } else {
      Value lower = arith::ConstantIndexOp::create(b, loc, 0);
      Value step = arith::ConstantIndexOp::create(b, loc, 1);
      Value upper = memref::DimOp::create(b, loc, c, *out->batchPosition);
      scf::ForOp::create(b, loc, lower, upper, step, ValueRange{},
                         [&](OpBuilder &nb, Location, Value index, ValueRange) {
                           emitCall(nb, index);
                           scf::YieldOp::create(nb, loc);
                         });
    }
    op->erase();
  }
};

} // namespace
