//===- KernelBuilder.cpp - Tensor-core kernels for slr.linear -------------===//
//
// Generates the gpu.func kernels of the SLR-to-GPU lowering:
//
//  * main: y = x*S^T + t*U^T + b for a tileM x tileN block of y per CTA.
//    x [tileM, tileK] and the packed values of S [tileN, tileK/2] (plus the
//    reordered metadata words) stream through workgroup memory in a
//    `stages`-deep cp.async pipeline; ldmatrix feeds nvvm.mma.sp.sync
//    (m16n8k32, ordered metadata). The MMA computes y^T tiles: S is the
//    sparse A operand (16 output features), x the B operand (8 rows of x),
//    so the sparse operand sits where the instruction wants it. The low-rank
//    term (t = x*V^T from the low-rank kernel, f32) is added with
//    nvvm.mma.sync m16n8k16 into the same accumulators, then the bias; y is
//    staged in workgroup memory and written once with 16-byte stores.
//  * lowRank: t += x*V^T (dense m16n8k16, f32 atomics, split over K across
//    CTAs along grid.z so that decode-sized M still fills the GPU).
//  * reorder: slr's packed positions -> mma.sp metadata words (only used
//    when the positions are not compile-time constants).
//
// All per-lane fragment addressing comes from slr/Conversion/SLRToGPU/
// MMALayout.h (shared with the emulator in unittests/GPU).
//
//===----------------------------------------------------------------------===//

#include "slr/Conversion/SLRToGPU/MMALayout.h"
#include "slr/Conversion/SLRToGPU/SLRToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <functional>

using namespace mlir;
using namespace slr;

