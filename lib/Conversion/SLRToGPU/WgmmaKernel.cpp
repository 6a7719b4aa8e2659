//===- WgmmaKernel.cpp - The sm_90a fused 2:4 + low-rank kernel -----------===//
//
// wgmma_sp_sm90a: y = x*S^T + t*U^T + b for a 128 x 128 block of y per CTA,
// computed transposed (y^T = S*x^T + U*t^T): S is the sparse A operand of
// wgmma.mma_async.sp, where the instruction wants the sparse matrix, and x
// (row-major [M, K]) is a K-major B operand as it lies in memory, as are U
// and t for the dense low-rank k-blocks.
//
//  * Warpgroup 0 is the producer (setmaxnreg.dec): one thread waits for a
//    free stage (mbarrier `empty`), arms `full` with the stage's byte count
//    and issues cp.async.bulk.tensor.2d copies through the launcher's
//    tensor maps (x and S, and the stage's metadata words; then, after the
//    K blocks, t and U for the rank blocks).
//  * Warpgroups 1 and 2 are consumers (setmaxnreg.inc), 64 rows of S each:
//    per stage they wait on `full`, issue two m64n128k32 sparse wgmmas (or
//    four dense m64n128k16 ones for a rank block) from shared-memory
//    descriptors into the same 64 f32 accumulators, and keep that group in
//    flight while waiting for the previous one (wgmma.wait_group 1), whose
//    stage then goes back to the producer.
//  * The epilogue adds the bias and writes y once from the accumulators.
//
// The 2:4 metadata of wgmma.mma_async.sp with 16-bit types: warp w of the
// warpgroup holds rows 16w .. 16w+15 of the 64-row A tile, and within a warp
// the words are those of mma.sp m16n8k32 (sparsity selector 0: lanes 4g and
// 4g+1 give rows g and g+8, columns 0-15 and 16-31), so the reordered words
// of MMALayout.h serve both kernels. PTX the NVVM dialect of LLVM 22 lacks
// (wgmma.mma_async.sp, and the TMA, mbarrier and dense wgmma forms used
// with 32-bit shared addresses) is inline PTX; fences, wgmma groups and
// setmaxnreg are NVVM ops.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

WgmmaLayout
slr::gpu_kernels::computeWgmmaLayout(const SLRLinearKernelSpec &spec) {
  WgmmaLayout l;
  const int64_t rowBytesX = kWgmmaTileK * 2;     // 128: 128B swizzle
  const int64_t rowBytesS = kWgmmaTileK / 2 * 2; // 64: 64B swizzle
  const int64_t rowBytesU = kWgmmaRankBlock * 2; // 128: 128B swizzle
  l.offA = 0;
  l.offB = kWgmmaTileM * rowBytesX;
  int64_t bBytes = kWgmmaTileN * (spec.rank ? rowBytesU : rowBytesS);
  l.offMeta = l.offB + bBytes;
  int64_t metaBytes = kWgmmaTileN / 16 * (kWgmmaTileK / 32) * 16 * 4;
  l.stageBytes = alignTo(l.offMeta + metaBytes, 1024);
  l.stages = spec.rank ? 4 : 6;
  l.offBarriers = l.stages * l.stageBytes;
  l.sparseTxBytes =
      kWgmmaTileM * rowBytesX + kWgmmaTileN * rowBytesS + metaBytes;
  l.lowRankTxBytes = (kWgmmaTileM + kWgmmaTileN) * rowBytesU;
  l.totalBytes = alignTo(1024 + l.offBarriers + 16 * l.stages, 16);
  l.maps = static_cast<int64_t>(
      wgmma::tensorMaps(spec.n, spec.k, spec.rank).size());
  return l;
}

std::string slr::gpu_kernels::wgmmaKernelName(const SLRLinearKernelSpec &spec,
                                              const WgmmaLayout &layout) {
  return llvm::formatv("slr_wgmma_sp_{0}_n{1}_k{2}_r{3}{4}_t{5}x{6}x{7}_s{8}{9}",
                       typeName(spec.elementType), spec.n, spec.k, spec.rank,
                       spec.hasBias ? "_bias" : "", kWgmmaTileN, kWgmmaTileM,
                       kWgmmaTileK, layout.stages, defectSuffix(spec.defect))
      .str();
}

