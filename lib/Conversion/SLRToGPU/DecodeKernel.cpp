//===- DecodeKernel.cpp - The decode (M <= 16) kernel of slr.linear -------===//
//
// decode_sm80: y = x*S^T + (x*V^T)*U^T + b for few rows of x, one launch,
// bound by the bytes of the weights rather than by tensor-core work. The
// grid is (N / tileN, K / kSlice, ceil(M / tileM)): every CTA owns tileN
// rows of S and one K slice, so that even N = 4096 gives every SM blocks to
// stream. Warp w of a CTA owns the 16-row metadata tile nTile of S; per
// 64 columns of its slice lane l = 16 kh + w' loads metadata word w' of
// 32-column tile 2 it + kh (128 contiguous bytes per warp) and the 16 bytes
// of packed values of the two rows that word describes (rows w'/2 and
// w'/2 + 8 of the tile, columns 16 (w' % 2) ..), decodes the 2:4 positions
// and gathers x from workgroup memory, where the slice of x is staged once
// per CTA as f32 [kSlice][tileM]; products accumulate in f32.
//
// The low-rank term is linear in the K split, y = sum_slices (x_s S_s^T +
// (x_s V_s^T) U^T): each CTA computes its slice's t_s = x_s V_s^T (rank x
// tileM, in workgroup memory) and adds t_s U^T for its own rows, so no CTA
// waits for another. The four lanes that share two rows reduce with
// shuffles; the partial sums go to an f32 workspace with atomic adds. The
// CTA that finishes last for its rows (an atomic counter per (row tile, M
// tile), after a gpu-scope fence) reads the sums back by atomic exchange
// with 0, adds the bias and writes y, and resets its counter: the workspace
// and counters are zero again after every launch.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

/// Enough CTAs per launch for every SM of the largest chips (132 on H100)
/// to hold two.
static constexpr int64_t kDecodeTargetCtas = 264;

DecodeLayout
slr::gpu_kernels::computeDecodeLayout(const SLRLinearKernelSpec &spec) {
  DecodeLayout l;
  l.warps = 1;
  for (int64_t warps : {8, 4, 2})
    if (spec.n % (16 * warps) == 0) {
      l.warps = warps;
      break;
    }
  l.threads = 32 * l.warps;
  l.tileN = 16 * l.warps;
  l.tileM = 1;
  while (l.tileM <
         std::min<int64_t>(std::max<int64_t>(spec.maxRows, 1), kDecodeMaxRows))
    l.tileM *= 2;
  // The widest slice (fewest partial sums) that still gives enough CTAs.
  l.kSlice = 64;
  for (int64_t slice : {512, 256, 128}) {
    if (spec.k % slice)
      continue;
    l.kSlice = slice;
    if (spec.n / l.tileN * (spec.k / slice) >= kDecodeTargetCtas)
      break;
  }
  l.kSlices = spec.k % l.kSlice ? 0 : spec.k / l.kSlice;
  l.offX = 0;
  l.offT = alignTo(l.kSlice * l.tileM * 4, kSharedAlign);
  l.offFlag = alignTo(l.offT + spec.rank * l.tileM * 4, kSharedAlign);
  l.totalBytes = l.offFlag + 16;
  return l;
}

std::string slr::gpu_kernels::decodeKernelName(const SLRLinearKernelSpec &spec,
                                               const DecodeLayout &layout) {
  return llvm::formatv("slr_decode_{0}_n{1}_k{2}_r{3}{4}_m{5}_w{6}_ks{7}",
                       typeName(spec.elementType), spec.n, spec.k, spec.rank,
                       spec.hasBias ? "_bias" : "", layout.tileM, layout.warps,
                       layout.kSlice)
      .str();
}

namespace {

/// The decode kernel's emitter: KernelEmitter plus loops and vector math.
struct DecodeEmitter : KernelEmitter {
  using KernelEmitter::KernelEmitter;

  /// for (i = lb; i < ub; i += step) body(i, iterArgs) -> yielded values.
  SmallVector<Value>
  loop(Value lb, Value ub, int64_t step, ValueRange init,
       function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto op = scf::ForOp::create(
        b, loc, lb, ub, c(step), init,
        [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          SmallVector<Value> out = body(iv, args);
          scf::YieldOp::create(b, loc, out);
        });
    return SmallVector<Value>(op.getResults());
  }