namespace {

/// Row padding (elements) of every shared-memory tile: rows of 16-bit
/// elements become (cols + 8) * 2 bytes, which makes the eight row addresses
/// of an ldmatrix 8x8 matrix hit distinct bank groups.
constexpr int64_t kPad = 8;
/// Alignment of the sub-buffers carved out of dynamic shared memory.
constexpr int64_t kSharedAlign = 128;
/// Rows of x per CTA of the low-rank kernel (4 warps of 16 rows).
constexpr int64_t kLowRankTileM = 64;
constexpr int64_t kLowRankWarpsM = 4;
/// Opt-in shared memory per block of sm_80 (A100; sm_90 allows more), less
/// the alignment slack of the static symbol the NVVM lowering declares for
/// dynamic shared memory (it counts as 1 byte of static shared memory).
constexpr int64_t kMaxSharedBytes = 163 * 1024 - 128;

int64_t alignTo(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::string typeName(Type type) { return type.isBF16() ? "bf16" : "f16"; }

/// Largest of 64, 32, 16 dividing `rank`.
int64_t rankChunk(int64_t rank) {
  for (int64_t chunk : {64, 32, 16})
    if (rank % chunk == 0)
      return chunk;
  return 16;
}

/// Shared-memory layout of the main kernel (byte offsets into the dynamic
/// shared buffer; the phases reuse the same bytes).
struct MainLayout {
  int64_t ldx, lds, ldr, ldy;  // row strides (elements)
  int64_t offX, offS, offMeta; // mainloop, per-stage arrays
  int64_t offT, offU;          // low-rank phase
  int64_t offY;                // epilogue
  int64_t rankChunk;
  int64_t totalBytes;
};

MainLayout computeMainLayout(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  MainLayout l;
  l.ldx = t.tileK + kPad;
  l.lds = t.tileK / 2 + kPad;
  l.offX = 0;
  l.offS = alignTo(t.stages * t.tileM * l.ldx * 2, kSharedAlign);
  l.offMeta = l.offS + alignTo(t.stages * t.tileN * l.lds * 2, kSharedAlign);
  int64_t mainloop =
      l.offMeta + t.stages * (t.tileN / 16) * (t.tileK / 32) * 16 * 4;
  l.rankChunk = spec.rank ? rankChunk(spec.rank) : 0;
  l.ldr = l.rankChunk + kPad;
  l.offT = 0;
  l.offU = alignTo(t.tileM * l.ldr * 2, kSharedAlign);
  int64_t lowRank = spec.rank ? l.offU + t.tileN * l.ldr * 2 : 0;
  l.ldy = t.tileN + kPad;
  l.offY = 0;
  int64_t epilogue = t.tileM * l.ldy * 2;
  l.totalBytes = alignTo(std::max({mainloop, lowRank, epilogue}), 16);
  return l;
}

struct LowRankLayout {
  int64_t tileN, ldx, ldv, offX, offV, totalBytes;
};

LowRankLayout computeLowRankLayout(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  LowRankLayout l;
  l.tileN = rankChunk(spec.rank);
  l.ldx = t.tileK + kPad;
  l.ldv = t.tileK + kPad;
  l.offX = 0;
  l.offV = alignTo(t.stages * kLowRankTileM * l.ldx * 2, kSharedAlign);
  l.totalBytes = alignTo(l.offV + t.stages * l.tileN * l.ldv * 2, 16);
  return l;
}

/// Kernels with a planted defect never share a name with correct ones.
const char *defectSuffix(PlantedDefect defect) {
  switch (defect) {
  case PlantedDefect::None:
    return "";
  case PlantedDefect::DropBarrier:
    return "_defect_drop_barrier";
  case PlantedDefect::ShortWait:
    return "_defect_short_wait";
  case PlantedDefect::ReadPastTile:
    return "_defect_read_past_tile";
  }
  return "";
}

std::string mainKernelName(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  return llvm::formatv("slr_linear_{0}_n{1}_k{2}_r{3}{4}_t{5}x{6}x{7}_w{8}x{9}_"
                       "s{10}{11}",
                       typeName(spec.elementType), spec.n, spec.k, spec.rank,
                       spec.hasBias ? "_bias" : "", t.tileN, t.tileM, t.tileK,
                       t.warpsN, t.warpsM, t.stages, defectSuffix(spec.defect))
      .str();
}

std::string lowRankKernelName(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  return llvm::formatv("slr_lowrank_{0}_r{1}_k{2}_t{3}_s{4}{5}",
                       typeName(spec.elementType), spec.rank, spec.k, t.tileK,
                       t.stages, defectSuffix(spec.defect))
      .str();
}

/// Emits index arithmetic, shared-memory views and the warp-level tensor-core
/// operations of one kernel.
class KernelEmitter {
public:
  /// Emits at `b`'s insertion point; index constants are created once, at
  /// the start of `entry`.
  KernelEmitter(OpBuilder &b, Location loc, Type elementType, Block *entry,
                PlantedDefect defect)
      : b(b), loc(loc), elementType(elementType), entry(entry), defect(defect) {
  }

  OpBuilder &b;
  Location loc;
  Type elementType;
  Block *entry;
  PlantedDefect defect; ///< tests only, see PlantedDefect
  llvm::DenseMap<int64_t, Value> constants;

  //===--- index arithmetic ---------------------------------------------===//

  Value c(int64_t v) {
    Value &cached = constants[v];
    if (!cached) {
      OpBuilder cb = OpBuilder::atBlockBegin(entry);
      cached = arith::ConstantIndexOp::create(cb, loc, v);
    }
    return cached;
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, c(y)) : x; }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) { return y == 1 ? x : mul(x, c(y)); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value div(Value x, int64_t y) { return y == 1 ? x : div(x, c(y)); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value rem(Value x, int64_t y) { return rem(x, c(y)); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value select(Value cond, Value x, Value y) {
    return arith::SelectOp::create(b, loc, cond, x, y);
  }

  /// sum_i scale_i * ((lane >> shift_i) & mask_i), see MMALayout.h.
  Value laneMap(Value lane, const mma::LaneMap &map) {
    Value result;
    for (unsigned i = 0; i < map.numFields; ++i) {
      const mma::LaneField &f = map.fields[i];
      Value v = lane;
      if (f.shift)
        v = arith::ShRUIOp::create(b, loc, v, c(f.shift));
      v = arith::AndIOp::create(b, loc, v, c(f.mask));
      v = mul(v, f.scale);
      result = result ? add(result, v) : v;
    }
    return result;
  }

  //===--- memory -------------------------------------------------------===//

  MemRefType sharedType(ArrayRef<int64_t> shape, Type type) {
    auto space = gpu::AddressSpaceAttr::get(b.getContext(),
                                            gpu::AddressSpace::Workgroup);
    return MemRefType::get(shape, type, MemRefLayoutAttrInterface(), space);
  }

  /// A typed view of the dynamic shared buffer at `byteOffset`.
  Value view(Value shared, int64_t byteOffset, ArrayRef<int64_t> shape,
             Type type) {
    return memref::ViewOp::create(b, loc, sharedType(shape, type), shared,
                                  c(byteOffset), ValueRange{});
  }

  /// cp.async of `elements` elements (16 bytes) from src[srcIdx] to
  /// dst[dstIdx]; reads `srcElements` of them (zero-fills the rest) when
  /// given.
  void copyAsync(Value dst, ValueRange dstIdx, Value src, ValueRange srcIdx,
                 int64_t elements, Value srcElements = Value()) {
    nvgpu::DeviceAsyncCopyOp::create(b, loc, dst, dstIdx, src, srcIdx,
                                     b.getIndexAttr(elements), srcElements,
                                     b.getUnitAttr());
  }
  void commitGroup() { NVVM::CpAsyncCommitGroupOp::create(b, loc); }
  void waitGroup(int64_t pending) {
    NVVM::CpAsyncWaitGroupOp::create(b, loc, static_cast<int32_t>(pending));
  }
  void barrier() { gpu::BarrierOp::create(b, loc); }

  /// ldmatrix of `tiles` 8x8 matrices; returns one vector<2xT> per matrix.
  SmallVector<Value> ldmatrix(Value mem, ValueRange idx, int64_t tiles) {
    auto type = VectorType::get({tiles, 2}, elementType);
    Value all = nvgpu::LdMatrixOp::create(b, loc, type, mem, idx,
                                          /*transpose=*/false,
                                          static_cast<uint32_t>(tiles));
    SmallVector<Value> regs;
    for (int64_t q = 0; q < tiles; ++q)
      regs.push_back(vector::ExtractOp::create(b, loc, all, q));
    return regs;
  }

  //===--- tensor cores -------------------------------------------------===//

  /// A vector<2xT> register as the MMA operand type: i32 for bf16 (the
  /// intrinsics take packed bf16x2 as i32), vector<2xf16> for f16.
  Value mmaOperand(Value reg) {
    if (!elementType.isBF16())
      return reg;
    Value asVec = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), reg);
    return vector::ExtractOp::create(b, loc, asVec, 0);
  }

  SmallVector<Value> unpackResult(Value result) {
    SmallVector<Value> acc;
    for (int64_t e = 0; e < 4; ++e)
      acc.push_back(LLVM::ExtractValueOp::create(b, loc, result, e));
    return acc;
  }

  Type accStructType() {
    Type f32 = b.getF32Type();
    return LLVM::LLVMStructType::getLiteral(b.getContext(),
                                            {f32, f32, f32, f32});
  }

  NVVM::MMATypes ptxType() {
    return elementType.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  }

  /// D = A_sparse(16x32) * B(32x8) + C with ordered 2:4 metadata.
  SmallVector<Value> mmaSparse(ArrayRef<Value> a, ArrayRef<Value> bRegs,
                               ArrayRef<Value> acc, Value meta) {
    SmallVector<Value> aOps, bOps;
    for (Value v : a)
      aOps.push_back(mmaOperand(v));
    for (Value v : bRegs)
      bOps.push_back(mmaOperand(v));
    Value selector = arith::ConstantIntOp::create(b, loc, 0, 32);
    auto op = NVVM::MmaSpOp::create(
        b, loc, accStructType(), aOps, bOps, acc, meta, selector,
        ArrayRef<int64_t>{16, 8, 32}, std::nullopt,
        std::array<NVVM::MMATypes, 2>{ptxType(), ptxType()});
    op.setOrderedMetadata(true);
    return unpackResult(op.getResult());
  }

  /// D = A(16x16) * B(16x8) + C.
  SmallVector<Value> mmaDense(ArrayRef<Value> a, ArrayRef<Value> bRegs,
                              ArrayRef<Value> acc) {
    SmallVector<Value> aOps, bOps;
    for (Value v : a)
      aOps.push_back(mmaOperand(v));
    for (Value v : bRegs)
      bOps.push_back(mmaOperand(v));
    auto op = NVVM::MmaOp::create(
        b, loc, accStructType(), aOps, bOps, acc, ArrayRef<int64_t>{16, 8, 16},
        std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{ptxType(), ptxType()},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    return unpackResult(op.getResult());
  }

  //===--- cooperative copies -------------------------------------------===//

  /// cp.async of a rows x cols tile of 16-bit elements, `src[srcRow0 + r,
  /// srcCol0 + c]` -> `dst[dstLead..., r, c]`, by `threads` threads (16-byte
  /// chunks). Rows at or beyond `rowLimit` (when given) are zero-filled.
  void copyTileAsync(Value tid, int64_t threads, Value dst, ValueRange dstLead,
                     Value src, Value srcRow0, Value srcCol0, int64_t rows,
                     int64_t cols, Value rowLimit = Value()) {
    int64_t perRow = cols / 8, total = rows * perRow;
    forEachChunk(tid, threads, total, [&](Value chunk) {
      Value row = div(chunk, perRow);
      Value col = mul(rem(chunk, perRow), 8);
      Value srcRow = add(srcRow0, row);
      Value srcElements;
      if (rowLimit) {
        Value valid =
            defect == PlantedDefect::ReadPastTile
                ? arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                        srcRow, rowLimit)
                : ult(srcRow, rowLimit);
        srcElements = select(valid, c(8), c(0));
        srcRow = select(valid, srcRow, c(0));
      }
      SmallVector<Value> dstIdx(dstLead);
      dstIdx.append({row, col});
      copyAsync(dst, dstIdx, src, {srcRow, add(srcCol0, col)}, 8, srcElements);
    });
  }

  /// Calls `body(chunk)` for chunk = tid + i * threads < total.
  void forEachChunk(Value tid, int64_t threads, int64_t total,
                    llvm::function_ref<void(Value)> body) {
    for (int64_t base = 0; base < total; base += threads) {
      Value chunk = add(tid, base);
      if (base + threads <= total) {
        body(chunk);
        continue;
      }
      auto guard = scf::IfOp::create(b, loc, ult(chunk, c(total)),
                                     /*withElseRegion=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(guard.thenBlock());
      body(chunk);
    }
  }

  /// if (cond) body();
  void ifThen(Value cond, llvm::function_ref<void()> body) {
    auto op = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(op.thenBlock());
    body();
  }

  /// The multi-stage cp.async pipeline over `numIters` blocks:
  ///   prologue: issue blocks 0 .. stages-2;
  ///   iteration i: wait for block i, barrier, issue block i + stages - 1
  ///   into the slot consumed in iteration i - 1, compute on block i.
  /// One commit group per block slot keeps wait_group counting uniform.
  SmallVector<Value>
  pipeline(Value numIters, int64_t stages,
           function_ref<void(Value, Value)> issue,
           function_ref<SmallVector<Value>(Value, ValueRange)> compute,
           ValueRange init) {
    for (int64_t s = 0; s + 1 < stages; ++s) {
      ifThen(ult(c(s), numIters), [&] { issue(c(s), c(s)); });
      commitGroup();
    }
    auto loop = scf::ForOp::create(
        b, loc, c(0), numIters, c(1), init,
        [&](OpBuilder &nb, Location, Value iter, ValueRange accs) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          waitGroup(defect == PlantedDefect::ShortWait ? stages - 1
                                                       : stages - 2);
          if (defect != PlantedDefect::DropBarrier)
            barrier();
          Value next = add(iter, stages - 1);
          ifThen(ult(next, numIters), [&] { issue(next, rem(next, stages)); });
          commitGroup();
          SmallVector<Value> out = compute(rem(iter, stages), accs);
          scf::YieldOp::create(b, loc, out);
        });
    waitGroup(0);
    return SmallVector<Value>(loop.getResults());
  }
};

/// Creates an empty kernel `name` in `module` (or returns the existing one).
gpu::GPUFuncOp createKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                            StringRef name, ArrayRef<Type> argTypes,
                            int64_t threads, bool &exists) {
  if (auto existing = module.lookupSymbol<gpu::GPUFuncOp>(name)) {
    exists = true;
    return existing;
  }
  exists = false;
  OpBuilder::InsertionGuard g(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func =
      gpu::GPUFuncOp::create(builder, module.getLoc(), name,
                             builder.getFunctionType(argTypes, TypeRange{}));
  func->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(),
                builder.getUnitAttr());
  func.setKnownBlockSize(
      ArrayRef<int32_t>{static_cast<int32_t>(threads), 1, 1});
  return func;
}

/// Canonicalizes and CSEs a freshly emitted kernel: folds the static
/// pipeline guards and shares the index arithmetic of unrolled loops.
void tidyKernel(gpu::GPUFuncOp func) {
  MLIRContext *ctx = func.getContext();
  RewritePatternSet patterns(ctx);
  for (Dialect *dialect : ctx->getLoadedDialects())
    dialect->getCanonicalizationPatterns(patterns);
  for (RegisteredOperationName op : ctx->getRegisteredOperations())
    op.getCanonicalizationPatterns(patterns, ctx);
  (void)applyPatternsGreedily(func, std::move(patterns));
  IRRewriter rewriter(ctx);
  DominanceInfo dominance(func);
  eliminateCommonSubExpressions(rewriter, dominance, func);
}

MemRefType memrefType(ArrayRef<int64_t> shape, Type type) {
  return MemRefType::get(shape, type);
}

//===----------------------------------------------------------------------===//
// Main kernel
//===----------------------------------------------------------------------===//

void emitMainKernel(gpu::GPUFuncOp func, const SLRLinearKernelSpec &spec,
                    const MainLayout &layout) {
  const SLRGPUTileConfig &t = spec.tiles;
  Type elt = spec.elementType;
  Location loc = func.getLoc();
  OpBuilder b(func.getContext());
  b.setInsertionPointToStart(&func.getBody().front());
  KernelEmitter e(b, loc, elt, &func.getBody().front(), spec.defect);

  unsigned argIdx = 0;
  Value x = func.getArgument(argIdx++);
  Value values = func.getArgument(argIdx++);
  Value meta = func.getArgument(argIdx++);
  Value u, tBuf, bias;
  if (spec.rank) {
    u = func.getArgument(argIdx++);
    tBuf = func.getArgument(argIdx++);
  }
  if (spec.hasBias)
    bias = func.getArgument(argIdx++);
  Value y = func.getArgument(argIdx++);

  const int64_t threads = 32 * t.warpsN * t.warpsM;
  const int64_t warpTileN = t.tileN / t.warpsN, warpTileM = t.tileM / t.warpsM;
  const int64_t fragsN = warpTileN / 16, fragsM = warpTileM / 8;
  const int64_t numKTiles32 = spec.k / 32;

  Value tid = gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value lane = e.rem(tid, 32);
  Value warp = e.div(tid, 32);
  Value warpN = e.rem(warp, t.warpsN);
  Value warpM = e.div(warp, t.warpsN);
  Value nBase =
      e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x), t.tileN);
  Value mBase =
      e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y), t.tileM);
  Value rows = memref::DimOp::create(b, loc, x, 0);

  auto i8Space = e.sharedType({ShapedType::kDynamic}, b.getI8Type());
  Value shared = gpu::DynamicSharedMemoryOp::create(b, loc, i8Space);
  Value sX = e.view(shared, layout.offX, {t.stages, t.tileM, layout.ldx}, elt);
  Value sS = e.view(shared, layout.offS, {t.stages, t.tileN, layout.lds}, elt);
  Value sMeta =
      e.view(shared, layout.offMeta,
             {t.stages, t.tileN / 16, t.tileK / 32 * 16}, b.getI32Type());

  Value aRow = e.laneMap(lane, mma::kLdmatrixARow);
  Value aCol = e.laneMap(lane, mma::kLdmatrixACol);
  Value bRow = e.laneMap(lane, mma::kLdmatrixBRow);
  Value bColX4 = e.laneMap(lane, mma::kLdmatrixBColX4);
  Value bColX2 = e.laneMap(lane, mma::kLdmatrixBColX2);
  Value metaWord = e.laneMap(lane, mma::kMetadataWord);
  Value warpRowN = e.mul(warpN, warpTileN); // first output feature of warp
  Value warpRowM = e.mul(warpM, warpTileM); // first row of x of warp

  // Issue the copies of K block `kb` into pipeline slot `stage`.
  auto issue = [&](Value kb, Value stage) {
    e.copyTileAsync(tid, threads, sX, {stage}, x, mBase, e.mul(kb, t.tileK),
                    t.tileM, t.tileK, rows);
    e.copyTileAsync(tid, threads, sS, {stage}, values, nBase,
                    e.mul(kb, t.tileK / 2), t.tileN, t.tileK / 2);
    // Metadata: per 16-row tile, tileK/32 * 16 consecutive words.
    int64_t chunksPerTile = t.tileK / 32 * 16 / 4;
    e.forEachChunk(
        tid, threads, t.tileN / 16 * chunksPerTile, [&](Value chunk) {
          Value tile = e.div(chunk, chunksPerTile);
          Value q4 = e.mul(e.rem(chunk, chunksPerTile), 4);
          Value nTile = e.add(e.div(nBase, 16), tile);
          Value kTile = e.mul(kb, t.tileK / 32);
          Value src =
              e.add(e.mul(e.add(e.mul(nTile, numKTiles32), kTile), 16), q4);
          e.copyAsync(sMeta, {stage, tile, q4}, meta, {src}, 4);
        });
  };

  // Sparse MMAs over one pipeline slot.
  auto compute = [&](Value stage, ValueRange accsIn) {
    SmallVector<Value> accs(accsIn);
    for (int64_t kk = 0; kk < t.tileK / 32; ++kk) {
      SmallVector<SmallVector<Value>> bFrags;
      for (int64_t j = 0; j < fragsM; ++j)
        bFrags.push_back(e.ldmatrix(sX,
                                    {stage, e.add(e.add(warpRowM, bRow), j * 8),
                                     e.add(bColX4, kk * 32)},
                                    4));
      for (int64_t i = 0; i < fragsN; ++i) {
        SmallVector<Value> aFrag = e.ldmatrix(
            sS,
            {stage, e.add(e.add(warpRowN, aRow), i * 16), e.add(aCol, kk * 16)},
            4);
        Value word = memref::LoadOp::create(
            b, loc, sMeta,
            ValueRange{stage, e.add(e.mul(warpN, fragsN), i),
                       e.add(metaWord, kk * 16)});
        for (int64_t j = 0; j < fragsM; ++j) {
          auto acc = ArrayRef<Value>(accs).slice((i * fragsM + j) * 4, 4);
          SmallVector<Value> out = e.mmaSparse(aFrag, bFrags[j], acc, word);
          std::copy(out.begin(), out.end(),
                    accs.begin() + (i * fragsM + j) * 4);
        }
      }
    }
    return accs;
  };

  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  SmallVector<Value> init(fragsN * fragsM * 4, zero);
  SmallVector<Value> accs =
      e.pipeline(e.c(spec.k / t.tileK), t.stages, issue, compute, init);

  // Low-rank term: acc += t[mBase.., :] * U[nBase.., :]^T, rank in chunks.
  if (spec.rank) {
    int64_t rc = layout.rankChunk;
    Value sT = e.view(shared, layout.offT, {t.tileM, layout.ldr}, elt);
    Value sU = e.view(shared, layout.offU, {t.tileN, layout.ldr}, elt);
    auto vec4f32 = VectorType::get({4}, b.getF32Type());
    auto vec4T = VectorType::get({4}, elt);
    for (int64_t r0 = 0; r0 < spec.rank; r0 += rc) {
      e.barrier(); // every warp is done with the previous contents
      e.copyTileAsync(tid, threads, sU, {}, u, nBase, e.c(r0), t.tileN, rc);
      e.commitGroup();
      // t is f32 [M, rank]: sum already reduced over the K splits.
      e.forEachChunk(tid, threads, t.tileM * rc / 4, [&](Value chunk) {
        Value row = e.div(chunk, rc / 4);
        Value col = e.mul(e.rem(chunk, rc / 4), 4);
        Value srcRow = e.add(mBase, row);
        auto load =
            scf::IfOp::create(b, loc, TypeRange{vec4f32}, e.ult(srcRow, rows),
                              /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(load.thenBlock());
          Value v = vector::LoadOp::create(
              b, loc, vec4f32, tBuf, ValueRange{srcRow, e.add(col, r0)},
              /*nontemporal=*/false, llvm::MaybeAlign(16));
          scf::YieldOp::create(b, loc, v);
          b.setInsertionPointToStart(load.elseBlock());
          Value z = arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(vec4f32, 0.0f));
          scf::YieldOp::create(b, loc, z);
        }
        Value narrow =
            arith::TruncFOp::create(b, loc, vec4T, load.getResult(0));
        vector::StoreOp::create(b, loc, narrow, sT, ValueRange{row, col},
                                /*nontemporal=*/false, llvm::MaybeAlign(8));
      });
      e.waitGroup(0);
      e.barrier();
      for (int64_t kk = 0; kk < rc / 16; ++kk) {
        SmallVector<SmallVector<Value>> bFrags;
        for (int64_t j = 0; j < fragsM; ++j)
          bFrags.push_back(e.ldmatrix(
              sT, {e.add(e.add(warpRowM, bRow), j * 8), e.add(bColX2, kk * 16)},
              2));
        for (int64_t i = 0; i < fragsN; ++i) {
          SmallVector<Value> aFrag = e.ldmatrix(
              sU, {e.add(e.add(warpRowN, aRow), i * 16), e.add(aCol, kk * 16)},
              4);
          for (int64_t j = 0; j < fragsM; ++j) {
            auto acc = ArrayRef<Value>(accs).slice((i * fragsM + j) * 4, 4);
            SmallVector<Value> out = e.mmaDense(aFrag, bFrags[j], acc);
            std::copy(out.begin(), out.end(),
                      accs.begin() + (i * fragsM + j) * 4);
          }
        }
      }
    }
  }

  // Epilogue: acc (+ bias) -> T -> shared y tile -> 16-byte stores to y.
  e.barrier();
  Value sY = e.view(shared, layout.offY, {t.tileM, layout.ldy}, elt);
  Value accRow = e.laneMap(lane, mma::kAccRow);
  Value accCol = e.laneMap(lane, mma::kAccCol);
  for (int64_t i = 0; i < fragsN; ++i) {
    for (int64_t h = 0; h < 2; ++h) {
      Value n = e.add(e.add(warpRowN, accRow), i * 16 + h * 8);
      Value biasValue;
      if (bias) {
        Value raw =
            memref::LoadOp::create(b, loc, bias, ValueRange{e.add(nBase, n)});
        biasValue = arith::ExtFOp::create(b, loc, b.getF32Type(), raw);
      }
      for (int64_t j = 0; j < fragsM; ++j) {
        for (int64_t s = 0; s < 2; ++s) {
          Value m = e.add(e.add(warpRowM, accCol), j * 8 + s);
          Value v = accs[(i * fragsM + j) * 4 + h * 2 + s];
          if (biasValue)
            v = arith::AddFOp::create(b, loc, v, biasValue);
          Value narrow = arith::TruncFOp::create(b, loc, elt, v);
          memref::StoreOp::create(b, loc, narrow, sY, ValueRange{m, n});
        }
      }
    }
  }
  e.barrier();
  auto vec8T = VectorType::get({8}, elt);
  e.forEachChunk(tid, threads, t.tileM * t.tileN / 8, [&](Value chunk) {
    Value row = e.div(chunk, t.tileN / 8);
    Value col = e.mul(e.rem(chunk, t.tileN / 8), 8);
    Value dstRow = e.add(mBase, row);
    e.ifThen(e.ult(dstRow, rows), [&] {
      Value v =
          vector::LoadOp::create(b, loc, vec8T, sY, ValueRange{row, col},
                                 /*nontemporal=*/false, llvm::MaybeAlign(16));
      vector::StoreOp::create(b, loc, v, y,
                              ValueRange{dstRow, e.add(nBase, col)},
                              /*nontemporal=*/false, llvm::MaybeAlign(16));
    });
  });
  gpu::ReturnOp::create(b, loc);
}

