//===- LinearToGPU.cpp - slr.linear to tensor-core GPU kernels ------------===//
//
// The rewrite pattern of --convert-slr-to-gpu for slr.linear: generate the
// kernels of the variant chooseKernelVariant picks (KernelBuilder.cpp) and
// replace the op by
//
//   %xb = bufferization.to_buffer %x2d  (and the weights; constant 2:4
//          positions become constant metadata words reordered here)
//   %yb = memref.alloc(%M)   (or the caller's buffer the result is
//          materialized into, see resultDestination)
//   func.call @<launcher>(%xb, ..., %yb)
//   %y  = bufferization.to_tensor %yb restrict writable
//
// where the launcher is a private declaration carrying its launch recipe
// (`slr.gpu_launcher = #slr.gpu_launch<...>`); --slr-gpu-materialize-launchers
// writes its body after bufferization and buffer deallocation, which reject
// gpu host ops. An op the kernels cannot take is declined with the reason.
//
//===----------------------------------------------------------------------===//

#include "SLRToGPUPatterns.h"

#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/Support/FormatVariadic.h"

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
  // A static batch: the collapsed side must be static too.
  if (outputType.hasStaticShape())
    result = tensor::CastOp::create(
        b, loc,
        RankedTensorType::get({outputType.getNumElements() / n, n},
                              outputType.getElementType()),
        result);
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

/// The rows of x that an input of `type` (rows are all leading dimensions)
/// may have.
SLRLinearRowRange rowRange(RankedTensorType type) {
  int64_t rows = 1;
  for (int64_t dim = 0; dim + 1 < type.getRank(); ++dim) {
    if (type.isDynamicDim(dim))
      return {};
    rows *= type.getDimSize(dim);
  }
  return {rows, rows};
}

/// The caller's buffer that the op's result is materialized into right
/// away (`bufferization.materialize_in_destination %y in restrict writable
/// %buffer`, nothing touching memory in between), or null. The launcher
/// writes y there directly: no copy, and none to the host when the buffer
/// is device memory.
bufferization::MaterializeInDestinationOp resultDestination(LinearOp op) {
  Value result = op.getOutput();
  if (!result.hasOneUse() ||
      cast<RankedTensorType>(result.getType()).getRank() != 2)
    return {};
  auto materialize = dyn_cast<bufferization::MaterializeInDestinationOp>(
      *result.getUsers().begin());
  if (!materialize || materialize->getBlock() != op->getBlock())
    return {};
  auto dest = dyn_cast<MemRefType>(materialize.getDest().getType());
  if (!dest || !dest.getLayout().isIdentity() ||
      dest.getMemorySpace() != nullptr)
    return {};
  for (Operation *between = op->getNextNode(); between != materialize;
       between = between->getNextNode())
    if (!isMemoryEffectFree(between))
      return {};
  return materialize;
}