namespace {

/// KernelEmitter plus inline PTX, 32-bit shared addresses and the wgmma
/// pieces.
struct WgmmaEmitter : KernelEmitter {
  using KernelEmitter::KernelEmitter;

  Value i32(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 32); }
  Value i64(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 64); }
  Value toI32(Value index) {
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), index);
  }
  Value toI64(Value index) {
    return arith::IndexCastUIOp::create(b, loc, b.getI64Type(), index);
  }

  /// Inline PTX with side effects; `result` null for none.
  Value ptx(StringRef text, StringRef constraints, ValueRange operands,
            Type result = Type()) {
    auto op = LLVM::InlineAsmOp::create(
        b, loc, result, operands, b.getStringAttr(text),
        b.getStringAttr(constraints), b.getUnitAttr(), UnitAttr(),
        LLVM::TailCallKindAttr(),
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        ArrayAttr());
    return result ? op.getResult(0) : Value();
  }

  //===--- mbarriers ----------------------------------------------------===//

  void mbarrierInit(Value bar, int64_t count) {
    ptx("mbarrier.init.shared::cta.b64 [$0], $1;", "r,r",
        {toI32(bar), i32(count)});
  }
  void arriveExpectTx(Value bar, int64_t bytes) {
    ptx("mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r",
        {toI32(bar), i32(bytes)});
  }
  void arrive(Value bar) {
    ptx("mbarrier.arrive.shared::cta.b64 _, [$0];", "r", {toI32(bar)});
  }
  /// Blocks until the phase of parity `parity` (i32) of `bar` completed.
  void waitParity(Value bar, Value parity) {
    ptx("{\n.reg .pred p;\nLAB_WAIT:\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [$0], $1;\n"
        "@!p bra LAB_WAIT;\n}",
        "r,r", {toI32(bar), parity});
  }

  /// TMA: box (c0 = column, c1 = row) of tensor map `map` into `dst`,
  /// completing `bytes` on `bar`.
  void tensorCopy(Value dst, Value map, Value c0, Value c1, Value bar) {
    ptx("cp.async.bulk.tensor.2d.shared::cluster.global.tile"
        ".mbarrier::complete_tx::bytes [$0], [$1, {$2, $3}], [$4];",
        "r,l,r,r,r", {toI32(dst), map, toI32(c0), toI32(c1), toI32(bar)});
  }

  Value loadShared32(Value addr) {
    return ptx("ld.shared.b32 $0, [$1];", "=r,r", {toI32(addr)},
               b.getI32Type());
  }

  //===--- wgmma --------------------------------------------------------===//

  /// A shared-memory matrix descriptor: K-major, swizzled rows of
  /// `rowBytes` (128: 128B mode, 64: 64B mode), 8-row groups `8 * rowBytes`
  /// apart (stride byte offset), leading byte offset unused (1).
  Value descriptor(Value addr, int64_t rowBytes) {
    int64_t mode = rowBytes == 128 ? 1 : 2; // bits 62-63
    uint64_t high = (uint64_t(8 * rowBytes) >> 4) << 32 | (uint64_t(1) << 16) |
                    uint64_t(mode) << 62;
    Value start = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, toI64(addr), i64(4)),
        i64(0x3FFF));
    return arith::OrIOp::create(b, loc, start, i64(static_cast<int64_t>(high)));
  }

  Type accType() {
    return LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(64, b.getF32Type()));
  }

  /// acc += A * B, m64n128: sparse k32 with metadata `meta`, or dense k16.
  Value wgmma(Value acc, Value descA, Value descB, Value meta) {
    std::string type = typeName(elementType);
    std::string text = "{\n.reg .pred p;\nsetp.ne.b32 p, $" +
                       std::to_string(meta ? 67 : 66) + ", 0;\n";
    text += meta ? "wgmma.mma_async.sp.sync.aligned.m64n128k32.f32."
                 : "wgmma.mma_async.sync.aligned.m64n128k16.f32.";
    text += type + "." + type + " {";
    std::string constraints;
    for (int i = 0; i < 64; ++i) {
      text += (i ? ", $" : "$") + std::to_string(i);
      constraints += "=f,";
    }
    text += "}, $64, $65, ";
    constraints += "l,l,";
    SmallVector<Value> operands = {descA, descB};
    if (meta) {
      text += "$66, 0, ";
      constraints += "r,";
      operands.push_back(meta);
    }
    text += "p, 1, 1, 0, 0;\n}";
    constraints += "r";
    operands.push_back(i32(1)); // scale-d: accumulate
    for (int i = 0; i < 64; ++i) {
      constraints += "," + std::to_string(i);
      operands.push_back(LLVM::ExtractValueOp::create(b, loc, acc, i));
    }
    return ptx(text, constraints, operands, accType());
  }
};

} // namespace