//===----------------------------------------------------------------------===//
// Low-rank projection kernel: t[M, R] += x * V^T (split over K by grid.z)
//===----------------------------------------------------------------------===//

void emitLowRankKernel(gpu::GPUFuncOp func, const SLRLinearKernelSpec &spec,
                       const LowRankLayout &layout) {
  const SLRGPUTileConfig &t = spec.tiles;
  Type elt = spec.elementType;
  Location loc = func.getLoc();
  OpBuilder b(func.getContext());
  b.setInsertionPointToStart(&func.getBody().front());
  KernelEmitter e(b, loc, elt, &func.getBody().front(), spec.defect);

  Value x = func.getArgument(0), v = func.getArgument(1),
        tBuf = func.getArgument(2);
  const int64_t threads = 32 * kLowRankWarpsM;
  const int64_t warpTileM = kLowRankTileM / kLowRankWarpsM;
  const int64_t fragsN = layout.tileN / 16, fragsM = warpTileM / 8;

  Value tid = gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value lane = e.rem(tid, 32);
  Value warpM = e.div(tid, 32);
  Value rBase = e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x),
                      layout.tileN);
  Value mBase = e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y),
                      kLowRankTileM);
  Value split = gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::z);
  Value splits = gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::z);
  Value rows = memref::DimOp::create(b, loc, x, 0);

  // K blocks [begin, end) of this split.
  int64_t kBlocks = spec.k / t.tileK;
  Value begin = e.div(e.mul(split, kBlocks), splits);
  Value end = e.div(e.mul(e.add(split, 1), kBlocks), splits);

  auto i8Space = e.sharedType({ShapedType::kDynamic}, b.getI8Type());
  Value shared = gpu::DynamicSharedMemoryOp::create(b, loc, i8Space);
  Value sX =
      e.view(shared, layout.offX, {t.stages, kLowRankTileM, layout.ldx}, elt);
  Value sV =
      e.view(shared, layout.offV, {t.stages, layout.tileN, layout.ldv}, elt);

  Value aRow = e.laneMap(lane, mma::kLdmatrixARow);
  Value aCol = e.laneMap(lane, mma::kLdmatrixACol);
  Value bRow = e.laneMap(lane, mma::kLdmatrixBRow);
  Value bColX2 = e.laneMap(lane, mma::kLdmatrixBColX2);
  Value warpRowM = e.mul(warpM, warpTileM);

  auto issue = [&](Value iter, Value stage) {
    Value kCol = e.mul(e.add(begin, iter), t.tileK);
    e.copyTileAsync(tid, threads, sX, {stage}, x, mBase, kCol, kLowRankTileM,
                    t.tileK, rows);
    e.copyTileAsync(tid, threads, sV, {stage}, v, rBase, kCol, layout.tileN,
                    t.tileK);
  };
  auto compute = [&](Value stage, ValueRange accsIn) {
    SmallVector<Value> accs(accsIn);
    for (int64_t kk = 0; kk < t.tileK / 16; ++kk) {
      SmallVector<SmallVector<Value>> bFrags;
      for (int64_t j = 0; j < fragsM; ++j)
        bFrags.push_back(e.ldmatrix(sX,
                                    {stage, e.add(e.add(warpRowM, bRow), j * 8),
                                     e.add(bColX2, kk * 16)},
                                    2));
      for (int64_t i = 0; i < fragsN; ++i) {
        SmallVector<Value> aFrag = e.ldmatrix(
            sV, {stage, e.add(aRow, i * 16), e.add(aCol, kk * 16)}, 4);
        for (int64_t j = 0; j < fragsM; ++j) {
          auto acc = ArrayRef<Value>(accs).slice((i * fragsM + j) * 4, 4);
          SmallVector<Value> out = e.mmaDense(aFrag, bFrags[j], acc);
          std::copy(out.begin(), out.end(),
                    accs.begin() + (i * fragsM + j) * 4);
        }
      }
    }
    return accs;
  };

  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  SmallVector<Value> init(fragsN * fragsM * 4, zero);
  SmallVector<Value> accs =
      e.pipeline(e.sub(end, begin), t.stages, issue, compute, init);

  // Accumulator element (i, j, h, s): r = i*16 + accRow + 8h,
  // m = warpRowM + j*8 + accCol + s.
  Value accRow = e.laneMap(lane, mma::kAccRow);
  Value accCol = e.laneMap(lane, mma::kAccCol);
  for (int64_t i = 0; i < fragsN; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value r = e.add(e.add(rBase, accRow), i * 16 + h * 8);
      for (int64_t j = 0; j < fragsM; ++j)
        for (int64_t s = 0; s < 2; ++s) {
          Value m = e.add(e.add(e.add(mBase, warpRowM), accCol), j * 8 + s);
          Value value = accs[(i * fragsM + j) * 4 + h * 2 + s];
          e.ifThen(e.ult(m, rows), [&] {
            memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf,
                                        value, tBuf, ValueRange{m, r});
          });
        }
    }
  gpu::ReturnOp::create(b, loc);
}

} // namespace

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

