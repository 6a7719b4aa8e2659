//===- SparseLowRankKernel.cpp - The fused 2:4 + low-rank kernel ----------===//
//
// main: y = x*S^T + t*U^T + b for a tileM x tileN block of y per CTA.
// x [tileM, tileK] and the packed values of S [tileN, tileK/2] (plus the
// reordered metadata words) stream through workgroup memory in a
// `stages`-deep cp.async pipeline; ldmatrix feeds nvvm.mma.sp.sync
// (m16n8k32, ordered metadata). The MMA computes y^T tiles: S is the sparse
// A operand (16 output features), x the B operand (8 rows of x), so the
// sparse operand sits where the instruction wants it. The low-rank term
// (t = x*V^T from the projection kernel, f32) is added with nvvm.mma.sync
// m16n8k16 into the same accumulators, then the bias; y is staged in
// workgroup memory and written once with 16-byte stores.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

MainLayout
slr::gpu_kernels::computeMainLayout(const SLRLinearKernelSpec &spec) {
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

std::string slr::gpu_kernels::mainKernelName(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  return llvm::formatv("slr_linear_{0}_n{1}_k{2}_r{3}{4}_t{5}x{6}x{7}_w{8}x{9}_"
                       "s{10}{11}",
                       typeName(spec.elementType), spec.n, spec.k, spec.rank,
                       spec.hasBias ? "_bias" : "", t.tileN, t.tileM, t.tileK,
                       t.warpsN, t.warpsM, t.stages, defectSuffix(spec.defect))
      .str();
}

void slr::gpu_kernels::emitSparseLowRankKernel(gpu::GPUFuncOp func,
                                               const SLRLinearKernelSpec &spec,
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
          Value src = metadataWordIndex(e, nTile, kTile, numKTiles32, q4);
          e.copyAsync(sMeta, {stage, tile, q4}, meta, {src}, 4);
        });
  };

  // Sparse MMAs over one pipeline slot.
  auto compute = [&](Value stage, ValueRange accsIn) {
    SmallVector<Value> accs(accsIn);
    for (int64_t kk = 0; kk < t.tileK / 32; ++kk) {
      Value word; // metadata of A fragment i, loaded with it
      warpTileMma(
          accs, fragsN, fragsM,
          [&](int64_t i) {
            SmallVector<Value> aFrag =
                e.ldmatrix(sS,
                           {stage, e.add(e.add(warpRowN, aRow), i * 16),
                            e.add(aCol, kk * 16)},
                           4);
            word = memref::LoadOp::create(
                b, loc, sMeta,
                ValueRange{stage, e.add(e.mul(warpN, fragsN), i),
                           e.add(metaWord, kk * 16)});
            return aFrag;
          },
          [&](int64_t j) {
            return e.ldmatrix(sX,
                              {stage, e.add(e.add(warpRowM, bRow), j * 8),
                               e.add(bColX4, kk * 32)},
                              4);
          },
          [&](int64_t, ArrayRef<Value> a, ArrayRef<Value> bFrag,
              ArrayRef<Value> acc) {
            return e.mmaSparse(a, bFrag, acc, word);
          });
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
      for (int64_t kk = 0; kk < rc / 16; ++kk)
        warpTileMma(
            accs, fragsN, fragsM,
            [&](int64_t i) {
              return e.ldmatrix(
                  sU,
                  {e.add(e.add(warpRowN, aRow), i * 16), e.add(aCol, kk * 16)},
                  4);
            },
            [&](int64_t j) {
              return e.ldmatrix(
                  sT,
                  {e.add(e.add(warpRowM, bRow), j * 8), e.add(bColX2, kk * 16)},
                  2);
            },
            [&](int64_t, ArrayRef<Value> a, ArrayRef<Value> bFrag,
                ArrayRef<Value> acc) { return e.mmaDense(a, bFrag, acc); });
    }
  }

  // Epilogue: acc (+ bias) -> T -> shared y tile -> 16-byte stores to y.
  e.barrier();
  Value sY = e.view(shared, layout.offY, {t.tileM, layout.ldy}, elt);
  // Accumulator rows are output features n, columns rows m of x.
  forEachAccumulator(
      e, lane, fragsN, fragsM, accs, [&] { return warpRowN; },
      [&] { return warpRowM; },
      [&](Value n) -> Value {
        if (!bias)
          return Value();
        Value raw =
            memref::LoadOp::create(b, loc, bias, ValueRange{e.add(nBase, n)});
        return arith::ExtFOp::create(b, loc, b.getF32Type(), raw);
      },
      [&](Value biasValue, Value n, Value m, Value v) {
        if (biasValue)
          v = arith::AddFOp::create(b, loc, v, biasValue);
        Value narrow = arith::TruncFOp::create(b, loc, elt, v);
        memref::StoreOp::create(b, loc, narrow, sY, ValueRange{m, n});
      });
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
