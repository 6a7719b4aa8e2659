//===- SLROps.cpp - slr operations ----------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace slr;

#define GET_OP_CLASSES
#include "slr/Dialect/SLR/IR/SLROps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared shape rules
//===----------------------------------------------------------------------===//

/// Checks `values : [N, K*n/m]` and `positions : [N, K/m]` for a dense S of
/// `numRows x numCols` (N x K) under `pattern`, and that `values` has
/// `elementType`.
static LogicalResult verifyPackedOperands(Operation *op,
                                          NMSparsityAttr pattern,
                                          RankedTensorType valuesType,
                                          RankedTensorType positionsType,
                                          int64_t numRows, int64_t numCols) {
  unsigned n = pattern.getN(), m = pattern.getM();
  if (ShapedType::isDynamic(numCols))
    return op->emitOpError("requires a static reduction dimension K");
  if (numCols % m != 0)
    return op->emitOpError("requires the reduction dimension K = ")
           << numCols << " to be a multiple of m = " << m << " for "
           << pattern;
  if (valuesType.getRank() != 2 || !valuesType.hasStaticShape())
    return op->emitOpError("requires statically shaped rank-2 values, got ")
           << valuesType;
  if (positionsType.getRank() != 2 || !positionsType.hasStaticShape())
    return op->emitOpError("requires statically shaped rank-2 positions, got ")
           << positionsType;
  int64_t groups = numCols / m;
  if (valuesType.getDimSize(0) != numRows ||
      valuesType.getDimSize(1) != groups * n)
    return op->emitOpError("expects values of shape [")
           << numRows << ", " << groups * n << "] (N x K*n/m), got "
           << valuesType;
  if (positionsType.getDimSize(0) != numRows ||
      positionsType.getDimSize(1) != groups)
    return op->emitOpError("expects positions of shape [")
           << numRows << ", " << groups << "] (N x K/m), got "
           << positionsType;
  unsigned width = positionsType.getElementType().getIntOrFloatBitWidth();
  if (width < pattern.getGroupPositionBits())
    return op->emitOpError("positions element type ")
           << positionsType.getElementType() << " is too narrow: " << pattern
           << " needs " << pattern.getGroupPositionBits()
           << " bits per group";
  return success();
}

/// Dense S (pack input / unpack result) must be static rank 2 with the values'
/// element type.
static LogicalResult verifyDenseMatrix(Operation *op,
                                       RankedTensorType denseType,
                                       RankedTensorType valuesType) {
  if (denseType.getRank() != 2 || !denseType.hasStaticShape())
    return op->emitOpError("requires a statically shaped rank-2 dense matrix, "
                           "got ")
           << denseType;
  if (denseType.getElementType() != valuesType.getElementType())
    return op->emitOpError("requires dense matrix and values to have the same "
                           "element type, got ")
           << denseType.getElementType() << " and "
           << valuesType.getElementType();
  return success();
}

/// The shape rules shared by slr.pack and slr.unpack.
static LogicalResult verifyDenseAndPacked(Operation *op, NMSparsityAttr pattern,
                                          RankedTensorType denseType,
                                          RankedTensorType valuesType,
                                          RankedTensorType positionsType) {
  if (failed(verifyDenseMatrix(op, denseType, valuesType)))
    return failure();
  return verifyPackedOperands(op, pattern, valuesType, positionsType,
                              denseType.getDimSize(0), denseType.getDimSize(1));
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

LogicalResult PackOp::verify() {
  return verifyDenseAndPacked(*this, getPattern(), getDense().getType(),
                              getValues().getType(), getPositions().getType());
}

LogicalResult PackOp::fold(FoldAdaptor adaptor,
                           SmallVectorImpl<OpFoldResult> &results) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getDense());
  if (!dense)
    return failure();
  unsigned n = getPattern().getN(), m = getPattern().getM();
  RankedTensorType denseType = getDense().getType();
  int64_t rows = denseType.getDimSize(0), cols = denseType.getDimSize(1);
  unsigned width =
      getPositions().getType().getElementType().getIntOrFloatBitWidth();

  SmallVector<APFloat> input(dense.getValues<APFloat>());
  SmallVector<APFloat> values;
  SmallVector<APInt> positions;
  values.reserve(rows * cols / m * n);
  positions.reserve(rows * cols / m);
  bool nonZero[64];
  unsigned kept[64];
  for (int64_t group = 0; group < rows * cols / m; ++group) {
    ArrayRef<APFloat> entries = ArrayRef(input).slice(group * m, m);
    for (unsigned j = 0; j < m; ++j)
      nonZero[j] = !entries[j].isZero();
    selectKeptPositions(nonZero, n, m, kept);
    for (unsigned t = 0; t < n; ++t)
      values.push_back(entries[kept[t]]);
    positions.push_back(APInt(width, encodePositions(kept, n, m)));
  }
  results.push_back(DenseElementsAttr::get(getValues().getType(), values));
  results.push_back(
      DenseElementsAttr::get(getPositions().getType(), positions));
  return success();
}

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

LogicalResult UnpackOp::verify() {
  return verifyDenseAndPacked(*this, getPattern(), getDense().getType(),
                              getValues().getType(), getPositions().getType());
}