std::optional<PlantedDefect> slr::parsePlantedDefect(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<PlantedDefect>>(name)
      .Case("none", PlantedDefect::None)
      .Case("drop-barrier", PlantedDefect::DropBarrier)
      .Case("short-wait", PlantedDefect::ShortWait)
      .Case("read-past-tile", PlantedDefect::ReadPastTile)
      .Default(std::nullopt);
}

std::optional<std::string>
slr::checkSLRLinearKernelSpec(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  auto fmt = [](auto &&...args) {
    return std::optional<std::string>(llvm::formatv(args...).str());
  };
  if (!spec.elementType ||
      !(spec.elementType.isBF16() || spec.elementType.isF16()))
    return fmt("element type must be f16 or bf16 (tensor cores, f32 "
               "accumulation)");
  if (t.tileK < 32 || t.tileK % 32)
    return fmt("tile-k must be a positive multiple of 32 (got {0})", t.tileK);
  if (t.warpsN < 1 || t.warpsM < 1 || t.warpsN * t.warpsM > 32)
    return fmt("warps-n x warps-m must be between 1 and 32 warps (got {0}x{1})",
               t.warpsN, t.warpsM);
  if (t.tileN < 16 || t.tileN % (16 * t.warpsN))
    return fmt("tile-n must be a positive multiple of 16 * warps-n = {0} (got "
               "{1})",
               16 * t.warpsN, t.tileN);
  if (t.tileM < 8 || t.tileM % (8 * t.warpsM))
    return fmt("tile-m must be a positive multiple of 8 * warps-m = {0} (got "
               "{1})",
               8 * t.warpsM, t.tileM);
  if (t.stages < 2 || t.stages > 8)
    return fmt("stages must be between 2 and 8 (got {0})", t.stages);
  if (spec.n <= 0 || spec.n % t.tileN)
    return fmt("output features N = {0} must be a multiple of tile-n = {1}",
               spec.n, t.tileN);
  if (spec.k <= 0 || spec.k % t.tileK)
    return fmt("input features K = {0} must be a multiple of tile-k = {1}",
               spec.k, t.tileK);
  if (spec.rank < 0 || spec.rank % 16)
    return fmt("low-rank rank r = {0} must be a multiple of 16 (pad U and V "
               "with zeros)",
               spec.rank);
  int64_t shared = computeMainLayout(spec).totalBytes;
  if (spec.rank)
    shared = std::max(shared, computeLowRankLayout(spec).totalBytes);
  if (shared > kMaxSharedBytes)
    return fmt("tiling needs {0} bytes of shared memory per block, more than "
               "the {1} available; use fewer stages or smaller tiles",
               shared, kMaxSharedBytes);
  return std::nullopt;
}

