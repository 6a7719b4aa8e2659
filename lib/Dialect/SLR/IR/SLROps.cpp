//===- SLROps.cpp - slr operations ----------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>

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
static LogicalResult verifyPackedOperands(Operation *op, NMSparsityAttr pattern,
                                          RankedTensorType valuesType,
                                          RankedTensorType positionsType,
                                          int64_t numRows, int64_t numCols) {
  unsigned n = pattern.getN(), m = pattern.getM();
  // NMSparsityAttr::get does not verify; a pattern built in C++ still must.
  if (failed(NMSparsityAttr::verify([&] { return op->emitOpError(); }, n, m)))
    return failure();
  if (ShapedType::isDynamic(numCols))
    return op->emitOpError("requires a static reduction dimension K");
  if (numCols % m != 0)
    return op->emitOpError("requires the reduction dimension K = ")
           << numCols << " to be a multiple of m = " << m << " for " << pattern;
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
           << numRows << ", " << groups << "] (N x K/m), got " << positionsType;
  unsigned width = positionsType.getElementType().getIntOrFloatBitWidth();
  if (width < pattern.getGroupPositionBits())
    return op->emitOpError("positions element type ")
           << positionsType.getElementType() << " is too narrow: " << pattern
           << " needs " << pattern.getGroupPositionBits() << " bits per group";
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

/// Why `word` is not a canonical group word of `pattern` (see slr.pack).
static std::string describeNonCanonicalWord(const APInt &word,
                                            NMSparsityAttr pattern) {
  unsigned n = pattern.getN(), m = pattern.getM();
  unsigned groupBits = pattern.getGroupPositionBits();
  if (word.getActiveBits() > groupBits)
    return "has bits set above the " + std::to_string(groupBits) +
           " that hold its positions";
  uint64_t bits = word.getZExtValue();
  SmallVector<std::string> positions;
  for (unsigned t = 0; t < n; ++t)
    positions.push_back(std::to_string(decodePosition(bits, t, m)));
  std::string list = "positions " + llvm::join(positions, ", ");
  for (unsigned t = 0; t < n; ++t)
    if (decodePosition(bits, t, m) >= m)
      return "holds " + list +
             ", but positions must be below m = " + std::to_string(m);
  return "holds " + list + ", but positions must be distinct and ascending";
}

/// The group words of a constant positions operand (inline or a resource
/// blob with data), as `visit(index, word)`; stops at the first failure.
static LogicalResult
forEachConstantPositionWord(Value positions,
                            function_ref<LogicalResult(int64_t, APInt)> visit) {
  ElementsAttr attr;
  if (!matchPattern(positions, m_Constant(&attr)))
    return success();
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    if (dense.isSplat())
      return visit(0, dense.getSplatValue<APInt>());
    int64_t index = 0;
    for (APInt word : dense.getValues<APInt>())
      if (failed(visit(index++, word)))
        return failure();
    return success();
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  auto type = cast<ShapedType>(attr.getType());
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (!blob || (width != 8 && width != 16 && width != 32 && width != 64))
    return success(); // Elided or unusual: nothing to read.
  ArrayRef<char> data = blob->getData();
  size_t bytes = width / 8;
  if (data.size() != static_cast<size_t>(type.getNumElements()) * bytes)
    return success();
  for (int64_t index = 0, e = type.getNumElements(); index < e; ++index) {
    uint64_t word = 0; // Little-endian hosts only, as the blobs themselves.
    std::memcpy(&word, data.data() + index * bytes, bytes);
    if (failed(visit(index, APInt(width, word))))
      return failure();
  }
  return success();
}

/// Constant positions must be in the canonical layout documented on slr.pack
/// (n distinct ascending positions below m per group, zero high bits): the
/// folders, lowerings and GPU metadata all assume it, and a duplicate would
/// silently drop a kept value.
static LogicalResult verifyConstantPositions(Operation *op,
                                             NMSparsityAttr pattern,
                                             Value positions) {
  auto type = cast<RankedTensorType>(positions.getType());
  int64_t groupsPerRow = std::max<int64_t>(type.getDimSize(1), 1);
  unsigned n = pattern.getN(), m = pattern.getM();
  return forEachConstantPositionWord(
      positions, [&](int64_t index, APInt word) -> LogicalResult {
        if (word.getActiveBits() <= 64 &&
            isCanonicalGroupWord(word.getZExtValue(), n, m))
          return success();
        return op->emitOpError("constant positions of row ")
               << index / groupsPerRow << ", group " << index % groupsPerRow
               << " are not in the packed layout of " << pattern << ": word "
               << word.getZExtValue() << " "
               << describeNonCanonicalWord(word, pattern);
      });
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
  if (!isSupportedPattern(n, m))
    return failure();
  RankedTensorType denseType = getDense().getType();
  int64_t rows = denseType.getDimSize(0), cols = denseType.getDimSize(1);
  unsigned width =
      getPositions().getType().getElementType().getIntOrFloatBitWidth();

  SmallVector<APFloat> input(dense.getValues<APFloat>());
  SmallVector<APFloat> values;
  SmallVector<APInt> positions;
  values.reserve(rows * cols / m * n);
  positions.reserve(rows * cols / m);
  bool nonZero[kMaxGroupSize];
  unsigned kept[kMaxGroupSize];
  for (int64_t group = 0; group < rows * cols / m; ++group) {
    ArrayRef<APFloat> entries = ArrayRef(input).slice(group * m, m);
    for (unsigned j = 0; j < m; ++j)
      nonZero[j] = !entries[j].isZero();
    selectKeptPositions(nonZero, n, m, kept);
    for (unsigned t = 0; t < n; ++t)
      values.push_back(entries[kept[t]]);
    positions.push_back(APInt(width, *encodePositions(kept, n, m)));
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
  if (failed(verifyDenseAndPacked(*this, getPattern(), getDense().getType(),
                                  getValues().getType(),
                                  getPositions().getType())))
    return failure();
  return verifyConstantPositions(*this, getPattern(), getPositions());
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
    // The verifier refuses such words; never fold one into a matrix that
    // silently lost a value.
    if (word.getActiveBits() > 64 ||
        !isCanonicalGroupWord(word.getZExtValue(), n, m))
      return {};
    for (unsigned t = 0; t < n; ++t)
      dense[group * m + decodePosition(word.getZExtValue(), t, m)] =
          packedValues[group * n + t];
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
  // ODS checks only that the optional groups hold at most one operand; in
  // the generic form a group of 0 or 2 for a required operand would shift
  // the operands into the wrong roles or drop one.
  static constexpr const char *kSegmentNames[] = {
      "input", "values", "positions", "U", "V", "bias"};
  ArrayRef<int32_t> segments = getProperties().operandSegmentSizes;
  for (auto [index, size] : llvm::enumerate(segments))
    if (index < 3 ? size != 1 : size > 1)
      return emitOpError("operandSegmentSizes gives ")
             << kSegmentNames[index] << " " << size << " operands; it takes "
             << (index < 3 ? "exactly 1" : "0 or 1");

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
                                  numInputFeatures)) ||
      failed(verifyConstantPositions(*this, getPattern(), getPositions())))
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
        op.getLowRankU() && (op.getLowRank() == 0 ||
                             matchPattern(op.getLowRankU(), m_AnyZeroFloat()) ||
                             matchPattern(op.getLowRankV(), m_AnyZeroFloat()));
    bool dropBias =
        op.getBias() && matchPattern(op.getBias(), m_AnyZeroFloat());
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
