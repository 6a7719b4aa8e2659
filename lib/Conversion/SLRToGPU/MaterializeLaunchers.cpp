//===- MaterializeLaunchers.cpp - Host bodies of slr GPU launchers --------===//
//
// --slr-gpu-materialize-launchers: every private function carrying a
// `slr.gpu_launcher` recipe (a #slr.gpu_launch, see LinearToGPU.cpp) gets a
// body that runs the kernels on device copies of its memref arguments:
//
//   x, y: the caller's buffers when they are device memory, else staged
//         device copies (slrGpuStageInput / slrGpuStageOutput, decided at
//         run time; slrGpuUnstage copies y back after the stream finished)
//   %t0 = gpu.wait async
//   constant weights: resident device copies (slrGpuResidentCopy, uploaded
//   by the first call); others, and metadata (or positions + reorder
//   kernel), U, V, bias: device copies;  zeroed t [M, r] f32
//   gpu.launch_func @lowrank  grid (r/tn, ceil(M/tm), splitK)
//   gpu.launch_func @main     grid (N/tileN, ceil(M/tileM), 1)
//   free the per-call copies, gpu.wait
//
// all chained on one async token (gpu-to-llvm lowers async ops only), behind
// a branch that returns at once for an empty batch (M = 0). The
// split-K factor of the low-rank kernel grows as M shrinks so that decode
// (M = 1) still spreads V over the GPU.
//
// wgmma_sp_sm90a: t [M, r] of the element type, written by the projection
// kernel in its store mode (no split, no zeroing); the TMA tensor maps of
// x, S, the metadata words, U and t are encoded on the host
// (slrGpuEncodeTensorMap2D into a stack buffer), copied to the device on
// the stream and passed to the main kernel as a memref<Jx16xi64>.
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToGPU/LaunchPolicy.h"
#include "slr/Conversion/SLRToGPU/WgmmaTensorMaps.h"
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
  /// (uploaded by the first call). Falls back to a per-call upload for a
  /// weight that is not a static, identity-layout buffer.
  Value resident(Value host) {
    auto type = cast<MemRefType>(host.getType());
    if (!type.hasStaticShape() || !type.getLayout().isIdentity())
      return upload(host);
    Value devicePtr =
        runtimeCall("slrGpuResidentCopy", {pointer(host), byteSize(host)});
    return fromPointer(devicePtr, host);
  }

  /// An activation as the kernels read it: the caller's buffer itself when
  /// it is device memory, a staged device copy otherwise (decided at run
  /// time by slrGpuStageInput / slrGpuStageOutput). Null when the buffer's
  /// layout is not the identity (then it is copied on the stream instead).
  Value stage(Value host, bool isOutput) {
    if (!cast<MemRefType>(host.getType()).getLayout().isIdentity())
      return {};
    Value devicePtr =
        runtimeCall(isOutput ? "slrGpuStageOutput" : "slrGpuStageInput",
                    {pointer(host), byteSize(host)});
    staged.push_back({host, devicePtr, isOutput});
    return fromPointer(devicePtr, host);
  }

  /// After the stream was waited for: results copied back to host buffers,
  /// staging memory freed.
  void unstageAll() {
    for (const Staged &s : staged) {
      Value copyBack = arith::ConstantIntOp::create(b, loc, s.isOutput, 1);
      runtimeCall("slrGpuUnstage",
                  {pointer(s.host), s.devicePtr, byteSize(s.host), copyBack});
    }
  }

  Value pointer(Value memref) {
    Value index =
        memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    Value address = arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
    return LLVM::IntToPtrOp::create(b, loc, ptrType(), address);
  }

  /// The memref's size in bytes, as an i64 (dynamic sizes read from it).
  Value byteSize(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    int64_t staticBytes = type.getElementTypeBitWidth() / 8;
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (!type.isDynamicDim(dim))
        staticBytes *= type.getDimSize(dim);
    Value bytes = i64(staticBytes);
    SmallVector<Value> dims = sizes(memref);
    for (int64_t dim = 0; dim < type.getRank(); ++dim)
      if (type.isDynamicDim(dim))
        bytes = arith::MulIOp::create(b, loc, bytes, dims[dim]);
    return bytes;
  }

  /// Every dimension's size as an i64.
  SmallVector<Value> sizes(Value memref) {
    auto type = cast<MemRefType>(memref.getType());
    SmallVector<Value> result;
    for (int64_t dim = 0; dim < type.getRank(); ++dim) {
      if (!type.isDynamicDim(dim)) {
        result.push_back(i64(type.getDimSize(dim)));
        continue;
      }
      Value size = memref::DimOp::create(b, loc, memref, c(dim));
      result.push_back(
          arith::IndexCastOp::create(b, loc, b.getI64Type(), size));
    }
    return result;
  }

  /// A memref shaped like `like` (identity layout) over device memory at
  /// `devicePtr`; the descriptor is built in the LLVM dialect, where the
  /// pointer comes from.
  Value fromPointer(Value devicePtr, Value like) {
    auto type = cast<MemRefType>(like.getType());
    int64_t rank = type.getRank();
    Type i64Type = b.getI64Type();
    auto array = LLVM::LLVMArrayType::get(i64Type, rank);
    auto descType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), {ptrType(), ptrType(), i64Type, array, array});
    Value desc = LLVM::PoisonOp::create(b, loc, descType);
    auto field = [&](Value v, ArrayRef<int64_t> position) {
      desc = LLVM::InsertValueOp::create(b, loc, desc, v, position);
    };
    field(devicePtr, {0});
    field(devicePtr, {1});
    field(i64(0), {2});
    SmallVector<Value> dims = sizes(like);
    Value stride = i64(1);
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      field(dims[dim], {3, dim});
      field(stride, {4, dim});
      if (dim)
        stride = arith::MulIOp::create(b, loc, stride, dims[dim]);
    }
    return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
  }

  Value i64(int64_t v) {
    Value &cached = i64Constants[v];
    if (!cached)
      cached = arith::ConstantIntOp::create(b, loc, v, 64);
    return cached;
  }
  Type ptrType() { return LLVM::LLVMPointerType::get(b.getContext()); }

  /// A call of one of the runtime's C functions (CUDARuntime.h), declared
  /// in the module on first use: pointers, i64 sizes and i1 flags in, a
  /// pointer or nothing out.
  Value runtimeCall(StringRef name, ValueRange args) {
    auto module =
        b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
    auto function = module.lookupSymbol<func::FuncOp>(name);
    if (!function) {
      bool returnsPointer =
          name != "slrGpuUnstage" && name != "slrGpuEncodeTensorMap2D";
      OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
      function = func::FuncOp::create(
          mb, loc, name,
          mb.getFunctionType(ValueRange(args).getTypes(),
                             returnsPointer ? TypeRange{ptrType()}
                                            : TypeRange{}));
      function.setPrivate();
    }
    auto call = func::CallOp::create(b, loc, function, args);
    return call.getNumResults() ? call.getResult(0) : Value();
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
  struct Staged {
    Value host, devicePtr;
    bool isOutput;
  };
  SmallVector<Staged> staged;
  llvm::DenseMap<int64_t, Value> constants, i64Constants;
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

/// CUtensorMapDataType of an element type.
int64_t tensorMapDataType(Type type) {
  if (type.isBF16())
    return 9; // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
  if (type.isF16())
    return 6; // FLOAT16
  return 2;   // UINT32 (metadata words)
}

/// wgmma_sp_sm90a: the projection kernel writes t, then the main kernel
/// reads everything through the tensor maps (boxes and swizzles as
/// computeWgmmaLayout lays out a stage).
void materializeWgmmaLaunches(LauncherBuilder &l, GPULaunchAttr recipe,
                              Value rows, Value dx, Value dValues, Value dMeta,
                              Value dU, Value dV, Value dBias, Value dy,
                              Type elt) {
  OpBuilder &b = l.b;
  Location loc = l.loc;
  int64_t n = recipe.getN(), k = recipe.getK(), rank = recipe.getRank();
  Value dT;
  if (rank) {
    dT = l.alloc(MemRefType::get({ShapedType::kDynamic, rank}, elt), {rows});
    int64_t tn = recipe.getLowrankTileN();
    l.launch(
        recipe.getLowrank(),
        {l.c(rank / tn), l.ceilDiv(rows, recipe.getLowrankTileM()), l.c(1)},
        recipe.getLowrankThreads(), recipe.getLowrankSharedBytes(),
        {dx, dV, dT});
  }
  std::vector<wgmma::TensorMap> maps = wgmma::tensorMaps(n, k, rank);
  auto hostType =
      MemRefType::get({static_cast<int64_t>(maps.size()), 16}, b.getI64Type());
  Value host = memref::AllocaOp::create(b, loc, hostType, ValueRange{},
                                        b.getI64IntegerAttr(64));
  Value rows64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), rows);
  Value tensors[] = {dx, dValues, dMeta, dU, dT};
  for (const wgmma::TensorMap &map : maps)
    l.runtimeCall(
        "slrGpuEncodeTensorMap2D",
        {l.pointer(host), l.i64(map.slot), l.pointer(tensors[map.slot]),
         l.i64(tensorMapDataType(map.words ? b.getI32Type() : elt)),
         map.rowsAreM ? rows64 : l.i64(map.rows), l.i64(map.cols),
         l.i64(map.boxRows), l.i64(map.boxCols), l.i64(map.swizzle)});
  Value dMaps = l.upload(host);
  SmallVector<Value> args = {dx, dValues, dMeta};
  if (rank)
    args.append({dU, dT});
  if (dBias)
    args.push_back(dBias);
  args.append({dy, dMaps});
  l.launch(
      recipe.getMain(),
      {l.c(n / recipe.getTileN()), l.ceilDiv(rows, recipe.getTileM()), l.c(1)},
      recipe.getThreads(), recipe.getSharedBytes(), args);
}

