//===- PackedImport.cpp - Packed safetensors back into the model IR -------===//
//
// The reader of exportPacked's file: each sparse + low-rank layer it holds
// replaces the dense matmul of the same slr.name with slr.linear, taking the
// values, positions, U, V and bias as stored, so the IR is the compressed
// IR again.
//
//===----------------------------------------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"
#include "slr/Export/Export.h"
#include "slr/Sparsity/NMLayout.h"
#include "slr/Support/Nesting.h"
#include "slr/Support/Safetensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace slr;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError("packed: " + message);
}

namespace {
struct PackedLayer {
  std::string name;
  int64_t rows = 0, cols = 0, rank = 0;
  unsigned n = 0, m = 0;
  bool bias = false;
};
} // namespace

static llvm::Expected<std::vector<PackedLayer>>
readLayerList(const SafetensorsFile &file) {
  if (file.metadata("format") != "slr.packed")
    return fail("metadata 'format' is '" + file.metadata("format") +
                "', expected 'slr.packed'");
  llvm::Expected<llvm::json::Value> parsed =
      parseUntrustedJSON(file.metadata("layers"));
  if (!parsed)
    return fail("metadata 'layers': " + llvm::toString(parsed.takeError()));
  const llvm::json::Array *array = parsed->getAsArray();
  if (!array)
    return fail("metadata 'layers' is not a list");
  std::vector<PackedLayer> layers;
  for (const llvm::json::Value &value : *array) {
    const llvm::json::Object *object = value.getAsObject();
    if (!object)
      return fail("metadata 'layers' holds a non-object");
    std::optional<llvm::StringRef> name = object->getString("name");
    std::optional<llvm::StringRef> kind = object->getString("kind");
    std::optional<int64_t> rows = object->getInteger("rows");
    std::optional<int64_t> cols = object->getInteger("cols");
    if (!name || !kind || !rows || !cols)
      return fail("a layer entry lacks name, kind, rows or cols");
    if (*kind == "dense")
      continue; // the checkpoint's weight, as in the IR already
    std::optional<int64_t> n = object->getInteger("n");
    std::optional<int64_t> m = object->getInteger("m");
    std::optional<int64_t> rank = object->getInteger("rank");
    std::optional<bool> bias = object->getBoolean("bias");
    if (*kind != "sparse_lowrank" || !n || !m || !rank || !bias)
      return fail("layer '" + *name + "': kind '" + *kind +
                  "' or its n, m, rank, bias are not what this reader knows");
    if (*n <= 0 || *m <= 0 || *m > 64 ||
        !isSupportedPattern(static_cast<unsigned>(*n),
                            static_cast<unsigned>(*m)) ||
        *rows <= 0 || *cols <= 0 || *cols % *m != 0 || *rank < 0 ||
        *rank > std::min(*rows, *cols))
      return fail("layer '" + *name + "': n:m " + llvm::Twine(*n) + ":" +
                  llvm::Twine(*m) + ", rows " + llvm::Twine(*rows) + ", cols " +
                  llvm::Twine(*cols) + " and rank " + llvm::Twine(*rank) +
                  " do not fit together");
    layers.push_back({name->str(), *rows, *cols, *rank,
                      static_cast<unsigned>(*n), static_cast<unsigned>(*m),
                      *bias});
  }
  return layers;
}

/// A float tensor of the file as float32, checked to have `shape` and the
/// element type `type`.
static llvm::Error readFloats(const SafetensorsFile &file,
                              const std::string &name,
                              llvm::ArrayRef<int64_t> shape, Type type,
                              std::vector<float> &out) {
  const SafetensorsTensor *tensor = file.lookup(name);
  if (!tensor)
    return fail("no tensor '" + name + "'");
  if (llvm::ArrayRef<int64_t>(tensor->shape) != shape)
    return fail("tensor '" + name + "' has another shape than its layer's");
  bool typeMatches = (type.isF32() && tensor->dtype == SafetensorsDType::F32) ||
                     (type.isF16() && tensor->dtype == SafetensorsDType::F16) ||
                     (type.isBF16() && tensor->dtype == SafetensorsDType::BF16);
  if (!typeMatches)
    return fail("tensor '" + name + "' is " +
                getSafetensorsDTypeName(tensor->dtype) +
                ", not the model's element type");
  if (llvm::Error error = file.readAsFloat(*tensor, out))
    return error;
  return llvm::Error::success();
}

