//===- SLRToLinalg.cpp - slr to linalg reference lowering -----------------===//
//
// Lowers slr.unpack / slr.pack / slr.linear to linalg on tensors. The packed
// layout (documented on slr.pack, implemented for constants in
// slr/Sparsity/NMLayout.h) is re-expressed here with arith ops per group.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToLinalg/SLRToLinalg.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Utils/RowMatrix.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace slr {
#define GEN_PASS_DEF_CONVERTSLRTOLINALG
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

using utils::IteratorType;

Value constantIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value constantInt(OpBuilder &b, Location loc, Type type, int64_t value) {
  return arith::ConstantOp::create(b, loc, type, b.getIntegerAttr(type, value));
}

/// Zero-extends or truncates an integer scalar to `type`.
Value castInteger(OpBuilder &b, Location loc, Value value, Type type) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (from < to)
    return arith::ExtUIOp::create(b, loc, type, value);
  if (from > to)
    return arith::TruncIOp::create(b, loc, type, value);
  return value;
}

/// Converts a float scalar to `type` (extension or truncation).
Value convertFloat(OpBuilder &b, Location loc, Value value, Type type) {
  unsigned from = value.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (value.getType() == type)
    return value;
  if (from < to)
    return arith::ExtFOp::create(b, loc, type, value);
  return arith::TruncFOp::create(b, loc, type, value);
}

/// [N, G*c] -> [N, G, c] (or back, `collapse`), both static.
Value splitLastDim(OpBuilder &b, Location loc, Value value, int64_t groups,
                   int64_t perGroup) {
  auto type = cast<RankedTensorType>(value.getType());
  auto resultType = RankedTensorType::get(
      {type.getDimSize(0), groups, perGroup}, type.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, resultType, value,
                                       {ReassociationIndices{0},
                                        ReassociationIndices{1, 2}});
}

Value mergeLastDims(OpBuilder &b, Location loc, Value value) {
  return tensor::CollapseShapeOp::create(
      b, loc, value,
      ArrayRef<ReassociationIndices>{ReassociationIndices{0},
                                     ReassociationIndices{1, 2}});
}

/// Dense [N, K] from packed values [N, K*n/m] and positions [N, K/m].
Value buildUnpack(OpBuilder &b, Location loc, Value values, Value positions,
                  NMSparsityAttr pattern, RankedTensorType denseType) {
  int64_t n = pattern.getN(), m = pattern.getM();
  int64_t rows = denseType.getDimSize(0), groups = denseType.getDimSize(1) / m;
  Type elementType = denseType.getElementType();
  Type wordType = cast<RankedTensorType>(positions.getType()).getElementType();
  unsigned bits = pattern.getPositionBits();

  Value groupedValues = splitLastDim(b, loc, values, groups, n);
  Value init =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows, groups, m},
                              elementType);
  MLIRContext *ctx = b.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(3, ctx);
  AffineMap perGroup = AffineMap::get(
      3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{positions}, ValueRange{init},
      ArrayRef<AffineMap>{perGroup, identity},
      SmallVector<IteratorType>(3, IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value row = linalg::IndexOp::create(nb, nloc, 0);
        Value group = linalg::IndexOp::create(nb, nloc, 1);
        Value column = linalg::IndexOp::create(nb, nloc, 2);
        Value columnWord = arith::IndexCastOp::create(nb, nloc, wordType,
                                                      column);
        Value mask = constantInt(nb, nloc, wordType, (1 << bits) - 1);
        Value result = arith::ConstantOp::create(
            nb, nloc, elementType, nb.getFloatAttr(elementType, 0.0));
        // Later slots win on (malformed) duplicate positions, as in unpackNM.
        for (int64_t slot = 0; slot < n; ++slot) {
          Value shifted = arith::ShRUIOp::create(
              nb, nloc, args[0], constantInt(nb, nloc, wordType, slot * bits));
          Value position = arith::AndIOp::create(nb, nloc, shifted, mask);
          Value hit = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq,
                                            position, columnWord);
          Value value = tensor::ExtractOp::create(
              nb, nloc, groupedValues,
              ValueRange{row, group, constantIndex(nb, nloc, slot)});
          result = arith::SelectOp::create(nb, nloc, hit, value, result);
        }
        linalg::YieldOp::create(nb, nloc, result);
      });
  return mergeLastDims(b, loc, generic.getResult(0));
}

