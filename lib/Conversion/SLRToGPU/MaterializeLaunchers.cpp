//===- MaterializeLaunchers.cpp - Host bodies of slr GPU launchers --------===//
//
// --slr-gpu-materialize-launchers: every private function carrying a
// `slr.gpu_launcher` recipe (a #slr.gpu_launch, see LinearToGPU.cpp) gets a
// body that uploads its memref arguments, runs the kernels and downloads y:
//
//   %t0 = gpu.wait async
//   device copies of x, values, metadata (or positions + reorder kernel),
//   U, V, bias;  zeroed t [M, r] f32;  y [M, N]
//   gpu.launch_func @lowrank  grid (r/tn, ceil(M/tm), splitK)
//   gpu.launch_func @main     grid (N/tileN, ceil(M/tileM), 1)
//   copy y back, free everything, gpu.wait
//
// all chained on one async token (gpu-to-llvm lowers async ops only), behind
// a branch that returns at once for an empty batch (M = 0). The
// split-K factor of the low-rank kernel grows as M shrinks so that decode
// (M = 1) still spreads V over the GPU.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToGPU/LaunchPolicy.h"
#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Conversion/SLRToGPU/SLRToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace slr {
#define GEN_PASS_DEF_SLRGPUMATERIALIZELAUNCHERS
#include "slr/Conversion/Passes.h.inc"
} // namespace slr

using namespace mlir;
using namespace slr;

namespace {

class LauncherBuilder {
public:
  LauncherBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value c(int64_t v) {
    Value &cached = constants[v];
    if (!cached)
      cached = arith::ConstantIndexOp::create(b, loc, v);
    return cached;
  }
  Value ceilDiv(Value x, int64_t d) {
    return arith::CeilDivUIOp::create(b, loc, x, c(d));
  }

  /// Device buffer shaped like `host` (dynamic sizes taken from it).
  Value alloc(MemRefType type, ValueRange dynamicSizes) {
    auto op = mlir::gpu::AllocOp::create(b, loc, type, tokenType(),
                                         ValueRange{token}, dynamicSizes,
                                         ValueRange{}, /*hostShared=*/false);
    token = op.getAsyncToken();
    buffers.push_back(op.getMemref());
    return op.getMemref();
  }

  SmallVector<Value> dynamicSizes(Value memref) {
    SmallVector<Value> sizes;
    auto type = cast<MemRefType>(memref.getType());
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (type.isDynamicDim(dim))
        sizes.push_back(memref::DimOp::create(b, loc, memref, c(dim)));
    return sizes;
  }

  Value upload(Value host) {
    Value device = alloc(cast<MemRefType>(host.getType()), dynamicSizes(host));
    copy(device, host);
    return device;
  }

  /// The device copy of a constant weight that slrGpuResidentCopy keeps
  /// (uploaded by the first call), as a memref of the weight's type; the
  /// descriptor is built in the LLVM dialect, where the pointer comes from.
  /// Falls back to a per-call upload for a weight that is not a static,
  /// identity-layout buffer.
  Value resident(Value host) {
    auto type = cast<MemRefType>(host.getType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return upload(host);
    MLIRContext *ctx = b.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    Type i64 = b.getI64Type();
    Value index = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, host);
    Value address = arith::IndexCastOp::create(b, loc, i64, index);
    Value hostPtr = LLVM::IntToPtrOp::create(b, loc, ptrType, address);
    int64_t bytes = type.getNumElements() * type.getElementTypeBitWidth() / 8;
    Value size = arith::ConstantIntOp::create(b, loc, bytes, 64);
    Value devicePtr = func::CallOp::create(b, loc, residentCopyFunction(),
                                           ValueRange{hostPtr, size})
                          .getResult(0);
    int64_t rank = type.getRank();
    auto array = LLVM::LLVMArrayType::get(i64, rank);
    auto descType = LLVM::LLVMStructType::getLiteral(
        ctx, {ptrType, ptrType, i64, array, array});
    Value desc = LLVM::PoisonOp::create(b, loc, descType);
    auto field = [&](Value v, ArrayRef<int64_t> position) {
      desc = LLVM::InsertValueOp::create(b, loc, desc, v, position);
    };
    auto constant = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v));
    };
    field(devicePtr, {0});
    field(devicePtr, {1});
    field(constant(0), {2});
    int64_t stride = 1;
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      field(constant(type.getDimSize(dim)), {3, dim});
      field(constant(stride), {4, dim});
      stride *= type.getDimSize(dim);
    }
    return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
  }

  /// `func.func private @slrGpuResidentCopy(!llvm.ptr, i64) -> !llvm.ptr`.
  func::FuncOp residentCopyFunction() {
    auto module =
        b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
    constexpr const char *name = "slrGpuResidentCopy";
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    auto ptrType = LLVM::LLVMPointerType::get(b.getContext());
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    auto function = func::FuncOp::create(
        mb, loc, name,
        mb.getFunctionType({ptrType, mb.getI64Type()}, {ptrType}));
    function.setPrivate();
    return function;
  }

  void copy(Value dst, Value src) {
    token = mlir::gpu::MemcpyOp::create(b, loc, tokenType(), ValueRange{token},
                                        dst, src)
                .getAsyncToken();
  }

  void fill(Value dst, Value value) {
    token = mlir::gpu::MemsetOp::create(b, loc, tokenType(), ValueRange{token},
                                        dst, value)
                .getAsyncToken();
  }

  void launch(SymbolRefAttr kernel, std::array<Value, 3> grid, int64_t threads,
              int64_t sharedBytes, ValueRange args) {
    Value one = c(1);
    Value shared = arith::ConstantIntOp::create(b, loc, sharedBytes, 32);
    auto op = mlir::gpu::LaunchFuncOp::create(
        b, loc, kernel, {grid[0], grid[1], grid[2]}, {c(threads), one, one},
        shared, args, tokenType(), ValueRange{token});
    token = op.getAsyncToken();
  }

  void freeAll() {
    for (Value buffer : buffers)
      token = mlir::gpu::DeallocOp::create(b, loc, tokenType(),
                                           ValueRange{token}, buffer)
                  .getAsyncToken();
  }

  Type tokenType() { return mlir::gpu::AsyncTokenType::get(b.getContext()); }

  OpBuilder &b;
  Location loc;
  Value token;
  SmallVector<Value> buffers;
  llvm::DenseMap<int64_t, Value> constants;
};