LogicalResult materialize(func::FuncOp launcher, GPULaunchAttr recipe) {
  // The dialect verified the recipe and the launcher's operand count.
  SymbolRefAttr main = recipe.getMain(), reorder = recipe.getReorder();
  int64_t n = recipe.getN(), rank = recipe.getRank();
  bool hasBias = recipe.getHasBias();
  // Constant weights: kept on the device after the first call.
  bool resident = recipe.getResident();
  bool decode = recipe.getVariant() == GPUKernelVariant::DecodeSm80;
  bool wgmma = recipe.getVariant() == GPUKernelVariant::WgmmaSpSm90a;

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
  // Staged before the stream starts (a synchronous copy).
  Value dx = l.stage(x, /*isOutput=*/false);
  l.token = mlir::gpu::WaitOp::create(b, loc, l.tokenType(), ValueRange{})
                .getAsyncToken();
  auto weight = [&](Value host) {
    return resident ? l.resident(host) : l.upload(host);
  };
  if (!dx)
    dx = l.upload(x);
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
    if (!decode && !wgmma) {
      dT =
          l.alloc(MemRefType::get({ShapedType::kDynamic, rank}, b.getF32Type()),
                  {rows});
      l.fill(dT, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0)));
    }
  }
  if (hasBias)
    dBias = weight(bias);
  Value dy = l.stage(y, /*isOutput=*/true);
  bool yStaged = static_cast<bool>(dy);
  if (!yStaged)
    dy = l.alloc(cast<MemRefType>(y.getType()), {rows});

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
  } else if (wgmma) {
    materializeWgmmaLaunches(l, recipe, rows, dx, dValues, dMeta, dU, dV, dBias,
                             dy,
                             cast<MemRefType>(x.getType()).getElementType());
  } else {
    materializeTensorCoreLaunches(l, recipe, rows, dx, dValues, dMeta, dU, dV,
                                  dT, dBias, dy);
  }
  if (!yStaged)
    l.copy(y, dy);
  l.freeAll();
  mlir::gpu::WaitOp::create(b, loc, Type(), ValueRange{l.token});
  l.unstageAll();
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