/// Packed (values, positions) from a dense [N, K]; mirrors packNM.
std::pair<Value, Value> buildPack(OpBuilder &b, Location loc, Value dense,
                                  NMSparsityAttr pattern,
                                  RankedTensorType valuesType,
                                  RankedTensorType positionsType) {
  int64_t n = pattern.getN(), m = pattern.getM();
  auto denseType = cast<RankedTensorType>(dense.getType());
  int64_t rows = denseType.getDimSize(0), groups = denseType.getDimSize(1) / m;
  Type elementType = denseType.getElementType();
  Type wordType = positionsType.getElementType();
  Type counterType = b.getI32Type();
  unsigned bits = pattern.getPositionBits();

  // One output per slot plus the positions word; slots are stitched into
  // [N, G, n] afterwards since linalg needs one iteration space.
  SmallVector<Value> inits;
  SmallVector<Type> resultTypes;
  auto slotType = RankedTensorType::get({rows, groups}, elementType);
  for (int64_t slot = 0; slot < n; ++slot) {
    inits.push_back(tensor::EmptyOp::create(
        b, loc, slotType.getShape(), elementType));
    resultTypes.push_back(slotType);
  }
  inits.push_back(tensor::EmptyOp::create(b, loc, positionsType.getShape(),
                                          wordType));
  resultTypes.push_back(positionsType);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(2, b.getContext());
  auto generic = linalg::GenericOp::create(
      b, loc, resultTypes, ValueRange{}, inits,
      SmallVector<AffineMap>(n + 1, identity),
      SmallVector<IteratorType>(2, IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value row = linalg::IndexOp::create(nb, nloc, 0);
        Value group = linalg::IndexOp::create(nb, nloc, 1);
        Value firstColumn = arith::MulIOp::create(
            nb, nloc, group, constantIndex(nb, nloc, m));
        Value zero = arith::ConstantOp::create(
            nb, nloc, elementType, nb.getFloatAttr(elementType, 0.0));
        auto counter = [&](int64_t v) {
          return constantInt(nb, nloc, counterType, v);
        };
        SmallVector<Value> entries, nonZero;
        Value numNonZero = counter(0);
        for (int64_t j = 0; j < m; ++j) {
          Value column = arith::AddIOp::create(nb, nloc, firstColumn,
                                               constantIndex(nb, nloc, j));
          entries.push_back(tensor::ExtractOp::create(
              nb, nloc, dense, ValueRange{row, column}));
          // UNE: NaN counts as non-zero, like `!(x == 0)` in packNM.
          nonZero.push_back(arith::CmpFOp::create(
              nb, nloc, arith::CmpFPredicate::UNE, entries.back(), zero));
          numNonZero = arith::AddIOp::create(
              nb, nloc, numNonZero,
              arith::ExtUIOp::create(nb, nloc, counterType, nonZero.back()));
        }
        Value lacksNonZeros = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::ult, numNonZero, counter(n));
        Value zerosToKeep = arith::SelectOp::create(
            nb, nloc, lacksNonZeros,
            arith::SubIOp::create(nb, nloc, counter(n), numNonZero),
            counter(0));

        Value nonZeroSeen = counter(0), zeroSeen = counter(0),
              slot = counter(0);
        Value word = constantInt(nb, nloc, wordType, 0);
        SmallVector<Value> slotValues(n, zero);
        for (int64_t j = 0; j < m; ++j) {
          Value keepNonZero = arith::AndIOp::create(
              nb, nloc, nonZero[j],
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult,
                                    nonZeroSeen, counter(n)));
          Value isZero = arith::XOrIOp::create(
              nb, nloc, nonZero[j],
              constantInt(nb, nloc, nb.getI1Type(), 1));
          Value keepZero = arith::AndIOp::create(
              nb, nloc, isZero,
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ult,
                                    zeroSeen, zerosToKeep));
          Value keep = arith::OrIOp::create(nb, nloc, keepNonZero, keepZero);
          nonZeroSeen = arith::AddIOp::create(
              nb, nloc, nonZeroSeen,
              arith::ExtUIOp::create(nb, nloc, counterType, nonZero[j]));
          zeroSeen = arith::AddIOp::create(
              nb, nloc, zeroSeen,
              arith::ExtUIOp::create(nb, nloc, counterType, isZero));

          // word |= keep ? j << (slot * bits) : 0
          Value shift = arith::MulIOp::create(nb, nloc, slot, counter(bits));
          Value shiftWord = castInteger(nb, nloc, shift, wordType);
          Value placed = arith::ShLIOp::create(
              nb, nloc, constantInt(nb, nloc, wordType, j), shiftWord);
          word = arith::SelectOp::create(
              nb, nloc, keep, arith::OrIOp::create(nb, nloc, word, placed),
              word);
          for (int64_t t = 0; t < n; ++t) {
            Value inSlot = arith::AndIOp::create(
                nb, nloc, keep,
                arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, slot,
                                      counter(t)));
            slotValues[t] = arith::SelectOp::create(nb, nloc, inSlot,
                                                    entries[j], slotValues[t]);
          }
          slot = arith::AddIOp::create(
              nb, nloc, slot,
              arith::ExtUIOp::create(nb, nloc, counterType, keep));
        }
        SmallVector<Value> yielded(slotValues);
        yielded.push_back(word);
        linalg::YieldOp::create(nb, nloc, yielded);
      });

  Value grouped = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, groups, n}, elementType);
  for (int64_t slot = 0; slot < n; ++slot) {
    SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                         b.getIndexAttr(slot)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(rows),
                                       b.getIndexAttr(groups),
                                       b.getIndexAttr(1)};
    SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
    grouped = tensor::InsertSliceOp::create(b, loc, generic.getResult(slot),
                                            grouped, offsets, sizes, strides);
  }
  return {mergeLastDims(b, loc, grouped), generic.getResult(static_cast<unsigned>(n))};
}

