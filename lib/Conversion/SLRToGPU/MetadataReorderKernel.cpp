//===- MetadataReorderKernel.cpp - 2:4 positions to mma.sp metadata -------===//
//
// reorder: slr's packed positions [N, K/4] -> the [N/16][K/32][16] metadata
// words of mma.sp (mma::reorderMetadata() on the device, one word per
// thread), for positions that are not compile-time constants. Relies on
// slr's packed layout (ascending, distinct positions, as slr.pack writes
// them).
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

void slr::gpu_kernels::emitMetadataReorderKernel(gpu::GPUFuncOp func, int64_t n,
                                                 int64_t k, Type positionType) {
  MLIRContext *ctx = func.getContext();
  Type i32 = IntegerType::get(ctx, 32);
  int64_t words = mma::metadataWordCount(n, k);
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
    // index = (nTile * K/32 + kTile) * 16 + w, see metadataWordIndex();
    // word w covers rows metadataWordRow(w, h), groups from
    // metadataWordFirstGroup(w).
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
}