SLRLinearKernels slr::buildSLRLinearKernels(OpBuilder &builder,
                                            gpu::GPUModuleOp module,
                                            const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  Type elt = spec.elementType;
  MLIRContext *ctx = builder.getContext();
  Type f32 = Float32Type::get(ctx);
  SLRLinearKernels kernels;
  kernels.threads = 32 * t.warpsN * t.warpsM;
  kernels.kBlocks = spec.k / t.tileK;

  MainLayout mainLayout = computeMainLayout(spec);
  kernels.mainSharedBytes = mainLayout.totalBytes;
  SmallVector<Type> mainArgs = {
      memrefType({ShapedType::kDynamic, spec.k}, elt),
      memrefType({spec.n, spec.k / 2}, elt),
      memrefType({mma::metadataWordCount(spec.n, spec.k)},
                 IntegerType::get(ctx, 32))};
  if (spec.rank) {
    mainArgs.push_back(memrefType({spec.n, spec.rank}, elt));
    mainArgs.push_back(memrefType({ShapedType::kDynamic, spec.rank}, f32));
  }
  if (spec.hasBias)
    mainArgs.push_back(memrefType({spec.n}, elt));
  mainArgs.push_back(memrefType({ShapedType::kDynamic, spec.n}, elt));
  bool exists = false;
  kernels.main = createKernel(builder, module, mainKernelName(spec), mainArgs,
                              kernels.threads, exists);
  if (!exists) {
    emitMainKernel(kernels.main, spec, mainLayout);
    tidyKernel(kernels.main);
  }

  if (spec.rank) {
    LowRankLayout lrLayout = computeLowRankLayout(spec);
    kernels.lowRankTileN = lrLayout.tileN;
    kernels.lowRankTileM = kLowRankTileM;
    kernels.lowRankThreads = 32 * kLowRankWarpsM;
    kernels.lowRankSharedBytes = lrLayout.totalBytes;
    SmallVector<Type> args = {
        memrefType({ShapedType::kDynamic, spec.k}, elt),
        memrefType({spec.rank, spec.k}, elt),
        memrefType({ShapedType::kDynamic, spec.rank}, f32)};
    kernels.lowRank = createKernel(builder, module, lowRankKernelName(spec),
                                   args, kernels.lowRankThreads, exists);
    if (!exists) {
      emitLowRankKernel(kernels.lowRank, spec, lrLayout);
      tidyKernel(kernels.lowRank);
    }
  }
  return kernels;
}

