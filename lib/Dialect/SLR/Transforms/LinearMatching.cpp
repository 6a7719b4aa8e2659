//===- LinearMatching.cpp - Find constant-weight linear layers ------------===//

#include "slr/Dialect/SLR/Transforms/LinearMatching.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace mlir;
using namespace slr;

static std::string debugString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

static bool isSupportedFloat(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

/// Whether `map` lists exactly the dimensions `dims` (in that order).
static bool mapIsDims(AffineMap map, ArrayRef<unsigned> dims) {
  if (map.getNumResults() != dims.size())
    return false;
  for (auto [expr, dim] : llvm::zip(map.getResults(), dims))
    if (!expr.isFunctionOfDim(dim) || !isa<AffineDimExpr>(expr))
      return false;
  return true;
}

std::optional<ConstantWeightLinear>
slr::matchConstantWeightLinear(linalg::LinalgOp op,
                               LinearMatchFailure &failure) {
  failure.reason.clear();
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() || !linalg::isaContractionOpInterface(op))
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims))
    return std::nullopt;
  if (!dims->batch.empty()) {
    failure.reason = "both operands carry batch dimensions, so neither is a "
                     "shared weight";
    return std::nullopt;
  }
  if (dims->k.size() != 1) {
    failure.reason = "contraction has " + std::to_string(dims->k.size()) +
                     " reduction dimensions; a linear layer has one";
    return std::nullopt;
  }
  unsigned k = dims->k.front();

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  OpOperand *inputs[2] = {op.getDpsInputOperand(0), op.getDpsInputOperand(1)};
  OpOperand *init = op.getDpsInitOperand(0);
  // inferContractionDims calls the dims only operand 0 shares with the result
  // "m" and those only operand 1 shares "n". The weight is the operand with
  // exactly one such dim (its output feature n) besides k, indexed (n, k) or
  // (k, n).
  // Both operands of a plain 2-D matmul qualify; the constant one is the
  // weight (operand 1 when both or neither are constant).
  int weightIndex = -1;
  bool transposed = false;
  unsigned n = 0;
  for (int i = 1; i >= 0; --i) {
    const SmallVector<unsigned, 2> &own = i == 0 ? dims->m : dims->n;
    if (own.size() != 1)
      continue;
    AffineMap map = maps[inputs[i]->getOperandNumber()];
    if (!mapIsDims(map, {own.front(), k}) && !mapIsDims(map, {k, own.front()}))
      continue;
    bool isConstant = matchPattern(inputs[i]->get(), m_Constant());
    if (weightIndex >= 0 && !isConstant)
      continue;
    weightIndex = i;
    n = own.front();
    transposed = mapIsDims(map, {k, n});
    if (isConstant)
      break;
  }
  if (weightIndex < 0) {
    failure.reason = "no operand is a 2-D weight indexed by (n, k) or (k, n)";
    return std::nullopt;
  }
  OpOperand *weightOperand = inputs[weightIndex];
  OpOperand *inputOperand = inputs[1 - weightIndex];

  // x[..., k] and y[..., n] with the same leading dimensions.
  AffineMap inputMap = maps[inputOperand->getOperandNumber()];
  AffineMap outputMap = maps[init->getOperandNumber()];
  SmallVector<unsigned> rowDims;
  for (AffineExpr expr : outputMap.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      break;
    rowDims.push_back(dim.getPosition());
  }
  if (rowDims.empty() || rowDims.back() != n) {
    failure.reason = "the result's last dimension is not the output-feature "
                     "dimension";
    return std::nullopt;
  }
  rowDims.pop_back();
  SmallVector<unsigned> inputDims(rowDims);
  inputDims.push_back(k);
  if (!mapIsDims(inputMap, inputDims) ||
      outputMap.getNumResults() != rowDims.size() + 1) {
    failure.reason = "activation and result do not share their leading "
                     "dimensions in order ([..., K] -> [..., N])";
    return std::nullopt;
  }

  auto inputType = dyn_cast<RankedTensorType>(inputOperand->get().getType());
  auto weightType = dyn_cast<RankedTensorType>(weightOperand->get().getType());
  auto resultType = dyn_cast<RankedTensorType>(init->get().getType());
  if (!inputType || !weightType || !resultType) {
    failure.reason = "operands are not ranked tensors";
    return std::nullopt;
  }
  Type elementType = inputType.getElementType();
  if (!isSupportedFloat(elementType) ||
      weightType.getElementType() != elementType ||
      resultType.getElementType() != elementType) {
    failure.reason = "element types must all be one of f32, f16, bf16";
    return std::nullopt;
  }
  if (!weightType.hasStaticShape()) {
    failure.reason = "weight shape is not static";
    return std::nullopt;
  }
  // slr.linear takes K from x and N from its result type: both must be
  // static (the weight alone does not make them so).
  if (inputType.getRank() < 1 ||
      ShapedType::isDynamic(inputType.getShape().back())) {
    failure.reason = "the activation's K dimension is dynamic (" +
                     debugString(inputType) + "); slr.linear needs a static K";
    return std::nullopt;
  }
  if (resultType.getRank() < 1 ||
      ShapedType::isDynamic(resultType.getShape().back())) {
    failure.reason = "the result's N dimension is dynamic (" +
                     debugString(resultType) + "); slr.linear needs a static N";
    return std::nullopt;
  }

  ElementsAttr weight;
  if (!matchPattern(weightOperand->get(), m_Constant(&weight))) {
    failure.reason = "weight operand is not a constant";
    return std::nullopt;
  }

  ConstantWeightLinear match;
  match.op = op;
  match.inputOperandNumber = inputOperand->getOperandNumber();
  match.initOperandNumber = init->getOperandNumber();
  match.weight = weight;
  match.weightIsTransposed = transposed;
  match.numOutputFeatures = weightType.getDimSize(transposed ? 1 : 0);
  match.numInputFeatures = weightType.getDimSize(transposed ? 0 : 1);
  return match;
}

