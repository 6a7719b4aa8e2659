//===- ExternalizeWeights.cpp - --slr-externalize-weights -----------------===//

#include "slr/Dialect/SLR/Transforms/ExternalWeights.h"
#include "slr/Dialect/SLR/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace slr {
#define GEN_PASS_DEF_SLREXTERNALIZEWEIGHTS
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

/// Bytes per element of the types whose attribute bytes are the memory
/// layout, else 0 (i1 is bit-packed in dense attributes, index has no fixed
/// width, complex and others are not weights).
static uint64_t bindableElementBytes(Type type) {
  if (!isa<IntegerType, FloatType>(type))
    return 0;
  unsigned width = type.getIntOrFloatBitWidth();
  return width == 8 || width == 16 || width == 32 || width == 64 ? width / 8
                                                                 : 0;
}

std::optional<ArrayRef<char>> slr::getBindableBytes(ElementsAttr value) {
  if (!value)
    return std::nullopt;
  auto type = cast<ShapedType>(value.getType());
  uint64_t elementBytes = bindableElementBytes(type.getElementType());
  if (!elementBytes || !type.hasStaticShape())
    return std::nullopt;
  uint64_t expected =
      static_cast<uint64_t>(type.getNumElements()) * elementBytes;
  ArrayRef<char> bytes;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob) // elided or never defined
      return std::nullopt;
    bytes = blob->getData();
  } else if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(value)) {
    if (dense.isSplat())
      return std::nullopt;
    bytes = dense.getRawData();
  } else {
    return std::nullopt;
  }
  if (bytes.size() != expected)
    return std::nullopt;
  return bytes;
}

llvm::Expected<std::vector<ExternalWeight>>
slr::getExternalWeights(ModuleOp module) {
  std::vector<ExternalWeight> weights;
  Attribute attr = module->getAttr(kExternalWeightsAttrName);
  if (!attr)
    return weights;
  auto dictionary = dyn_cast<DictionaryAttr>(attr);
  if (!dictionary)
    return llvm::createStringError(kExternalWeightsAttrName +
                                   " is not a dictionary");
  for (NamedAttribute entry : dictionary) {
    auto value = dyn_cast<ElementsAttr>(entry.getValue());
    std::optional<ArrayRef<char>> bytes = getBindableBytes(value);
    if (!bytes)
      return llvm::createStringError(kExternalWeightsAttrName + " entry '" +
                                     entry.getName().strref() +
                                     "' has no bytes to bind");
    weights.push_back(
        {entry.getName().strref(), *bytes,
         bindableElementBytes(
             cast<ShapedType>(value.getType()).getElementType())});
  }
  return weights;
}

namespace {

struct SLRExternalizeWeightsPass
    : slr::impl::SLRExternalizeWeightsBase<SLRExternalizeWeightsPass> {
  using SLRExternalizeWeightsBase::SLRExternalizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    NamedAttrList bindings;
    if (auto existing =
            module->getAttrOfType<DictionaryAttr>(kExternalWeightsAttrName))
      bindings.append(existing.getValue());
    for (auto global : module.getOps<memref::GlobalOp>()) {
      if (!global.getConstant() || global.isExternal() ||
          global.isUninitialized() ||
          !global.getType().getLayout().isIdentity())
        continue;
      auto value = dyn_cast<ElementsAttr>(*global.getInitialValue());
      std::optional<ArrayRef<char>> bytes = getBindableBytes(value);
      if (!bytes || static_cast<int64_t>(bytes->size()) < minBytes)
        continue;
      bindings.set(global.getSymNameAttr(), value);
      global.removeInitialValueAttr();
      // An LLVM declaration must have external linkage, which
      // finalize-memref-to-llvm gives public globals.
      global.setPublic();
      // The bytes carry no alignment beyond their elements' (bytecode blobs
      // sit at any multiple of it in the file).
      global.setAlignment(
          bindableElementBytes(global.getType().getElementType()));
    }
    if (!bindings.empty())
      module->setAttr(kExternalWeightsAttrName, bindings.getDictionary(ctx));
  }
};

} // namespace