gpu::GPUFuncOp slr::buildMetadataReorderKernel(OpBuilder &builder,
                                               gpu::GPUModuleOp module,
                                               int64_t n, int64_t k,
                                               Type positionType) {
  MLIRContext *ctx = builder.getContext();
  Type i32 = IntegerType::get(ctx, 32);
  int64_t words = mma::metadataWordCount(n, k);
  std::string name = llvm::formatv("slr_reorder_meta_n{0}_k{1}_i{2}", n, k,
                                   positionType.getIntOrFloatBitWidth())
                         .str();
  bool exists = false;
  gpu::GPUFuncOp func = createKernel(
      builder, module, name,
      {memrefType({n, k / 4}, positionType), memrefType({words}, i32)},
      kReorderThreads, exists);
  if (exists)
    return func;

  Location loc = func.getLoc();
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&func.getBody().front());
  KernelEmitter e(b, loc, Float16Type::get(ctx), &func.getBody().front(),
                  PlantedDefect::None);
  Value positions = func.getArgument(0), meta = func.getArgument(1);
  Value index =
      e.add(e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x),
                  kReorderThreads),
            gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x));
  e.ifThen(e.ult(index, e.c(words)), [&] {
    // index = (nTile * K/32 + kTile) * 16 + w, see metadataWordIndex().
    Value tile = e.div(index, mma::kMetaWordsPerTile);
    Value w = e.rem(index, mma::kMetaWordsPerTile);
    Value nTile = e.div(tile, k / 32), kTile = e.rem(tile, k / 32);
    Value row0 = e.add(e.mul(nTile, 16), e.div(w, 2));
    Value group0 = e.add(e.mul(kTile, 8), e.mul(e.rem(w, 2), 4));
    Value word = arith::ConstantIntOp::create(b, loc, 0, 32);
    unsigned bits = positionType.getIntOrFloatBitWidth();
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t j = 0; j < 4; ++j) {
        Value p = memref::LoadOp::create(
            b, loc, positions,
            ValueRange{e.add(row0, 8 * h), e.add(group0, j)});
        if (bits < 32)
          p = arith::ExtUIOp::create(b, loc, i32, p);
        else if (bits > 32)
          p = arith::TruncIOp::create(b, loc, i32, p);
        p = arith::AndIOp::create(b, loc, p,
                                  arith::ConstantIntOp::create(b, loc, 15, 32));
        p = arith::ShLIOp::create(
            b, loc, p,
            arith::ConstantIntOp::create(b, loc, 16 * h + 4 * j, 32));
        word = arith::OrIOp::create(b, loc, word, p);
      }
    memref::StoreOp::create(b, loc, word, meta, ValueRange{index});
  });
  gpu::ReturnOp::create(b, loc);
  tidyKernel(func);
  return func;
}
