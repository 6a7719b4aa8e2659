//===- SLRToGPU.cpp - slr.linear to tensor-core GPU kernels ---------------===//
//
// --convert-slr-to-gpu: for every 2:4 f16/bf16 slr.linear, generate the
// kernels (KernelBuilder.cpp) and replace the op by
//
//   %xb = bufferization.to_buffer %x2d  (and the weights; constant 2:4
//          positions become constant metadata words reordered here)
//   %yb = memref.alloc(%M)
//   func.call @<launcher>(%xb, ..., %yb)
//   %y  = bufferization.to_tensor %yb restrict writable
//
// where the launcher is a private declaration carrying its launch recipe
// (`slr.gpu_launcher`); --slr-gpu-materialize-launchers writes its body after
// bufferization and buffer deallocation, which reject gpu host ops.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToGPU/SLRToGPU.h"
#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/FormatVariadic.h"

namespace slr {
#define GEN_PASS_DEF_CONVERTSLRTOGPU
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

/// Metadata words above this count become a dense_resource blob rather than
/// a textual dense attribute.
constexpr int64_t kInlineMetadataLimit = 4096;

/// [..., K] -> [M, K] with a dynamic M, like the reference lowering.
Value flattenInput(OpBuilder &b, Location loc, Value input, int64_t k) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  if (rank == 1) {
    input = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, k}, type.getElementType()), input,
        {ReassociationIndices{0, 1}});
  } else if (rank > 2) {
    ReassociationIndices batch;
    for (int64_t dim = 0; dim < rank - 1; ++dim)
      batch.push_back(dim);
    input = tensor::CollapseShapeOp::create(
        b, loc, input,
        ArrayRef<ReassociationIndices>{batch, ReassociationIndices{rank - 1}});
  }
  auto dynType =
      RankedTensorType::get({ShapedType::kDynamic, k}, type.getElementType());
  if (input.getType() != dynType)
    input = tensor::CastOp::create(b, loc, dynType, input);
  return input;
}

/// [M, N] (dynamic M) -> the op's result type.
Value restoreOutput(OpBuilder &b, Location loc, Value result, Value input,
                    RankedTensorType outputType) {
  int64_t rank = outputType.getRank();
  int64_t n = outputType.getDimSize(rank - 1);
  if (rank == 1) {
    auto static2d = RankedTensorType::get({1, n}, outputType.getElementType());
    result = tensor::CastOp::create(b, loc, static2d, result);
    return tensor::CollapseShapeOp::create(
        b, loc, result,
        ArrayRef<ReassociationIndices>{ReassociationIndices{0, 1}});
  }
  if (rank == 2) {
    if (result.getType() != outputType)
      result = tensor::CastOp::create(b, loc, outputType, result);
    return result;
  }
  ReassociationIndices batch;
  SmallVector<OpFoldResult> shape;
  for (int64_t dim = 0; dim < rank - 1; ++dim) {
    batch.push_back(dim);
    if (outputType.isDynamicDim(dim))
      shape.push_back(tensor::DimOp::create(b, loc, input, dim).getResult());
    else
      shape.push_back(b.getIndexAttr(outputType.getDimSize(dim)));
  }
  shape.push_back(b.getIndexAttr(n));
  return tensor::ExpandShapeOp::create(b, loc, outputType, result,
                                       {batch, ReassociationIndices{rank - 1}},
                                       shape);
}

Value toBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