void slr::gpu_kernels::emitWgmmaKernel(gpu::GPUFuncOp func,
                                       const SLRLinearKernelSpec &spec,
                                       const WgmmaLayout &layout) {
  Type elt = spec.elementType;
  Location loc = func.getLoc();
  MLIRContext *ctx = func.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&func.getBody().front());
  WgmmaEmitter e(b, loc, elt, &func.getBody().front(), spec.defect);

  unsigned argIdx = 0;
  Value x = func.getArgument(argIdx++);
  argIdx += 2; // values, meta: read through their tensor maps
  Value bias;
  if (spec.rank)
    argIdx += 2; // u, t
  if (spec.hasBias)
    bias = func.getArgument(argIdx++);
  Value y = func.getArgument(argIdx++);
  Value maps = func.getArgument(argIdx++);

  const int64_t stages = layout.stages;
  const int64_t sparseBlocks = spec.k / kWgmmaTileK;
  const int64_t rankBlocks = spec.rank / kWgmmaRankBlock;

  Value tid = gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value warpgroup = e.div(tid, 128);
  Value nBase = e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x),
                      kWgmmaTileN);
  Value mBase = e.mul(gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y),
                      kWgmmaTileM);
  Value rows = memref::DimOp::create(b, loc, x, 0);

  // The dynamic buffer, aligned to 1024 bytes (the repeat of the 128B
  // swizzle pattern, which TMA and the descriptors assume).
  auto i8Space = e.sharedType({ShapedType::kDynamic}, b.getI8Type());
  Value shared = gpu::DynamicSharedMemoryOp::create(b, loc, i8Space);
  Value rawBase =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, shared);
  Value base = arith::AndIOp::create(b, loc, e.add(rawBase, 1023), e.c(~1023));
  Value mapBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, maps);
  auto mapAddr = [&](int64_t map) {
    return e.toI64(e.add(mapBase, 128 * map));
  };
  auto stageAddr = [&](Value stage, int64_t offset) {
    return e.add(e.add(base, e.mul(stage, layout.stageBytes)), offset);
  };
  auto fullBar = [&](Value stage) {
    return e.add(e.add(base, layout.offBarriers), e.mul(stage, 8));
  };
  auto emptyBar = [&](Value stage) {
    return e.add(e.add(base, layout.offBarriers + 8 * stages), e.mul(stage, 8));
  };
  // Stage and phase parity of pipeline iteration `it`.
  auto stageOf = [&](Value it) { return e.rem(it, stages); };
  auto parityOf = [&](Value it) {
    return e.toI32(e.rem(e.div(it, stages), 2));
  };

  Value isThread0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, e.c(0));
  e.ifThen(isThread0, [&] {
    for (int64_t s = 0; s < stages; ++s) {
      e.mbarrierInit(fullBar(e.c(s)), 1);
      e.mbarrierInit(emptyBar(e.c(s)), 2 * 128); // every consumer thread
    }
    // Make the initialised barriers visible to the async proxy (TMA).
    e.ptx("fence.mbarrier_init.release.cluster;", "", {});
    e.ptx("fence.proxy.async.shared::cta;", "", {});
  });
  e.barrier();

  auto loop =
      [&](int64_t begin, int64_t count, ValueRange init,
          function_ref<SmallVector<Value>(Value, Value, ValueRange)> body)
      -> SmallVector<Value> {
    auto op = scf::ForOp::create(
        b, loc, e.c(0), e.c(count), e.c(1), init,
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          SmallVector<Value> out = body(iv, e.add(iv, begin), args);
          scf::YieldOp::create(b, loc, out);
        });
    return SmallVector<Value>(op.getResults());
  };

  auto isProducer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          warpgroup, e.c(0));
  auto branch = scf::IfOp::create(b, loc, isProducer, /*withElseRegion=*/true);
  {
    // Producer warpgroup: one thread issues every copy.
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(branch.thenBlock());
    NVVM::SetMaxRegisterOp::create(
        b, loc, b.getI32IntegerAttr(kWgmmaProducerRegs),
        NVVM::SetMaxRegisterActionAttr::get(
            ctx, NVVM::SetMaxRegisterAction::decrease));
    e.ifThen(isThread0, [&] {
      // The maps were copied into global memory by the host (generic proxy)
      // and are read by the tensor copies (tensormap proxy): acquire each
      // before its first use, or a map cached from an earlier call at the
      // same address could be used.
      for (int64_t map = 0; map < layout.maps; ++map)
        e.ptx("fence.proxy.tensormap::generic.acquire.gpu [$0], 128;", "l",
              {mapAddr(map)});
      auto acquire = [&](Value it, int64_t bytes) {
        Value stage = stageOf(it);
        // A fresh barrier's preceding phase (parity 1) counts as complete.
        e.waitParity(emptyBar(stage),
                     arith::XOrIOp::create(b, loc, parityOf(it), e.i32(1)));
        e.arriveExpectTx(fullBar(stage), bytes);
        return stage;
      };
      loop(0, sparseBlocks, {}, [&](Value kb, Value it, ValueRange) {
        Value stage = acquire(it, layout.sparseTxBytes);
        Value bar = fullBar(stage);
        e.tensorCopy(stageAddr(stage, layout.offA), mapAddr(kMapX),
                     e.mul(kb, kWgmmaTileK), mBase, bar);
        e.tensorCopy(stageAddr(stage, layout.offB), mapAddr(kMapS),
                     e.mul(kb, kWgmmaTileK / 2), nBase, bar);
        // Words of the 8 metadata tiles (16 rows each) of the CTA's rows,
        // 16 per 32 columns: the tiles are rows of the [N/16, K/2] map.
        e.tensorCopy(stageAddr(stage, layout.offMeta), mapAddr(kMapMeta),
                     e.mul(kb, kWgmmaTileK / 2), e.div(nBase, 16), bar);
        return SmallVector<Value>();
      });
      if (rankBlocks)
        loop(sparseBlocks, rankBlocks, {}, [&](Value rb, Value it, ValueRange) {
          Value stage = acquire(it, layout.lowRankTxBytes);
          Value bar = fullBar(stage);
          Value r0 = e.mul(rb, kWgmmaRankBlock);
          e.tensorCopy(stageAddr(stage, layout.offA), mapAddr(kMapT), r0, mBase,
                       bar);
          e.tensorCopy(stageAddr(stage, layout.offB), mapAddr(kMapU), r0, nBase,
                       bar);
          return SmallVector<Value>();
        });
    });
  }
  {
    // Consumer warpgroups: 64 rows of S each.
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(branch.elseBlock());
    NVVM::SetMaxRegisterOp::create(
        b, loc, b.getI32IntegerAttr(kWgmmaConsumerRegs),
        NVVM::SetMaxRegisterActionAttr::get(
            ctx, NVVM::SetMaxRegisterAction::increase));
    Value consumer = e.sub(warpgroup, e.c(1));
    Value ctid = e.rem(tid, 128);
    Value warp = e.div(ctid, 32);
    Value lane = e.rem(tid, 32);
    Value metaWord = e.laneMap(lane, mma::kMetadataWord);
    // This thread's metadata words in a stage: tile row 4 * consumer + warp.
    Value metaOffset =
        e.mul(e.add(e.mul(e.add(e.mul(consumer, 4), warp), 32), metaWord), 4);
    Value acc = LLVM::ZeroOp::create(b, loc, e.accType());

    // One wgmma of a stage: descriptors of A and B, metadata (sparse only).
    struct Mma {
      Value descA, descB, meta;
    };
    // The operands of a stage's wgmmas are computed (metadata loaded)
    // before wgmma.fence, so that no register a wgmma reads is written
    // between the fence and the wgmma.
    auto consume = [&](Value it, function_ref<SmallVector<Mma>(Value)> operands,
                       Value acc) {
      Value stage = stageOf(it);
      // short-wait (tests only): the consumers read a stage without waiting
      // for its copies.
      if (spec.defect != PlantedDefect::ShortWait)
        e.waitParity(fullBar(stage), parityOf(it));
      SmallVector<Mma> mmas = operands(stage);
      NVVM::WgmmaFenceAlignedOp::create(b, loc);
      for (const Mma &m : mmas)
        acc = e.wgmma(acc, m.descA, m.descB, m.meta);
      NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
      // Keep this stage's group in flight; the previous one is done, so its
      // stage goes back to the producer.
      NVVM::WgmmaWaitGroupSyncOp::create(b, loc, b.getI64IntegerAttr(1));
      e.ifThen(
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, it, e.c(0)),
          [&] { e.arrive(emptyBar(stageOf(e.sub(it, e.c(1))))); });
      return acc;
    };
    acc = loop(0, sparseBlocks, {acc}, [&](Value, Value it, ValueRange in) {
      return SmallVector<Value>{consume(
          it,
          [&](Value stage) {
            Value sBase =
                e.add(stageAddr(stage, layout.offB), e.mul(consumer, 64 * 64));
            Value xBase = stageAddr(stage, layout.offA);
            Value metaBase =
                e.add(stageAddr(stage, layout.offMeta), metaOffset);
            SmallVector<Mma> mmas;
            for (int64_t kk = 0; kk < kWgmmaTileK / 32; ++kk)
              mmas.push_back({e.descriptor(e.add(sBase, kk * 32), 64),
                              e.descriptor(e.add(xBase, kk * 64), 128),
                              e.loadShared32(e.add(metaBase, kk * 16 * 4))});
            return mmas;
          },
          in[0])};
    })[0];
    if (rankBlocks)
      acc = loop(
          sparseBlocks, rankBlocks, {acc}, [&](Value, Value it, ValueRange in) {
            return SmallVector<Value>{consume(
                it,
                [&](Value stage) {
                  Value uBase = e.add(stageAddr(stage, layout.offB),
                                      e.mul(consumer, 64 * 128));
                  Value tBase = stageAddr(stage, layout.offA);
                  SmallVector<Mma> mmas;
                  for (int64_t kk = 0; kk < kWgmmaRankBlock / 16; ++kk)
                    mmas.push_back({e.descriptor(e.add(uBase, kk * 32), 128),
                                    e.descriptor(e.add(tBase, kk * 32), 128),
                                    Value()});
                  return mmas;
                },
                in[0])};
          })[0];

    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, b.getI64IntegerAttr(0));

    // Epilogue: element i of the m64n128 accumulator is row (output feature)
    // 16 warp + lane/4 + 8 ((i/2) % 2) and column (row of x)
    // 8 (i/4) + 2 (lane % 4) + i % 2.
    Value row0 = e.add(e.add(nBase, e.mul(consumer, 64)),
                       e.add(e.mul(warp, 16), e.div(lane, 4)));
    Value col0 = e.add(mBase, e.mul(e.rem(lane, 4), 2));
    Value biasValue[2];
    for (int64_t h = 0; h < 2; ++h)
      if (bias)
        biasValue[h] = arith::ExtFOp::create(
            b, loc, b.getF32Type(),
            memref::LoadOp::create(b, loc, bias, ValueRange{e.add(row0, 8 * h)})
                .getResult());
    for (int64_t j = 0; j < 16; ++j)
      for (int64_t s = 0; s < 2; ++s) {
        Value m = e.add(col0, 8 * j + s);
        e.ifThen(e.ult(m, rows), [&] {
          for (int64_t h = 0; h < 2; ++h) {
            Value v =
                LLVM::ExtractValueOp::create(b, loc, acc, 4 * j + 2 * h + s);
            if (bias)
              v = arith::AddFOp::create(b, loc, v, biasValue[h]);
            memref::StoreOp::create(b, loc,
                                    arith::TruncFOp::create(b, loc, elt, v), y,
                                    ValueRange{m, e.add(row0, 8 * h)});
          }
        });
      }
  }
  gpu::ReturnOp::create(b, loc);
}