std::string slr::linearLayerName(Operation *op, unsigned ordinal) {
  if (auto name = op->getAttrOfType<StringAttr>(kLayerNameAttr))
    return name.str();
  std::string prefix = "anonymous";
  if (auto func = op->getParentOfType<func::FuncOp>())
    prefix = func.getSymName().str();
  return prefix + ".linear" + std::to_string(ordinal);
}

void slr::forEachLinearCandidate(
    Operation *root, function_ref<void(linalg::LinalgOp, const std::string &,
                                       std::optional<ConstantWeightLinear> &,
                                       const LinearMatchFailure &)>
                         callback) {
  // Ordinals count per function so names survive edits elsewhere.
  llvm::DenseMap<Operation *, unsigned> ordinals;
  SmallVector<linalg::LinalgOp> candidates;
  root->walk([&](linalg::LinalgOp op) { candidates.push_back(op); });
  for (linalg::LinalgOp op : candidates) {
    LinearMatchFailure failure;
    std::optional<ConstantWeightLinear> match =
        matchConstantWeightLinear(op, failure);
    if (!match && failure.reason.empty())
      continue;
    Operation *scope = op->getParentOfType<func::FuncOp>();
    unsigned ordinal = ordinals[scope]++;
    std::string name = linearLayerName(op, ordinal);
    if (match)
      match->name = name;
    callback(op, name, match, failure);
  }
}

//===----------------------------------------------------------------------===//
// Constant data
//===----------------------------------------------------------------------===//

static float halfBitsToFloat(uint16_t bits, Type type) {
  if (type.isBF16()) {
    uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof(value));
    return value;
  }
  APFloat value(APFloat::IEEEhalf(), APInt(16, bits));
  return value.convertToFloat() /* exact: half widens losslessly */;
}