struct ConvertSLRToGPUPass
    : slr::impl::ConvertSLRToGPUBase<ConvertSLRToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<PlantedDefect> planted = parsePlantedDefect(testDefect);
    if (!planted) {
      module.emitError() << "unknown test-defect '" << testDefect
                         << "' (none, drop-barrier, short-wait, "
                            "read-past-tile)";
      return signalPassFailure();
    }
    defect = *planted;
    SmallVector<LinearOp> ops;
    module.walk([&](LinearOp op) {
      if (!op->getParentOfType<mlir::gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    bool failedAny = false;
    for (LinearOp op : ops)
      if (failed(convert(op)))
        failedAny = true;
    if (failedAny)
      signalPassFailure();
  }

  PlantedDefect defect = PlantedDefect::None;

  mlir::gpu::GPUModuleOp getOrCreateKernelModule() {
    ModuleOp module = getOperation();
    if (auto existing =
            module.lookupSymbol<mlir::gpu::GPUModuleOp>(kernelModule))
      return existing;
    module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(module.getContext()));
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    return mlir::gpu::GPUModuleOp::create(b, module.getLoc(), kernelModule);
  }

  LogicalResult convert(LinearOp op) {
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    Type elementType = inputType.getElementType();
    NMSparsityAttr pattern = op.getPattern();
    if (pattern.getN() != 2 || pattern.getM() != 4)
      return op.emitOpError()
             << "cannot be lowered to the GPU: only the 2:4 pattern maps to "
                "sparse tensor cores (got "
             << pattern.getN() << ":" << pattern.getM() << ")";
    if (inputType.isDynamicDim(inputType.getRank() - 1))
      return op.emitOpError()
             << "cannot be lowered to the GPU: K must be static";

    SLRLinearKernelSpec spec;
    spec.n = op.getOutputFeatures();
    spec.k = op.getInputFeatures();
    spec.rank = op.getLowRank();
    spec.elementType = elementType;
    spec.hasBias = static_cast<bool>(op.getBias());
    spec.tiles = {tileN, tileM, tileK, warpsN, warpsM, stages};
    spec.defect = defect;
    if (std::optional<std::string> error = checkSLRLinearKernelSpec(spec))
      return op.emitOpError() << "cannot be lowered to the GPU: " << *error;

    // Positions: reorder now when they are constants.
    auto positionsType = cast<RankedTensorType>(op.getPositions().getType());
    std::vector<uint32_t> words;
    bool constantPositions = false;
    ElementsAttr positionsAttr;
    if (matchPattern(op.getPositions(), m_Constant(&positionsAttr))) {
      std::optional<std::vector<uint8_t>> nibbles =
          readPositionNibbles(positionsAttr);
      if (nibbles) {
        words.resize(mma::metadataWordCount(spec.n, spec.k));
        int64_t badRow = 0, badGroup = 0;
        if (!mma::reorderMetadata(nibbles->data(), spec.n, spec.k, words.data(),
                                  &badRow, &badGroup))
          return op.emitOpError()
                 << "cannot be lowered to the GPU: 2:4 group " << badGroup
                 << " of row " << badRow
                 << " does not hold two distinct ascending positions "
                    "(required by mma.sp ordered metadata)";
        constantPositions = true;
      }
    }

    mlir::gpu::GPUModuleOp kernelModuleOp = getOrCreateKernelModule();
    OpBuilder b(op);
    SLRLinearKernels kernels = buildSLRLinearKernels(b, kernelModuleOp, spec);
    mlir::gpu::GPUFuncOp reorder;
    if (!constantPositions)
      reorder = buildMetadataReorderKernel(b, kernelModuleOp, spec.n, spec.k,
                                           positionsType.getElementType());

    // Operands as buffers, in launcher order.
    Value x2d = flattenInput(b, loc, op.getInput(), spec.k);
    SmallVector<Value> args = {toBuffer(b, loc, x2d),
                               toBuffer(b, loc, op.getValues())};
    if (constantPositions) {
      auto metaType = RankedTensorType::get(
          {static_cast<int64_t>(words.size())}, b.getI32Type());
      ElementsAttr metaAttr;
      if (static_cast<int64_t>(words.size()) <= kInlineMetadataLimit)
        metaAttr = DenseElementsAttr::get(metaType, ArrayRef<uint32_t>(words));
      else
        metaAttr = DenseResourceElementsAttr::get(
            metaType, "slr_gpu_metadata",
            HeapAsmResourceBlob::allocateAndCopyInferAlign(
                ArrayRef<uint32_t>(words)));
      Value meta = arith::ConstantOp::create(b, loc, metaType,
                                             cast<TypedAttr>(metaAttr));
      args.push_back(toBuffer(b, loc, meta));
    } else {
      args.push_back(toBuffer(b, loc, op.getPositions()));
    }
    if (spec.rank) {
      args.push_back(toBuffer(b, loc, op.getLowRankU()));
      args.push_back(toBuffer(b, loc, op.getLowRankV()));
    }
    if (spec.hasBias)
      args.push_back(toBuffer(b, loc, op.getBias()));
    Value rows = tensor::DimOp::create(b, loc, x2d, 0);
    auto yType = MemRefType::get({ShapedType::kDynamic, spec.n}, elementType);
    Value y = memref::AllocOp::create(b, loc, yType, ValueRange{rows});
    args.push_back(y);

    // Constant weights stay on the device across calls.
    auto isConstant = [](Value v) {
      return !v || matchPattern(v, m_Constant());
    };
    bool resident = constantPositions && isConstant(op.getValues()) &&
                    isConstant(op.getLowRankU()) &&
                    isConstant(op.getLowRankV()) && isConstant(op.getBias());
    func::FuncOp launcher =
        getOrCreateLauncher(kernelModuleOp, kernels, reorder, spec, args,
                            constantPositions, resident);
    func::CallOp::create(b, loc, launcher, args);
    auto resultType =
        RankedTensorType::get({ShapedType::kDynamic, spec.n}, elementType);
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, y, /*restrict=*/true, /*writable=*/true);
    result =
        restoreOutput(b, loc, result, op.getInput(), op.getOutput().getType());
    op.replaceAllUsesWith(result);
    op.erase();
    return success();
  }

  /// A private declaration whose `slr.gpu_launcher` dictionary tells
  /// --slr-gpu-materialize-launchers how to launch the kernels.
  func::FuncOp getOrCreateLauncher(mlir::gpu::GPUModuleOp kernelModuleOp,
                                   SLRLinearKernels kernels,
                                   mlir::gpu::GPUFuncOp reorder,
                                   const SLRLinearKernelSpec &spec,
                                   ValueRange args, bool constantPositions,
                                   bool resident) {
    ModuleOp module = getOperation();
    // Launchers are shared by ops of one shape; with positions reordered on
    // the device, their integer type is part of the signature too.
    std::string dynamicSuffix;
    if (!constantPositions)
      dynamicSuffix =
          llvm::formatv("_dynmeta_i{0}", cast<MemRefType>(args[2].getType())
                                             .getElementType()
                                             .getIntOrFloatBitWidth())
              .str();
    std::string name = llvm::formatv("{0}_launch{1}{2}", kernels.main.getName(),
                                     dynamicSuffix, resident ? "_resident" : "")
                           .str();
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    MLIRContext *ctx = module.getContext();
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto funcType = FunctionType::get(ctx, ValueRange(args).getTypes(), {});
    auto launcher = func::FuncOp::create(b, module.getLoc(), name, funcType);
    launcher.setPrivate();

    auto kernelRef = [&](mlir::gpu::GPUFuncOp kernel) {
      return SymbolRefAttr::get(kernelModuleOp.getNameAttr(),
                                {FlatSymbolRefAttr::get(kernel.getNameAttr())});
    };
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    SmallVector<NamedAttribute> recipe = {
        b.getNamedAttr("main", kernelRef(kernels.main)),
        b.getNamedAttr("n", i64(spec.n)),
        b.getNamedAttr("k", i64(spec.k)),
        b.getNamedAttr("rank", i64(spec.rank)),
        b.getNamedAttr("has_bias", b.getBoolAttr(spec.hasBias)),
        b.getNamedAttr("resident", b.getBoolAttr(resident)),
        b.getNamedAttr("tile_n", i64(spec.tiles.tileN)),
        b.getNamedAttr("tile_m", i64(spec.tiles.tileM)),
        b.getNamedAttr("threads", i64(kernels.threads)),
        b.getNamedAttr("shared_bytes", i64(kernels.mainSharedBytes)),
        b.getNamedAttr("meta_words",
                       i64(mma::metadataWordCount(spec.n, spec.k)))};
    if (kernels.lowRank) {
      recipe.push_back(b.getNamedAttr("lowrank", kernelRef(kernels.lowRank)));
      recipe.push_back(
          b.getNamedAttr("lowrank_tile_n", i64(kernels.lowRankTileN)));
      recipe.push_back(
          b.getNamedAttr("lowrank_tile_m", i64(kernels.lowRankTileM)));
      recipe.push_back(
          b.getNamedAttr("lowrank_threads", i64(kernels.lowRankThreads)));
      recipe.push_back(b.getNamedAttr("lowrank_shared_bytes",
                                      i64(kernels.lowRankSharedBytes)));
      recipe.push_back(b.getNamedAttr("k_blocks", i64(kernels.kBlocks)));
    }
    if (reorder)
      recipe.push_back(b.getNamedAttr("reorder", kernelRef(reorder)));
    launcher->setAttr(kLauncherAttrName, b.getDictionaryAttr(recipe));
    return launcher;
  }
};

} // namespace

std::optional<std::vector<uint8_t>>
slr::readPositionNibbles(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isInteger())
    return std::nullopt;
  int64_t count = type.getNumElements();
  std::vector<uint8_t> nibbles;
  nibbles.reserve(count);
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (const APInt &v : dense.getValues<APInt>())
      nibbles.push_back(static_cast<uint8_t>(v.getZExtValue() & 0xF));
    return nibbles;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    unsigned bytes = (type.getElementTypeBitWidth() + 7) / 8;
    if (static_cast<int64_t>(data.size()) != count * bytes)
      return std::nullopt;
    // Little-endian host: the low byte of every element comes first.
    for (int64_t i = 0; i < count; ++i)
      nibbles.push_back(static_cast<uint8_t>(data[i * bytes]) & 0xF);
    return nibbles;
  }
  return std::nullopt;
}