  /// for (item = tid; item < total; item += threads) body(item).
  void strided(Value tid, int64_t threads, int64_t total,
               function_ref<void(Value)> body) {
    if (total <= threads) {
      ifThen(ult(tid, c(total)), [&] { body(tid); });
      return;
    }
    loop(tid, c(total), threads, {}, [&](Value item, ValueRange) {
      body(item);
      return SmallVector<Value>();
    });
  }

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value splat(VectorType type, Value scalar) {
    return vector::BroadcastOp::create(b, loc, type, scalar);
  }
  Value zeros(VectorType type) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, 0.0f));
  }
  /// acc + splat(a) * v.
  Value fmaSplat(Value a, Value v, Value acc) {
    return vector::FMAOp::create(
        b, loc, splat(cast<VectorType>(v.getType()), a), v, acc);
  }
  Value extract(Value vec, int64_t i) {
    return vector::ExtractOp::create(b, loc, vec, i);
  }
  Value toF32(Value v) {
    return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  }
  Value load(VectorType type, Value mem, ValueRange idx, int64_t align) {
    return vector::LoadOp::create(b, loc, type, mem, idx,
                                  /*nontemporal=*/false,
                                  llvm::MaybeAlign(align));
  }
  Value shrAnd(Value word, int64_t shift, int64_t mask) {
    Value v = word;
    if (shift)
      v = arith::ShRUIOp::create(
          b, loc, v, arith::ConstantIntOp::create(b, loc, shift, 32));
    v = arith::AndIOp::create(b, loc, v,
                              arith::ConstantIntOp::create(b, loc, mask, 32));
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v);
  }
};

} // namespace