/// mma_sp_sm80: the projection kernel (split over K, grown as M shrinks)
/// into t, then the fused kernel.
void materializeTensorCoreLaunches(LauncherBuilder &l, GPULaunchAttr recipe,
                                   Value rows, Value dx, Value dValues,
                                   Value dMeta, Value dU, Value dV, Value dT,
                                   Value dBias, Value dy) {
  OpBuilder &b = l.b;
  Location loc = l.loc;
  SymbolRefAttr main = recipe.getMain(), lowRank = recipe.getLowrank();
  int64_t n = recipe.getN(), rank = recipe.getRank();
  bool hasBias = recipe.getHasBias();
  int64_t tileN = recipe.getTileN(), tileM = recipe.getTileM();
  if (rank) {
    int64_t tn = recipe.getLowrankTileN();
    int64_t tm = recipe.getLowrankTileM();
    int64_t kBlocks = recipe.getKBlocks();
    // splitK = lowRankSplitK() of LaunchPolicy.h, as IR (M is dynamic).
    Value mTiles = l.ceilDiv(rows, tm);
    Value ctas =
        rank / tn == 1
            ? mTiles
            : arith::MulIOp::create(b, loc, l.c(rank / tn), mTiles).getResult();
    ctas = arith::MaxUIOp::create(b, loc, ctas, l.c(1));
    Value splits =
        arith::CeilDivUIOp::create(b, loc, l.c(kLowRankTargetCtas), ctas);
    splits = arith::MinUIOp::create(b, loc, splits, l.c(kBlocks));
    l.launch(lowRank, {l.c(rank / tn), mTiles, splits},
             recipe.getLowrankThreads(), recipe.getLowrankSharedBytes(),
             {dx, dV, dT});
  }
  SmallVector<Value> mainArgs = {dx, dValues, dMeta};
  if (rank)
    mainArgs.append({dU, dT});
  if (hasBias)
    mainArgs.push_back(dBias);
  mainArgs.push_back(dy);
  l.launch(main, {l.c(n / tileN), l.ceilDiv(rows, tileM), l.c(1)},
           recipe.getThreads(), recipe.getSharedBytes(), mainArgs);
}