/// acc[M, N] += lhs[M, K] * rhs[N, K]^T in the accumulator's element type.
Value buildMatmulTransposedB(OpBuilder &b, Location loc, Value lhs, Value rhs,
                             Value acc) {
  MLIRContext *ctx = b.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {d0, d2}, ctx),
                                 AffineMap::get(3, 0, {d1, d2}, ctx),
                                 AffineMap::get(3, 0, {d0, d1}, ctx)};
  Type accType = cast<RankedTensorType>(acc.getType()).getElementType();
  auto generic = linalg::GenericOp::create(
      b, loc, acc.getType(), ValueRange{lhs, rhs}, ValueRange{acc}, maps,
      {IteratorType::parallel, IteratorType::parallel,
       IteratorType::reduction},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value l = convertFloat(nb, nloc, args[0], accType);
        Value r = convertFloat(nb, nloc, args[1], accType);
        Value product = arith::MulFOp::create(nb, nloc, l, r);
        linalg::YieldOp::create(
            nb, nloc, Value(arith::AddFOp::create(nb, nloc, args[2], product)));
      });
  return generic.getResult(0);
}

/// Elementwise float conversion of a tensor (f32 accumulator -> result type).
Value buildConvertTensor(OpBuilder &b, Location loc, Value input,
                         Type elementType) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType() == elementType)
    return input;
  SmallVector<Value> dynamicSizes;
  for (int64_t dim = 0; dim < type.getRank(); ++dim)
    if (type.isDynamicDim(dim))
      dynamicSizes.push_back(tensor::DimOp::create(b, loc, input, dim));
  Value init = tensor::EmptyOp::create(b, loc, type.getShape(), elementType,
                                       dynamicSizes);
  AffineMap identity =
      AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
  return linalg::GenericOp::create(
             b, loc, init.getType(), ValueRange{input}, ValueRange{init},
             ArrayRef<AffineMap>{identity, identity},
             SmallVector<IteratorType>(type.getRank(), IteratorType::parallel),
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nloc, convertFloat(nb, nloc, args[0], elementType));
             })
      .getResult(0);
}