bool slr::readFloatElements(ElementsAttr attr, std::vector<float> &values,
                            std::string &error) {
  auto type = cast<ShapedType>(attr.getType());
  Type elementType = type.getElementType();
  if (!isSupportedFloat(elementType)) {
    error = "weight element type must be f32, f16 or bf16";
    return false;
  }
  int64_t numElements = type.getNumElements();
  values.resize(numElements);

  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (elementType.isF32()) {
      auto range = dense.getValues<float>();
      std::copy(range.begin(), range.end(), values.begin());
      return true;
    }
    int64_t i = 0;
    for (APFloat value : dense.getValues<APFloat>()) {
      bool losesInfo = false;
      value.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      values[i++] = value.convertToFloat();
    }
    return true;
  }

  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) {
      error = "weight resource '" + resource.getRawHandle().getKey().str() +
              "' has no data (elided or missing blob)";
      return false;
    }
    ArrayRef<char> data = blob->getData();
    size_t elementBytes = elementType.isF32() ? 4 : 2;
    if (data.size() != static_cast<size_t>(numElements) * elementBytes) {
      error = "weight resource holds " + std::to_string(data.size()) +
              " bytes, expected " + std::to_string(numElements * elementBytes);
      return false;
    }
    if (elementType.isF32()) {
      std::memcpy(values.data(), data.data(), data.size());
      return true;
    }
    for (int64_t i = 0; i < numElements; ++i) {
      uint16_t bits;
      std::memcpy(&bits, data.data() + i * 2, 2);
      values[i] = halfBitsToFloat(bits, elementType);
    }
    return true;
  }
  error = "unsupported constant kind for the weight";
  return false;
}

/// Constants above this many elements become dense_resource blobs.
static constexpr int64_t kInlineElementLimit = 256;

ElementsAttr slr::makeFloatElements(RankedTensorType type,
                                    ArrayRef<float> values,
                                    StringRef blobName) {
  Type elementType = type.getElementType();
  bool inlineData = type.getNumElements() <= kInlineElementLimit;
  if (elementType.isF32()) {
    if (inlineData)
      return DenseElementsAttr::get(type, values);
    return cast<ElementsAttr>(DenseF32ResourceElementsAttr::get(
        type, blobName,
        HeapAsmResourceBlob::allocateAndCopyInferAlign(values)));
  }
  const llvm::fltSemantics &semantics =
      cast<FloatType>(elementType).getFloatSemantics();
  SmallVector<APFloat> converted;
  SmallVector<uint16_t> bits;
  converted.reserve(values.size());
  for (float value : values) {
    APFloat apValue(value);
    bool losesInfo = false;
    apValue.convert(semantics, APFloat::rmNearestTiesToEven, &losesInfo);
    if (inlineData)
      converted.push_back(apValue);
    else
      bits.push_back(
          static_cast<uint16_t>(apValue.bitcastToAPInt().getZExtValue()));
  }
  if (inlineData)
    return DenseElementsAttr::get(type, converted);
  return cast<ElementsAttr>(DenseResourceElementsAttr::get(
      type, blobName,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(
          ArrayRef<uint16_t>(bits))));
}

ElementsAttr slr::makeIntegerElements(RankedTensorType type,
                                      ArrayRef<uint64_t> values,
                                      StringRef blobName) {
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (type.getNumElements() <= kInlineElementLimit || width != 8) {
    SmallVector<APInt> converted;
    converted.reserve(values.size());
    for (uint64_t value : values)
      converted.push_back(APInt(width, value));
    return DenseElementsAttr::get(type, converted);
  }
  SmallVector<int8_t> bytes(values.begin(), values.end());
  return cast<ElementsAttr>(DenseI8ResourceElementsAttr::get(
      type, blobName,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<int8_t>(bytes))));
}

void slr::replaceLinearLayer(Operation *op, Value replacement, Value input,
                             Value init) {
  SmallVector<Operation *> weightConstants;
  for (Value operand : op->getOperands())
    if (operand != input && operand != init)
      if (auto constantOp = operand.getDefiningOp<arith::ConstantOp>())
        weightConstants.push_back(constantOp);
  op->getResult(0).replaceAllUsesWith(replacement);
  op->erase();
  for (Operation *constantOp : weightConstants)
    if (constantOp->use_empty())
      constantOp->erase();
}
