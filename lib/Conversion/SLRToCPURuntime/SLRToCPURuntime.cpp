//===- SLRToCPURuntime.cpp - slr.linear to the CPU kernel -----------------===//
//
// --convert-slr-to-cpu-runtime: every slr.linear the runtime kernel takes
// becomes
//
//   %xb = bufferization.to_buffer %x2d        (and the packed weights)
//   %yb = memref.alloc(%M)
//   func.call @slr_rt_sparse_linear_<t>_i<w>(%xb, %values, %positions, %u,
//                                            %v, %bias, %yb, %n, %m)
//   %y  = bufferization.to_tensor %yb restrict writable
//
// with every memref cast to a fully dynamic strided type, so that one
// declaration per element and position type serves all shapes.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToCPURuntime/SLRToCPURuntime.h"
#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Dialect/SLR/Utils/RowMatrix.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace slr {
#define GEN_PASS_DEF_CONVERTSLRTOCPURUNTIME
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

/// memref<?x..x?xT, strided<[?, ..], offset: ?>>: what the runtime takes.
MemRefType dynamicType(MLIRContext *ctx, unsigned rank, Type elementType) {
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  return MemRefType::get(
      shape, elementType,
      StridedLayoutAttr::get(ctx, ShapedType::kDynamic, shape));
}

/// The name suffix of an element type the kernel stores, or "".
StringRef typeSuffix(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  return "";
}

struct ConvertSLRToCPURuntimePass
    : slr::impl::ConvertSLRToCPURuntimeBase<ConvertSLRToCPURuntimePass> {
  void runOnOperation() override {
    SmallVector<LinearOp> ops;
    getOperation().walk([&](LinearOp op) {
      if (!op->getParentOfType<gpu::GPUModuleOp>())
        ops.push_back(op);
    });
    for (LinearOp op : ops)
      convert(op);
  }

  static bool isKernelPositionType(Type type) {
    unsigned width = type.getIntOrFloatBitWidth();
    return type.isSignlessInteger() &&
           (width == 8 || width == 16 || width == 32 || width == 64);
  }

  void convert(LinearOp op) {
    Type elementType = op.getInput().getType().getElementType();
    Type positionType = op.getPositions().getType().getElementType();
    StringRef suffix = typeSuffix(elementType);
    // Other position widths stay for --convert-slr-to-linalg.
    if (suffix.empty() || !isKernelPositionType(positionType))
      return;
    MLIRContext *ctx = op.getContext();
    OpBuilder b(op);
    Location loc = op.getLoc();
    int64_t n = op.getOutputFeatures();

    auto asArgument = [&](Value tensor) -> Value {
      auto type = cast<RankedTensorType>(tensor.getType());
      Value buffer = bufferization::ToBufferOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()),
          tensor, /*read_only=*/true);
      return memref::CastOp::create(
          b, loc, dynamicType(ctx, type.getRank(), type.getElementType()),
          buffer);
    };
    auto empty = [&](unsigned rank) -> Value {
      auto type =
          RankedTensorType::get(SmallVector<int64_t>(rank, 0), elementType);
      Value constant = arith::ConstantOp::create(
          b, loc, type, DenseElementsAttr::get(type, ArrayRef<Attribute>{}));
      return asArgument(constant);
    };

    Value x2d = collapseToRowMatrix(b, loc, op.getInput());
    auto x2dType = cast<RankedTensorType>(x2d.getType());
    SmallVector<Value> args = {asArgument(x2d), asArgument(op.getValues()),
                               asArgument(op.getPositions())};
    if (op.getLowRankU()) {
      args.push_back(asArgument(op.getLowRankU()));
      args.push_back(asArgument(op.getLowRankV()));
    } else {
      args.push_back(empty(2));
      args.push_back(empty(2));
    }
    args.push_back(op.getBias() ? asArgument(op.getBias()) : empty(1));

    SmallVector<Value> dynamicRows;
    if (x2dType.isDynamicDim(0))
      dynamicRows.push_back(tensor::DimOp::create(b, loc, x2d, 0));
    auto yType = MemRefType::get({x2dType.getDimSize(0), n}, elementType);
    Value y = memref::AllocOp::create(b, loc, yType, dynamicRows);
    args.push_back(
        memref::CastOp::create(b, loc, dynamicType(ctx, 2, elementType), y));
    NMSparsityAttr pattern = op.getPattern();
    args.push_back(arith::ConstantIntOp::create(b, loc, pattern.getN(), 64));
    args.push_back(arith::ConstantIntOp::create(b, loc, pattern.getM(), 64));

    std::string name = (Twine(kRuntimeSparseLinearPrefix) + suffix + "_i" +
                        Twine(positionType.getIntOrFloatBitWidth()))
                           .str();
    func::CallOp::create(b, loc, declare(name, ValueRange(args).getTypes()),
                         args);
    Value result = bufferization::ToTensorOp::create(
        b, loc, RankedTensorType::get(yType.getShape(), elementType), y,
        /*restrict=*/true, /*writable=*/true);
    result = expandFromRowMatrix(b, loc, result, op.getInput(),
                                 op.getOutput().getType());
    if (result.getType() != op.getOutput().getType())
      result = tensor::CastOp::create(b, loc, op.getOutput().getType(), result);
    op.replaceAllUsesWith(result);
    op.erase();
  }

  func::FuncOp declare(StringRef name, TypeRange types) {
    ModuleOp module = getOperation();
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto func = func::FuncOp::create(b, module.getLoc(), name,
                                     b.getFunctionType(types, {}));
    func.setPrivate();
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return func;
  }
};

} // namespace