struct UnpackOpLowering : OpConversionPattern<UnpackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnpackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildUnpack(rewriter, op.getLoc(),
                                       adaptor.getValues(),
                                       adaptor.getPositions(), op.getPattern(),
                                       op.getDense().getType()));
    return success();
  }
};

struct PackOpLowering : OpConversionPattern<PackOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PackOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto [values, positions] =
        buildPack(rewriter, op.getLoc(), adaptor.getDense(), op.getPattern(),
                  op.getValues().getType(), op.getPositions().getType());
    rewriter.replaceOp(op, ValueRange{values, positions});
    return success();
  }
};

struct LinearOpLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    RankedTensorType outputType = op.getOutput().getType();
    Type elementType = inputType.getElementType();
    Type accType = rewriter.getF32Type();
    int64_t numInputFeatures = op.getInputFeatures();
    int64_t numOutputFeatures = op.getOutputFeatures();

    // x : [..., K] -> [M, K].
    Value input = collapseToRowMatrix(rewriter, loc, adaptor.getInput());
    auto input2dType = cast<RankedTensorType>(input.getType());
    SmallVector<Value> dynamicRows;
    if (input2dType.isDynamicDim(0))
      dynamicRows.push_back(tensor::DimOp::create(rewriter, loc, input, 0));

    auto emptyAccumulator = [&](int64_t columns) -> Value {
      Value empty = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{input2dType.getDimSize(0), columns}, accType,
          dynamicRows);
      Value zero = arith::ConstantOp::create(rewriter, loc, accType,
                                             rewriter.getF32FloatAttr(0.0));
      return linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    };

    // Accumulator: the bias broadcast over rows, or zeros.
    Value acc;
    if (Value bias = adaptor.getBias()) {
      Value empty = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{input2dType.getDimSize(0), numOutputFeatures},
          accType, dynamicRows);
      MLIRContext *ctx = rewriter.getContext();
      AffineMap byColumn =
          AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
      AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
      acc = linalg::GenericOp::create(
                rewriter, loc, empty.getType(), ValueRange{bias},
                ValueRange{empty}, ArrayRef<AffineMap>{byColumn, identity},
                {IteratorType::parallel, IteratorType::parallel},
                [&](OpBuilder &nb, Location nloc, ValueRange args) {
                  linalg::YieldOp::create(
                      nb, nloc, convertFloat(nb, nloc, args[0], accType));
                })
                .getResult(0);
    } else {
      acc = emptyAccumulator(numOutputFeatures);
    }

    Value sparse = buildUnpack(
        rewriter, loc, adaptor.getValues(), adaptor.getPositions(),
        op.getPattern(),
        RankedTensorType::get({numOutputFeatures, numInputFeatures},
                              elementType));
    acc = buildMatmulTransposedB(rewriter, loc, input, sparse, acc);

    if (adaptor.getLowRankU()) {
      Value projected = buildMatmulTransposedB(
          rewriter, loc, input, adaptor.getLowRankV(),
          emptyAccumulator(op.getLowRank()));
      acc = buildMatmulTransposedB(rewriter, loc, projected,
                                   adaptor.getLowRankU(), acc);
    }
    Value result = buildConvertTensor(rewriter, loc, acc, elementType);

    // [M, N] -> [..., N].
    result = expandFromRowMatrix(rewriter, loc, result, adaptor.getInput(),
                                 outputType);
    if (result.getType() != outputType)
      result = tensor::CastOp::create(rewriter, loc, outputType, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConvertSLRToLinalgPass
    : slr::impl::ConvertSLRToLinalgBase<ConvertSLRToLinalgPass> {
  void runOnOperation() override {
    ConversionTarget target(getContext());
    target.addIllegalDialect<SLRDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           tensor::TensorDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(&getContext());
    populateSLRToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void slr::populateSLRToLinalgConversionPatterns(RewritePatternSet &patterns) {
  patterns.add<UnpackOpLowering, PackOpLowering, LinearOpLowering>(
      patterns.getContext());
}