void slr::gpu_kernels::emitDecodeKernel(gpu::GPUFuncOp func,
                                        const SLRLinearKernelSpec &spec,
                                        const DecodeLayout &layout) {
  Type elt = spec.elementType;
  Location loc = func.getLoc();
  OpBuilder b(func.getContext());
  b.setInsertionPointToStart(&func.getBody().front());
  DecodeEmitter e(b, loc, elt, &func.getBody().front(), spec.defect);

  unsigned argIdx = 0;
  Value x = func.getArgument(argIdx++);
  Value values = func.getArgument(argIdx++);
  Value meta = func.getArgument(argIdx++);
  Value u, v, bias;
  if (spec.rank) {
    u = func.getArgument(argIdx++);
    v = func.getArgument(argIdx++);
  }
  if (spec.hasBias)
    bias = func.getArgument(argIdx++);
  Value ws = func.getArgument(argIdx++);
  Value counters = func.getArgument(argIdx++);
  Value y = func.getArgument(argIdx++);

  const int64_t threads = layout.threads, tileM = layout.tileM,
                tileN = layout.tileN, kSlice = layout.kSlice, rank = spec.rank;
  const int64_t numKTiles32 = spec.k / 32;
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({tileM}, f32);
  auto vec8T = VectorType::get({8}, elt);
  auto vec4T = VectorType::get({4}, elt);

  Value tid = gpu::ThreadIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value lane = e.rem(tid, 32);
  Value warp = e.div(tid, 32);
  Value nBlock = gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::x);
  Value slice = gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::y);
  Value mBlock = gpu::BlockIdOp::create(b, loc, mlir::gpu::Dimension::z);
  Value nBase = e.mul(nBlock, tileN);
  Value kBase = e.mul(slice, kSlice);
  Value mBase = e.mul(mBlock, tileM);
  Value rows = memref::DimOp::create(b, loc, x, 0);

  auto i8Space = e.sharedType({ShapedType::kDynamic}, b.getI8Type());
  Value shared = gpu::DynamicSharedMemoryOp::create(b, loc, i8Space);
  Value sX = e.view(shared, layout.offX, {kSlice, tileM}, f32);
  Value sT;
  if (rank)
    sT = e.view(shared, layout.offT, {rank, tileM}, f32);
  Value sFlag = e.view(shared, layout.offFlag, {1}, b.getI32Type());

  // Stage x[mBase.., kBase..] as f32 [k][m] (zero past the last row), and
  // zero t.
  e.strided(tid, threads, tileM * kSlice / 8, [&](Value item) {
    Value m = e.div(item, kSlice / 8);
    Value k = e.mul(e.rem(item, kSlice / 8), 8);
    Value row = e.add(mBase, m);
    Value valid = e.ult(row, rows);
    auto load = scf::IfOp::create(b, loc, TypeRange{vec8T}, valid,
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(load.thenBlock());
      scf::YieldOp::create(b, loc,
                           e.load(vec8T, x, {row, e.add(kBase, k)}, 16));
      b.setInsertionPointToStart(load.elseBlock());
      scf::YieldOp::create(b, loc, e.zeros(vec8T));
    }
    for (int64_t j = 0; j < 8; ++j)
      memref::StoreOp::create(b, loc, e.toF32(e.extract(load.getResult(0), j)),
                              sX, ValueRange{e.add(k, j), m});
  });
  if (rank)
    e.strided(tid, threads, rank * tileM, [&](Value item) {
      memref::StoreOp::create(
          b, loc, e.f32(0.0), sT,
          ValueRange{e.div(item, tileM), e.rem(item, tileM)});
    });
  e.barrier();

  // t += x_slice * V_slice^T: one item per (rank row, 64 columns of the
  // slice), summed into workgroup memory with atomics.
  if (rank) {
    e.strided(tid, threads, rank * (kSlice / 64), [&](Value item) {
      Value r = e.rem(item, rank);
      Value k0 = e.mul(e.div(item, rank), 64);
      // A loop, not straight-line code: unrolled, ptxas hoists the loads of
      // x ahead of their FMAs and spills at 16 rows.
      Value acc = e.loop(
          e.c(0), e.c(64), 8, {e.zeros(accType)},
          [&](Value c, ValueRange in) -> SmallVector<Value> {
            Value acc = in[0];
            Value col = e.add(k0, c);
            Value vv = e.load(vec8T, v, {r, e.add(kBase, col)}, 16);
            for (int64_t j = 0; j < 8; ++j) {
              Value xv = e.load(accType, sX, {e.add(col, j), e.c(0)},
                                std::min<int64_t>(tileM * 4, 16));
              acc = e.fmaSplat(e.toF32(e.extract(vv, j)), xv, acc);
            }
            return {acc};
          })[0];
      for (int64_t m = 0; m < tileM; ++m)
        memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf,
                                    e.extract(acc, m), sT,
                                    ValueRange{r, e.c(m)});
    });
    e.barrier();
  }

  // The sparse part: lane = 16 kh + w; word w of a 32-column metadata tile
  // describes rows w/2 (bits 0-15) and w/2 + 8 (bits 16-31) of the 16-row
  // tile, columns 16 (w % 2) .. + 15.
  Value w = e.rem(lane, 16);
  Value kh = e.div(lane, 16);
  Value nTile = e.add(e.mul(nBlock, layout.warps), warp);
  Value row0 = e.add(e.mul(nTile, 16), e.div(w, 2));
  Value rowsN[2] = {row0, e.add(row0, 8)};
  Value colInTile = e.add(e.mul(kh, 32), e.mul(e.rem(w, 2), 16));
  const int64_t iters = kSlice / 64;
  // Loads of `unroll` steps are issued before their FMAs; with 16 rows of x
  // the accumulators leave registers for one step only (ptxas spills
  // otherwise, docs/BENCHMARKS.md).
  const int64_t unroll = std::min<int64_t>(iters, tileM >= 16  ? 1
                                                  : tileM >= 8 ? 2
                                                               : 4);
  SmallVector<Value> accs = {e.zeros(accType), e.zeros(accType)};
  accs =
      e.loop(e.c(0), e.c(iters), unroll, accs, [&](Value it0, ValueRange in) {
        SmallVector<Value> acc(in);
        // Issue every load of the unrolled iterations before using any.
        SmallVector<Value> words, vals[2], cols;
        for (int64_t u0 = 0; u0 < unroll; ++u0) {
          Value it = e.add(it0, u0);
          Value col = e.add(e.mul(it, 64), colInTile); // in the slice
          cols.push_back(col);
          Value kTile =
              e.add(e.mul(slice, kSlice / 32), e.add(e.mul(it, 2), kh));
          Value wordIdx = metadataWordIndex(e, nTile, kTile, numKTiles32, w);
          words.push_back(memref::LoadOp::create(b, loc, meta, wordIdx));
          Value vcol = e.div(e.add(kBase, col), 2);
          for (int h = 0; h < 2; ++h)
            vals[h].push_back(e.load(vec8T, values, {rowsN[h], vcol}, 16));
        }
        for (int64_t u0 = 0; u0 < unroll; ++u0)
          for (int h = 0; h < 2; ++h)
            for (int64_t g = 0; g < 4; ++g) {
              Value nibble = words[u0];
              for (int64_t s = 0; s < 2; ++s) {
                Value pos = e.shrAnd(nibble, 16 * h + 4 * g + 2 * s, 3);
                Value k = e.add(e.add(cols[u0], 4 * g), pos);
                Value xv = e.load(accType, sX, {k, e.c(0)},
                                  std::min<int64_t>(tileM * 4, 16));
                acc[h] = e.fmaSplat(e.toF32(e.extract(vals[h][u0], 2 * g + s)),
                                    xv, acc[h]);
              }
            }
        return acc;
      });

  // Low-rank: the four lanes of a row pair (w/2 fixed, q = w % 2 + 2 kh)
  // take a quarter of the rank each.
  if (rank) {
    Value q = e.add(e.rem(w, 2), e.mul(kh, 2));
    int64_t quarter = rank / 4;
    Value r0 = e.mul(q, quarter);
    accs = e.loop(e.c(0), e.c(quarter), 4, accs,
                  [&](Value c4, ValueRange in) -> SmallVector<Value> {
                    SmallVector<Value> acc(in);
                    Value r = e.add(r0, c4);
                    for (int h = 0; h < 2; ++h) {
                      Value uv = e.load(vec4T, u, {rowsN[h], r}, 8);
                      for (int64_t j = 0; j < 4; ++j) {
                        Value tv =
                            e.load(accType, sT, {e.add(r, j), e.c(0)},
                                   std::min<int64_t>(tileM * 4, 16));
                        acc[h] = e.fmaSplat(e.toF32(e.extract(uv, j)), tv,
                                            acc[h]);
                      }
                    }
                    return acc;
                  });
  }

  // Reduce over the four lanes (xor 1: the other column half, xor 16: the
  // other 32-column tile), then lanes with (lane & 17) == 0 add to ws.
  Value owner = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::eq,
      arith::AndIOp::create(b, loc, lane, e.c(17)), e.c(0));
  for (int h = 0; h < 2; ++h)
    for (int64_t m = 0; m < tileM; ++m) {
      Value s = e.extract(accs[h], m);
      for (int32_t offset : {1, 16}) {
        Value other = gpu::ShuffleOp::create(b, loc, s, offset, 32,
                                             mlir::gpu::ShuffleMode::XOR)
                          .getShuffleResult();
        s = arith::AddFOp::create(b, loc, s, other);
      }
      Value row = e.add(mBase, m);
      Value store = arith::AndIOp::create(b, loc, owner, e.ult(row, rows));
      e.ifThen(store, [&] {
        memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, s, ws,
                                    ValueRange{row, rowsN[h]});
      });
    }

  // The last CTA of this (row tile, M tile) writes y.
  NVVM::MembarOp::create(b, loc, NVVM::MemScopeKind::GPU);
  e.barrier();
  Value counterIdx = e.add(
      e.mul(mBlock, gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::x)),
      nBlock);
  Value slices = gpu::GridDimOp::create(b, loc, mlir::gpu::Dimension::y);
  Value lastArrival = arith::IndexCastUIOp::create(b, loc, b.getI32Type(),
                                                   e.sub(slices, e.c(1)));
  e.ifThen(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, e.c(0)),
           [&] {
             Value one = arith::ConstantIntOp::create(b, loc, 1, 32);
             Value old = memref::AtomicRMWOp::create(
                 b, loc, arith::AtomicRMWKind::addi, one, counters,
                 ValueRange{counterIdx});
             Value last = arith::CmpIOp::create(
                 b, loc, arith::CmpIPredicate::eq, old, lastArrival);
             memref::StoreOp::create(
                 b, loc, arith::ExtUIOp::create(b, loc, b.getI32Type(), last),
                 sFlag, ValueRange{e.c(0)});
           });
  e.barrier();
  Value flag = memref::LoadOp::create(b, loc, sFlag, ValueRange{e.c(0)});
  Value isLast =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, flag,
                            arith::ConstantIntOp::create(b, loc, 0, 32));
  e.ifThen(isLast, [&] {
    NVVM::MembarOp::create(b, loc, NVVM::MemScopeKind::GPU);
    e.strided(tid, threads, tileM * tileN, [&](Value item) {
      Value row = e.add(mBase, e.div(item, tileN));
      Value n = e.add(nBase, e.rem(item, tileN));
      e.ifThen(e.ult(row, rows), [&] {
        Value sum =
            memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::assign,
                                        e.f32(0.0), ws, ValueRange{row, n});
        if (bias)
          sum = arith::AddFOp::create(
              b, loc, sum,
              e.toF32(memref::LoadOp::create(b, loc, bias, ValueRange{n})));
        memref::StoreOp::create(b, loc,
                                arith::TruncFOp::create(b, loc, elt, sum), y,
                                ValueRange{row, n});
      });
    });
    e.ifThen(
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, e.c(0)),
        [&] {
          memref::StoreOp::create(b, loc,
                                  arith::ConstantIntOp::create(b, loc, 0, 32),
                                  counters, ValueRange{counterIdx});
        });
  });
  gpu::ReturnOp::create(b, loc);
}