LogicalResult materialize(func::FuncOp launcher, GPULaunchAttr recipe) {
  // The dialect verified the recipe and the launcher's operand count.
  SymbolRefAttr main = recipe.getMain(), reorder = recipe.getReorder();
  int64_t n = recipe.getN(), rank = recipe.getRank();
  bool hasBias = recipe.getHasBias();
  // Constant weights: kept on the device after the first call.
  bool resident = recipe.getResident();
  bool decode = recipe.getVariant() == GPUKernelVariant::DecodeSm80;

  Location loc = launcher.getLoc();
  Block *entry = launcher.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  LauncherBuilder l(b, loc);
  unsigned argIdx = 0;
  Value x = entry->getArgument(argIdx++);
  Value values = entry->getArgument(argIdx++);
  Value metaOrPositions = entry->getArgument(argIdx++);
  Value u, v, bias;
  if (rank) {
    u = entry->getArgument(argIdx++);
    v = entry->getArgument(argIdx++);
  }
  if (hasBias)
    bias = entry->getArgument(argIdx++);
  Value y = entry->getArgument(argIdx++);

  Value rows = memref::DimOp::create(b, loc, x, l.c(0));
  // An empty batch launches nothing (a grid dimension of 0 is a launch
  // error): branch straight to the return.
  Block *body = launcher.addBlock();
  Block *exit = launcher.addBlock();
  Value empty =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, rows, l.c(0));
  cf::CondBranchOp::create(b, loc, empty, exit, body);
  OpBuilder exitBuilder = OpBuilder::atBlockBegin(exit);
  func::ReturnOp::create(exitBuilder, loc);
  b.setInsertionPointToStart(body);
  l.token = mlir::gpu::WaitOp::create(b, loc, l.tokenType(), ValueRange{})
                .getAsyncToken();
  auto weight = [&](Value host) {
    return resident ? l.resident(host) : l.upload(host);
  };
  Value dx = l.upload(x);
  Value dValues = weight(values);
  Value dMeta;
  if (reorder) {
    int64_t words = mma::metadataWordCount(n, recipe.getK());
    Value dPositions = l.upload(metaOrPositions);
    dMeta = l.alloc(MemRefType::get({words}, b.getI32Type()), {});
    l.launch(
        reorder,
        {l.c((words + kReorderThreads - 1) / kReorderThreads), l.c(1), l.c(1)},
        kReorderThreads, 0, {dPositions, dMeta});
  } else {
    dMeta = weight(metaOrPositions);
  }
  Value dU, dV, dT, dBias;
  if (rank) {
    dU = weight(u);
    dV = weight(v);
    if (!decode) {
      dT =
          l.alloc(MemRefType::get({ShapedType::kDynamic, rank}, b.getF32Type()),
                  {rows});
      l.fill(dT, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0)));
    }
  }
  if (hasBias)
    dBias = weight(bias);
  Value dy = l.alloc(cast<MemRefType>(y.getType()), {rows});

  int64_t tileN = recipe.getTileN(), tileM = recipe.getTileM();
  if (decode) {
    // One launch; its f32 workspace and counters are zeroed here because
    // the launcher allocates per call (the kernel leaves them zero, so a
    // caller that keeps them needs no fill).
    Value mTiles = l.ceilDiv(rows, tileM);
    Value ws = l.alloc(
        MemRefType::get({ShapedType::kDynamic, n}, b.getF32Type()), {rows});
    l.fill(ws, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0)));
    Value numCounters =
        arith::MulIOp::create(b, loc, mTiles, l.c(n / tileN)).getResult();
    Value counters = l.alloc(
        MemRefType::get({ShapedType::kDynamic}, b.getI32Type()), {numCounters});
    l.fill(counters, arith::ConstantIntOp::create(b, loc, 0, 32));
    SmallVector<Value> args = {dx, dValues, dMeta};
    if (rank)
      args.append({dU, dV});
    if (hasBias)
      args.push_back(dBias);
    args.append({ws, counters, dy});
    l.launch(main, {l.c(n / tileN), l.c(recipe.getKBlocks()), mTiles},
             recipe.getThreads(), recipe.getSharedBytes(), args);
  } else {
    materializeTensorCoreLaunches(l, recipe, rows, dx, dValues, dMeta, dU, dV,
                                  dT, dBias, dy);
  }
  l.copy(y, dy);
  l.freeAll();
  mlir::gpu::WaitOp::create(b, loc, Type(), ValueRange{l.token});
  func::ReturnOp::create(b, loc);
  launcher->removeAttr(kLauncherAttrName);
  return success();
}

struct SLRGPUMaterializeLaunchersPass
    : slr::impl::SLRGPUMaterializeLaunchersBase<
          SLRGPUMaterializeLaunchersPass> {
  void runOnOperation() override {
    SmallVector<std::pair<func::FuncOp, GPULaunchAttr>> launchers;
    getOperation().walk([&](func::FuncOp func) {
      if (auto recipe = func->getAttrOfType<GPULaunchAttr>(kLauncherAttrName))
        launchers.emplace_back(func, recipe);
    });
    for (auto [func, recipe] : launchers) {
      if (!func.isExternal()) {
        func.emitOpError("slr.gpu_launcher function already has a body");
        return signalPassFailure();
      }
      if (failed(materialize(func, recipe)))
        return signalPassFailure();
    }
  }
};

} // namespace