OpFoldResult UnpackOp::fold(FoldAdaptor adaptor) {
  auto values = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getValues());
  auto positions =
      dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getPositions());
  if (!values || !positions)
    return {};
  unsigned n = getPattern().getN(), m = getPattern().getM();
  RankedTensorType denseType = getDense().getType();
  int64_t rows = denseType.getDimSize(0), cols = denseType.getDimSize(1);
  const llvm::fltSemantics &semantics =
      cast<FloatType>(denseType.getElementType()).getFloatSemantics();

  SmallVector<APFloat> packedValues(values.getValues<APFloat>());
  SmallVector<APFloat> dense(rows * cols, APFloat::getZero(semantics));
  int64_t group = 0;
  for (const APInt &word : positions.getValues<APInt>()) {
    for (unsigned t = 0; t < n; ++t) {
      unsigned pos = decodePosition(word.getZExtValue(), t, m);
      if (pos < m)
        dense[group * m + pos] = packedValues[group * n + t];
    }
    ++group;
  }
  return DenseElementsAttr::get(denseType, dense);
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

int64_t LinearOp::getLowRank() {
  if (!getLowRankU())
    return 0;
  return cast<RankedTensorType>(getLowRankU().getType()).getDimSize(1);
}

int64_t LinearOp::getOutputFeatures() {
  return getValues().getType().getDimSize(0);
}

int64_t LinearOp::getInputFeatures() {
  return getInput().getType().getShape().back();
}

LogicalResult LinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType outputType = getOutput().getType();
  RankedTensorType valuesType = getValues().getType();
  Type elementType = inputType.getElementType();
  if (inputType.getRank() < 1)
    return emitOpError("requires an input of rank >= 1, got ") << inputType;

  // One element type everywhere keeps the lowerings' casts in one place.
  auto checkElementType = [&](Value value, StringRef what) -> LogicalResult {
    if (!value)
      return success();
    Type type = cast<RankedTensorType>(value.getType()).getElementType();
    if (type != elementType)
      return emitOpError("requires ")
             << what << " element type " << type
             << " to match the input element type " << elementType;
    return success();
  };
  if (failed(checkElementType(getValues(), "values")) ||
      failed(checkElementType(getOutput(), "result")) ||
      failed(checkElementType(getLowRankU(), "U")) ||
      failed(checkElementType(getLowRankV(), "V")) ||
      failed(checkElementType(getBias(), "bias")))
    return failure();

  int64_t numInputFeatures = inputType.getShape().back();
  int64_t numOutputFeatures = valuesType.getRank() == 2
                                  ? valuesType.getDimSize(0)
                                  : ShapedType::kDynamic;
  if (failed(verifyPackedOperands(*this, getPattern(), valuesType,
                                  getPositions().getType(), numOutputFeatures,
                                  numInputFeatures)))
    return failure();

  if (static_cast<bool>(getLowRankU()) != static_cast<bool>(getLowRankV()))
    return emitOpError("requires both low-rank factors U and V or neither");
  if (getLowRankU()) {
    auto uType = cast<RankedTensorType>(getLowRankU().getType());
    auto vType = cast<RankedTensorType>(getLowRankV().getType());
    if (uType.getRank() != 2 || !uType.hasStaticShape() ||
        vType.getRank() != 2 || !vType.hasStaticShape())
      return emitOpError("requires statically shaped rank-2 U and V");
    if (uType.getDimSize(0) != numOutputFeatures)
      return emitOpError("expects U with ")
             << numOutputFeatures << " rows (N), got " << uType;
    if (vType.getDimSize(1) != numInputFeatures)
      return emitOpError("expects V with ")
             << numInputFeatures << " columns (K), got " << vType;
    if (uType.getDimSize(1) != vType.getDimSize(0))
      return emitOpError("requires the rank of U (")
             << uType.getDimSize(1) << ") and V (" << vType.getDimSize(0)
             << ") to agree";
  }
  if (getBias()) {
    auto biasType = cast<RankedTensorType>(getBias().getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != numOutputFeatures)
      return emitOpError("expects a bias of shape [")
             << numOutputFeatures << "], got " << biasType;
  }

  if (outputType.getRank() != inputType.getRank())
    return emitOpError("requires the result rank to equal the input rank (")
           << inputType.getRank() << "), got " << outputType;
  if (outputType.getShape().back() != numOutputFeatures)
    return emitOpError("expects the result's last dimension to be N = ")
           << numOutputFeatures << ", got " << outputType;
  for (int64_t dim = 0, e = inputType.getRank() - 1; dim < e; ++dim) {
    int64_t in = inputType.getDimSize(dim), out = outputType.getDimSize(dim);
    if (in != out && !ShapedType::isDynamic(in) && !ShapedType::isDynamic(out))
      return emitOpError("result batch dimension ")
             << dim << " (" << out << ") does not match the input (" << in
             << ")";
  }
  return success();
}

namespace {
/// Drops a low-rank part of rank 0 or with a zero factor, and a zero bias:
/// they contribute nothing and cost two GEMMs (or an add).
struct DropVanishingTerms : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    bool dropLowRank =
        op.getLowRankU() &&
        (op.getLowRank() == 0 || matchPattern(op.getLowRankU(), m_AnyZeroFloat()) ||
         matchPattern(op.getLowRankV(), m_AnyZeroFloat()));
    bool dropBias = op.getBias() && matchPattern(op.getBias(), m_AnyZeroFloat());
    if (!dropLowRank && !dropBias)
      return failure();
    Value u = dropLowRank ? Value() : op.getLowRankU();
    Value v = dropLowRank ? Value() : op.getLowRankV();
    Value bias = dropBias ? Value() : op.getBias();
    auto replacement = LinearOp::create(
        rewriter, op.getLoc(), op.getType(), op.getInput(), op.getValues(),
        op.getPositions(), u, v, bias, op.getPattern());
    // Keep discardable attributes such as slr.name.
    replacement->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.replaceOp(op, replacement);
    return success();
  }
};
} // namespace

void LinearOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<DropVanishingTerms>(context);
}
