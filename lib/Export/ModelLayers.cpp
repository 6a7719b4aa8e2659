//===- ModelLayers.cpp - Read the linear layers of a model IR -------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"
#include "slr/Export/Export.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace slr;

const ExportLayer *ExportModel::findLayer(llvm::StringRef name) const {
  auto it = layerIndex.find(name);
  return it == layerIndex.end() ? nullptr : &layers[it->second];
}

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

static std::string describeLocation(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto location = dyn_cast<FileLineColLoc>(op->getLoc()))
    os << location.getFilename().getValue() << ":" << location.getLine() << ":"
       << location.getColumn();
  else
    op->getLoc().print(os);
  return text;
}

/// The ops of slr-import's IR and of --slr-compress's rewrite: anything
/// else (slr.unpack, a loop, a call) is IR the exporter does not know how
/// to map onto a checkpoint.
static bool isKnownOp(Operation *op) {
  if (isa<ModuleOp>(op))
    return true;
  StringRef dialect = op->getDialect() ? op->getDialect()->getNamespace() : "";
  if (dialect == "arith" || dialect == "math" || dialect == "tensor" ||
      dialect == "linalg")
    return true;
  if (isa<func::FuncOp, func::ReturnOp>(op))
    return true;
  return isa<LinearOp>(op);
}

static std::optional<ExportFloatType> floatTypeOf(Type type) {
  if (type.isF32())
    return ExportFloatType::F32;
  if (type.isF16())
    return ExportFloatType::F16;
  if (type.isBF16())
    return ExportFloatType::BF16;
  return std::nullopt;
}

/// The constant behind `value`, or an error naming the layer and operand.
static llvm::Expected<ElementsAttr>
constantOperand(Value value, StringRef layer, StringRef what) {
  ElementsAttr attr;
  if (auto constant = value.getDefiningOp<arith::ConstantOp>())
    attr = dyn_cast<ElementsAttr>(constant.getValue());
  if (!attr)
    return fail("layer '" + layer + "': its " + what +
                " is not a constant tensor");
  return attr;
}

static llvm::Error readFloats(ElementsAttr attr, StringRef layer,
                              StringRef what, std::vector<float> &out) {
  std::string error;
  if (!readFloatElements(attr, out, error))
    return fail("layer '" + layer + "': " + what + ": " + error);
  return llvm::Error::success();
}

/// Positions as zero-extended words: dense integer constants of any width
/// and i8 dense_resource blobs (what makeIntegerElements writes).
static llvm::Error readPositions(ElementsAttr attr, StringRef layer,
                                 std::vector<uint64_t> &out) {
  auto type = cast<ShapedType>(attr.getType());
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  out.assign(type.getNumElements(), 0);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    size_t i = 0;
    for (const APInt &value : dense.getValues<APInt>())
      out[i++] = value.getZExtValue();
    return llvm::Error::success();
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return fail("layer '" + layer + "': positions resource has no data");
    ArrayRef<char> data = blob->getData();
    size_t bytes = (width + 7) / 8;
    if (width % 8 != 0 || bytes > 8 || data.size() != out.size() * bytes)
      return fail("layer '" + layer + "': positions resource holds " +
                  llvm::Twine(data.size()) + " bytes for " +
                  llvm::Twine(out.size()) + " i" + llvm::Twine(width) +
                  " words");
    for (size_t i = 0; i < out.size(); ++i) {
      uint64_t word = 0;
      std::memcpy(&word, data.data() + i * bytes, bytes); // little endian
      out[i] = word;
    }
    return llvm::Error::success();
  }
  return fail("layer '" + layer + "': positions are an unsupported constant");
}

static llvm::Error readCompressedLayer(LinearOp op, ExportLayer &layer) {
  auto valuesType = cast<RankedTensorType>(op.getValues().getType());
  std::optional<ExportFloatType> floatType =
      floatTypeOf(valuesType.getElementType());
  if (!floatType)
    return fail("layer '" + layer.name + "': element type is not f32/f16/bf16");
  layer.elementType = *floatType;
  layer.compressed = true;
  layer.n = op.getPattern().getN();
  layer.m = op.getPattern().getM();
  layer.rows = op.getOutputFeatures();
  layer.cols = op.getInputFeatures();
  layer.positionBits = cast<RankedTensorType>(op.getPositions().getType())
                           .getElementType()
                           .getIntOrFloatBitWidth();
  auto values = constantOperand(op.getValues(), layer.name, "values");
  if (!values)
    return values.takeError();
  if (llvm::Error error =
          readFloats(*values, layer.name, "values", layer.values))
    return error;
  auto positions = constantOperand(op.getPositions(), layer.name, "positions");
  if (!positions)
    return positions.takeError();
  if (llvm::Error error =
          readPositions(*positions, layer.name, layer.positions))
    return error;
  layer.dense.assign(layer.rows * layer.cols, 0.0f);
  if (!unpackNM(layer.values.data(), layer.positions.data(), layer.rows,
                layer.cols, layer.n, layer.m, layer.dense.data()))
    return fail("layer '" + layer.name +
                "': positions are not in the canonical packed layout");
  layer.rank = op.getLowRank();
  if (layer.rank > 0) {
    auto u = constantOperand(op.getLowRankU(), layer.name, "U");
    if (!u)
      return u.takeError();
    auto v = constantOperand(op.getLowRankV(), layer.name, "V");
    if (!v)
      return v.takeError();
    if (llvm::Error error = readFloats(*u, layer.name, "U", layer.u))
      return error;
    if (llvm::Error error = readFloats(*v, layer.name, "V", layer.v))
      return error;
  }
  if (op.getBias()) {
    auto bias = constantOperand(op.getBias(), layer.name, "bias");
    if (!bias)
      return bias.takeError();
    if (llvm::Error error = readFloats(*bias, layer.name, "bias", layer.bias))
      return error;
  }
  return llvm::Error::success();
}

