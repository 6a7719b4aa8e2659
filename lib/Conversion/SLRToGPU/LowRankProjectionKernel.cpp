//===- LowRankProjectionKernel.cpp - t += x * V^T -------------------------===//
//
// lowRank: the projection t[M, R] += x * V^T of the low-rank term, dense
// m16n8k16 MMAs fed by the cp.async pipeline, f32 atomics into t, split over
// K across CTAs along grid.z so that decode-sized M still fills the GPU
// (the split is chosen at launch, LaunchPolicy.h). In the store mode
// (wgmma_sp_sm90a, large M) there is no split: each element of t is written
// once, rounded to the element type, and t needs no zeroing launch.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

LowRankLayout
slr::gpu_kernels::computeLowRankLayout(const SLRLinearKernelSpec &spec) {
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

std::string
slr::gpu_kernels::lowRankKernelName(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  return llvm::formatv("slr_lowrank_{0}_r{1}_k{2}_t{3}_s{4}{5}{6}",
                       typeName(spec.elementType), spec.rank, spec.k, t.tileK,
                       t.stages, lowRankStores(spec) ? "_store" : "",
                       defectSuffix(spec.defect))
      .str();
}

void slr::gpu_kernels::emitLowRankProjectionKernel(
    gpu::GPUFuncOp func, const SLRLinearKernelSpec &spec,
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
    for (int64_t kk = 0; kk < t.tileK / 16; ++kk)
      warpTileMma(
          accs, fragsN, fragsM,
          [&](int64_t i) {
            return e.ldmatrix(
                sV, {stage, e.add(aRow, i * 16), e.add(aCol, kk * 16)}, 4);
          },
          [&](int64_t j) {
            return e.ldmatrix(sX,
                              {stage, e.add(e.add(warpRowM, bRow), j * 8),
                               e.add(bColX2, kk * 16)},
                              2);
          },
          [&](int64_t, ArrayRef<Value> a, ArrayRef<Value> bFrag,
              ArrayRef<Value> acc) { return e.mmaDense(a, bFrag, acc); });
    return accs;
  };

  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
  SmallVector<Value> init(fragsN * fragsM * 4, zero);
  SmallVector<Value> accs =
      e.pipeline(e.sub(end, begin), t.stages, issue, compute, init);

  // Accumulator rows are columns r of t, columns rows m of x.
  forEachAccumulator(
      e, lane, fragsN, fragsM, accs, [&] { return rBase; },
      [&] { return e.add(mBase, warpRowM); }, [](Value) { return Value(); },
      [&](Value, Value r, Value m, Value value) {
        e.ifThen(e.ult(m, rows), [&] {
          if (lowRankStores(spec)) {
            memref::StoreOp::create(b, loc,
                                    arith::TruncFOp::create(b, loc, elt, value),
                                    tBuf, ValueRange{m, r});
            return;
          }
          memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, value,
                                      tBuf, ValueRange{m, r});
        });
      });
  gpu::ReturnOp::create(b, loc);
}