llvm::Error slr::applyPackedLayers(ModuleOp module,
                                   const SafetensorsFile &file) {
  llvm::Expected<std::vector<PackedLayer>> layers = readLayerList(file);
  if (!layers)
    return layers.takeError();
  module->getContext()->getOrLoadDialect<SLRDialect>();
  llvm::StringMap<ConstantWeightLinear> matmuls;
  module->walk([&](linalg::LinalgOp op) {
    LinearMatchFailure failure;
    std::optional<ConstantWeightLinear> match =
        matchConstantWeightLinear(op, failure);
    auto name = op->getAttrOfType<StringAttr>(kLayerNameAttr);
    if (match && name)
      matmuls[name.getValue()] = *match;
  });

  for (const PackedLayer &layer : *layers) {
    auto found = matmuls.find(layer.name);
    if (found == matmuls.end())
      return fail("layer '" + layer.name +
                  "' is not a dense layer of the "
                  "model");
    ConstantWeightLinear &match = found->getValue();
    if (match.numOutputFeatures != layer.rows ||
        match.numInputFeatures != layer.cols)
      return fail("layer '" + layer.name + "' is " + llvm::Twine(layer.rows) +
                  "x" + llvm::Twine(layer.cols) + " in the file, " +
                  llvm::Twine(match.numOutputFeatures) + "x" +
                  llvm::Twine(match.numInputFeatures) + " in the model");
    Value input = match.getInput(), init = match.getInit();
    auto fill = init.getDefiningOp<linalg::FillOp>();
    if (!fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
      return fail("layer '" + layer.name +
                  "' accumulates into a non-zero tensor");
    Type elementType = cast<RankedTensorType>(input.getType()).getElementType();
    int64_t groups = layer.cols / layer.m;
    std::vector<float> values, u, v, bias;
    if (llvm::Error error =
            readFloats(file, layer.name + ".values",
                       {layer.rows, groups * layer.n}, elementType, values))
      return error;
    if (layer.rank > 0) {
      if (llvm::Error error =
              readFloats(file, layer.name + ".u", {layer.rows, layer.rank},
                         elementType, u))
        return error;
      if (llvm::Error error =
              readFloats(file, layer.name + ".v", {layer.rank, layer.cols},
                         elementType, v))
        return error;
    }
    if (layer.bias)
      if (llvm::Error error = readFloats(file, layer.name + ".bias",
                                         {layer.rows}, elementType, bias))
        return error;

    const SafetensorsTensor *positionTensor =
        file.lookup(layer.name + ".positions");
    if (!positionTensor)
      return fail("no tensor '" + layer.name + ".positions'");
    unsigned width = 0;
    switch (positionTensor->dtype) {
    case SafetensorsDType::U8:
      width = 8;
      break;
    case SafetensorsDType::U16:
      width = 16;
      break;
    case SafetensorsDType::U32:
      width = 32;
      break;
    case SafetensorsDType::U64:
      width = 64;
      break;
    default:
      break;
    }
    if (width < groupPositionBits(layer.n, layer.m) ||
        positionTensor->shape != std::vector<int64_t>{layer.rows, groups})
      return fail("tensor '" + layer.name + ".positions' must be [" +
                  llvm::Twine(layer.rows) + ", " + llvm::Twine(groups) +
                  "] unsigned words of at least " +
                  llvm::Twine(groupPositionBits(layer.n, layer.m)) + " bits");
    llvm::ArrayRef<uint8_t> bytes = file.rawData(*positionTensor);
    std::vector<uint64_t> positions(layer.rows * groups);
    for (size_t i = 0; i < positions.size(); ++i) {
      uint64_t word = 0;
      for (unsigned b = 0; b < width / 8; ++b)
        word |= static_cast<uint64_t>(bytes[i * (width / 8) + b]) << (8 * b);
      if (!isCanonicalGroupWord(word, layer.n, layer.m))
        return fail("tensor '" + layer.name + ".positions': word " +
                    llvm::Twine(i) + " is not " + llvm::Twine(layer.n) +
                    " ascending positions below " + llvm::Twine(layer.m));
      positions[i] = word;
    }

    Operation *op = match.op;
    OpBuilder builder(op);
    Location loc = op->getLoc();
    MLIRContext *ctx = builder.getContext();
    auto constant = [&](ElementsAttr attr) -> Value {
      return arith::ConstantOp::create(builder, loc, attr);
    };
    Value valuesConst = constant(makeFloatElements(
        RankedTensorType::get({layer.rows, groups * layer.n}, elementType),
        values, layer.name + ".s_values"));
    Value positionsConst = constant(
        makeIntegerElements(RankedTensorType::get({layer.rows, groups},
                                                  IntegerType::get(ctx, width)),
                            positions, layer.name + ".s_positions"));
    Value uConst, vConst, biasConst;
    if (layer.rank > 0) {
      uConst = constant(makeFloatElements(
          RankedTensorType::get({layer.rows, layer.rank}, elementType), u,
          layer.name + ".u"));
      vConst = constant(makeFloatElements(
          RankedTensorType::get({layer.rank, layer.cols}, elementType), v,
          layer.name + ".v"));
    }
    if (layer.bias)
      biasConst = constant(
          makeFloatElements(RankedTensorType::get({layer.rows}, elementType),
                            bias, layer.name + ".bias"));
    Value linear =
        LinearOp::create(builder, loc, cast<RankedTensorType>(init.getType()),
                         input, valuesConst, positionsConst, uConst, vConst,
                         biasConst, NMSparsityAttr::get(ctx, layer.n, layer.m));
    linear.getDefiningOp()->setAttr(kLayerNameAttr,
                                    builder.getStringAttr(layer.name));
    replaceLinearLayer(op, linear, input, init);
    matmuls.erase(found);
  }
  return llvm::Error::success();
}