static llvm::Error readDenseLayer(const ConstantWeightLinear &match,
                                  ExportLayer &layer) {
  std::optional<ExportFloatType> floatType =
      floatTypeOf(cast<ShapedType>(match.weight.getType()).getElementType());
  if (!floatType)
    return fail("layer '" + layer.name + "': element type is not f32/f16/bf16");
  layer.elementType = *floatType;
  layer.rows = match.numOutputFeatures;
  layer.cols = match.numInputFeatures;
  std::vector<float> stored;
  if (llvm::Error error =
          readFloats(match.weight, layer.name, "weight", stored))
    return error;
  if (!match.weightIsTransposed) {
    layer.dense = std::move(stored);
    return llvm::Error::success();
  }
  // Stored [K, N]: the formats want [N, K].
  layer.dense.resize(stored.size());
  for (int64_t k = 0; k < layer.cols; ++k)
    for (int64_t n = 0; n < layer.rows; ++n)
      layer.dense[n * layer.cols + k] = stored[k * layer.rows + n];
  return llvm::Error::success();
}

llvm::Expected<ExportModel> slr::collectExportModel(ModuleOp module) {
  ExportModel model;
  Operation *unknown = nullptr;
  module->walk([&](Operation *op) {
    if (!unknown && !isKnownOp(op))
      unknown = op;
  });
  if (unknown)
    return fail("op '" + unknown->getName().getStringRef() + "' at " +
                describeLocation(unknown) +
                " is not one of slr-import's forms or slr.linear; "
                "slr-export reads the IR of slr-import and --slr-compress");

  auto addLayer = [&](Operation *op, ExportLayer layer) -> llvm::Error {
    if (!model.layerIndex.try_emplace(layer.name, model.layers.size()).second)
      return fail("two linear layers are named '" + layer.name + "' (at " +
                  describeLocation(op) + ")");
    model.layers.push_back(std::move(layer));
    return llvm::Error::success();
  };
  auto stableName = [&](Operation *op) -> llvm::Expected<std::string> {
    auto name = op->getAttrOfType<StringAttr>(kLayerNameAttr);
    if (!name || name.getValue().empty())
      return fail("the linear layer '" + op->getName().getStringRef() +
                  "' at " + describeLocation(op) +
                  " has no slr.name, so no tensor of a checkpoint to map to");
    return name.str();
  };

  // Walk order: slr.linear and the remaining weight matmuls interleave as
  // in the model.
  llvm::Error error = llvm::Error::success();
  (void)!!error;
  // Names the layer of `op`, reads it with `read` and adds it.
  auto takeLayer = [&](Operation *op,
                       llvm::function_ref<llvm::Error(ExportLayer &)> read) {
    auto name = stableName(op);
    if (!name) {
      error = name.takeError();
      return WalkResult::interrupt();
    }
    ExportLayer layer;
    layer.name = *name;
    if ((error = read(layer)) || (error = addLayer(op, std::move(layer))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  };
  module->walk([&](Operation *op) -> WalkResult {
    if (auto linear = dyn_cast<LinearOp>(op))
      return takeLayer(op, [&](ExportLayer &layer) {
        return readCompressedLayer(linear, layer);
      });
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp)
      return WalkResult::advance();
    LinearMatchFailure failure;
    std::optional<ConstantWeightLinear> match =
        matchConstantWeightLinear(linalgOp, failure);
    if (!match)
      return WalkResult::advance(); // attention products, not a layer
    return takeLayer(op, [&](ExportLayer &layer) {
      return readDenseLayer(*match, layer);
    });
  });
  if (error)
    return error;

  // The importer names each blob after its source tensor; these are what
  // the export checks against the source checkpoint.
  module->walk([&](arith::ConstantOp constant) {
    auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
    if (!resource)
      return;
    std::vector<float> values;
    std::string ignored;
    if (readFloatElements(cast<ElementsAttr>(resource), values, ignored))
      model.namedConstants[resource.getRawHandle().getKey()] =
          std::move(values);
  });
  return model;
}