struct LinearToGPUKernels : OpRewritePattern<LinearOp> {
  LinearToGPUKernels(MLIRContext *ctx, const SLRToGPUPatternOptions &options)
      : OpRewritePattern<LinearOp>(ctx), options(options) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (op->getParentOfType<mlir::gpu::GPUModuleOp>())
      return rewriter.notifyMatchFailure(op, "inside a gpu.module");
    auto module = op->getParentOfType<ModuleOp>();
    if (!module)
      return rewriter.notifyMatchFailure(op, "not inside a module");
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    Type elementType = inputType.getElementType();
    NMSparsityAttr pattern = op.getPattern();
    if (pattern.getN() != 2 || pattern.getM() != 4)
      return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
        diag << "only the 2:4 pattern maps to sparse tensor cores (got "
             << pattern.getN() << ":" << pattern.getM() << ")";
      });
    if (inputType.isDynamicDim(inputType.getRank() - 1))
      return rewriter.notifyMatchFailure(op, "K must be static");

    std::string whyNot;
    SLRLinearRowRange rowBound = rowRange(inputType);
    FailureOr<GPUKernelVariant> variant =
        chooseKernelVariant(options.chip, rowBound, whyNot);
    if (failed(variant))
      return rewriter.notifyMatchFailure(op, whyNot);

    SLRLinearKernelSpec spec;
    spec.variant = *variant;
    spec.n = op.getOutputFeatures();
    spec.k = op.getInputFeatures();
    spec.rank = op.getLowRank();
    spec.elementType = elementType;
    spec.hasBias = static_cast<bool>(op.getBias());
    spec.tiles = options.tiles;
    spec.maxRows = rowBound.max;
    spec.defect = options.defect;
    std::optional<std::string> error = checkSLRLinearKernelSpec(spec);
    if (error && (spec.variant == GPUKernelVariant::DecodeSm80 ||
                  spec.variant == GPUKernelVariant::WgmmaSpSm90a)) {
      // A shape the decode kernel does not take (K not a multiple of 64),
      // or the wgmma kernel does not tile (N not a multiple of 128, K of
      // 64, the rank of 64), keeps the mma.sp kernels.
      spec.variant = GPUKernelVariant::MmaSpSm80;
      error = checkSLRLinearKernelSpec(spec);
    }
    if (error)
      return rewriter.notifyMatchFailure(op, *error);

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
          return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
            diag << "2:4 group " << badGroup << " of row " << badRow
                 << " does not hold two distinct ascending positions "
                    "(required by mma.sp ordered metadata)";
          });
        constantPositions = true;
      }
    }

    mlir::gpu::GPUModuleOp kernelModuleOp =
        getOrCreateKernelModule(rewriter, module);
    PatternRewriter &b = rewriter;
    b.setInsertionPoint(op);
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
    bufferization::MaterializeInDestinationOp destination =
        resultDestination(op);
    Value y = destination
                  ? memref::CastOp::create(b, loc, yType, destination.getDest())
                        .getResult()
                  : memref::AllocOp::create(b, loc, yType, ValueRange{rows})
                        .getResult();
    args.push_back(y);

    // Constant weights stay on the device across calls.
    auto isConstant = [](Value v) {
      return !v || matchPattern(v, m_Constant());
    };
    bool resident = constantPositions && isConstant(op.getValues()) &&
                    isConstant(op.getLowRankU()) &&
                    isConstant(op.getLowRankV()) && isConstant(op.getBias());
    func::FuncOp launcher =
        getOrCreateLauncher(rewriter, module, kernelModuleOp, kernels, reorder,
                            spec, args, constantPositions, resident);
    func::CallOp::create(b, loc, launcher, args);
    auto resultType =
        RankedTensorType::get({ShapedType::kDynamic, spec.n}, elementType);
    Value result = bufferization::ToTensorOp::create(
        b, loc, resultType, y, /*restrict=*/true, /*writable=*/true);
    result =
        restoreOutput(b, loc, result, op.getInput(), op.getOutput().getType());
    if (destination)
      rewriter.eraseOp(destination);
    rewriter.replaceOp(op, result);
    return success();
  }

  mlir::gpu::GPUModuleOp getOrCreateKernelModule(PatternRewriter &rewriter,
                                                 ModuleOp module) const {
    if (auto existing =
            module.lookupSymbol<mlir::gpu::GPUModuleOp>(options.kernelModule))
      return existing;
    rewriter.modifyOpInPlace(module, [&] {
      module->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(),
                      UnitAttr::get(module.getContext()));
    });
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToEnd(module.getBody());
    return mlir::gpu::GPUModuleOp::create(rewriter, module.getLoc(),
                                          options.kernelModule);
  }

  /// A private declaration whose `slr.gpu_launcher` recipe tells
  /// --slr-gpu-materialize-launchers how to launch the kernels.
  func::FuncOp getOrCreateLauncher(PatternRewriter &rewriter, ModuleOp module,
                                   mlir::gpu::GPUModuleOp kernelModuleOp,
                                   SLRLinearKernels kernels,
                                   mlir::gpu::GPUFuncOp reorder,
                                   const SLRLinearKernelSpec &spec,
                                   ValueRange args, bool constantPositions,
                                   bool resident) const {
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
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(module.getBody());
    auto funcType =
        FunctionType::get(module.getContext(), ValueRange(args).getTypes(), {});
    auto launcher =
        func::FuncOp::create(rewriter, module.getLoc(), name, funcType);
    launcher.setPrivate();
    launcher->setAttr(kLauncherAttrName,
                      getSLRLinearLaunchAttr(kernelModuleOp, spec, kernels,
                                             reorder, resident));
    return launcher;
  }

  SLRToGPUPatternOptions options;
};

} // namespace

void slr::populateSLRToGPUConversionPatterns(
    RewritePatternSet &patterns, const SLRToGPUPatternOptions &options) {
  patterns.add<LinearToGPUKernels>(patterns.getContext(), options);
}

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
