//===- KernelEmitter.h - Shared pieces of slr's GPU kernels -----*- C++ -*-===//
//
// Private to lib/Conversion/SLRToGPU: the emitter every kernel family uses
// (index arithmetic, shared-memory views, the cp.async pipeline, ldmatrix
// and tensor-core MMAs), the warp-tile MMA loop, the accumulator-to-(row,
// col) map of the epilogues and the metadata word index. Each kernel family
// lives in its own file (KernelFamilies.h lists them);
// buildSLRLinearKernels (KernelBuilder.cpp) builds the variant that
// chooseKernelVariant picked.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_CONVERSION_SLRTOGPU_KERNELEMITTER_H
#define SLR_LIB_CONVERSION_SLRTOGPU_KERNELEMITTER_H

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

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <string>

namespace slr::gpu_kernels {

using namespace mlir;

/// Row padding (elements) of every shared-memory tile: rows of 16-bit
/// elements become (cols + 8) * 2 bytes, which makes the eight row addresses
/// of an ldmatrix 8x8 matrix hit distinct bank groups.
inline constexpr int64_t kPad = 8;
/// Alignment of the sub-buffers carved out of dynamic shared memory.
inline constexpr int64_t kSharedAlign = 128;
/// Rows of x per CTA of the low-rank kernel (4 warps of 16 rows).
inline constexpr int64_t kLowRankTileM = 64;
inline constexpr int64_t kLowRankWarpsM = 4;
/// Opt-in shared memory per block of sm_80 (A100; sm_90 allows more), less
/// the alignment slack of the static symbol the NVVM lowering declares for
/// dynamic shared memory (it counts as 1 byte of static shared memory).
inline constexpr int64_t kMaxSharedBytes = 163 * 1024 - 128;

inline int64_t alignTo(int64_t value, int64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

inline std::string typeName(Type type) {
  return type.isBF16() ? "bf16" : "f16";
}

/// Largest of 64, 32, 16 dividing `rank`.
inline int64_t rankChunk(int64_t rank) {
  for (int64_t chunk : {64, 32, 16})
    if (rank % chunk == 0)
      return chunk;
  return 16;
}

/// Name suffix of kernels with a planted defect (never shared with correct
/// ones).
const char *defectSuffix(PlantedDefect defect);

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

/// The warp-tile MMA loop every kernel family shares: with fragsM B
/// fragments loaded once (loadB(j)), for each of fragsN A fragments
/// (loadA(i)) accs[(i * fragsM + j) * 4 ..] = mma(i, A_i, B_j, acc).
template <typename LoadA, typename LoadB, typename Mma>
void warpTileMma(SmallVector<Value> &accs, int64_t fragsN, int64_t fragsM,
                 LoadA loadA, LoadB loadB, Mma mma) {
  SmallVector<SmallVector<Value>> bFrags;
  for (int64_t j = 0; j < fragsM; ++j)
    bFrags.push_back(loadB(j));
  for (int64_t i = 0; i < fragsN; ++i) {
    SmallVector<Value> aFrag = loadA(i);
    for (int64_t j = 0; j < fragsM; ++j) {
      auto acc = ArrayRef<Value>(accs).slice((i * fragsM + j) * 4, 4);
      SmallVector<Value> out = mma(i, aFrag, bFrags[j], acc);
      std::copy(out.begin(), out.end(), accs.begin() + (i * fragsM + j) * 4);
    }
  }
}

/// The accumulator-to-(row, col) map of the epilogues. Fragment (i, j) of a
/// warp tile (fragsN fragments of 16 along the MMA's M side, fragsM of 8
/// along its N side) holds, in element h * 2 + s, row
/// rowBase() + accRow + 16 i + 8 h and column colBase() + accCol + 8 j + s.
/// `row(r)` runs once per row and returns what `element(context, r, c, v)`
/// needs of it (the bias, or nothing). The bases are callbacks so that each
/// kernel's index arithmetic is emitted where it was before the epilogue was
/// shared (the IR, hence the PTX, is unchanged).
template <typename RowBase, typename ColBase, typename Row, typename Element>
void forEachAccumulator(KernelEmitter &e, Value lane, int64_t fragsN,
                        int64_t fragsM, ArrayRef<Value> accs, RowBase rowBase,
                        ColBase colBase, Row row, Element element) {
  Value accRow = e.laneMap(lane, mma::kAccRow);
  Value accCol = e.laneMap(lane, mma::kAccCol);
  for (int64_t i = 0; i < fragsN; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Value r = e.add(e.add(rowBase(), accRow), i * 16 + h * 8);
      Value context = row(r);
      for (int64_t j = 0; j < fragsM; ++j)
        for (int64_t s = 0; s < 2; ++s)
          element(context, r, e.add(e.add(colBase(), accCol), j * 8 + s),
                  accs[(i * fragsM + j) * 4 + h * 2 + s]);
    }
}

/// The copy of metadata words [q, q + 4) of tile (nTile, kTile) of the
/// reordered buffer: its index as mma::metadataWordIndex() computes it.
inline Value metadataWordIndex(KernelEmitter &e, Value nTile, Value kTile,
                               int64_t numKTiles, Value word) {
  return e.add(
      e.mul(e.add(e.mul(nTile, numKTiles), kTile), mma::kMetaWordsPerTile),
      word);
}

/// Creates an empty kernel `name` in `module` (or returns the existing one,
/// with `exists`).
gpu::GPUFuncOp createKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                            StringRef name, ArrayRef<Type> argTypes,
                            int64_t threads, bool &exists);

/// Canonicalizes and CSEs a freshly emitted kernel: folds the static
/// pipeline guards and shares the index arithmetic of unrolled loops.
void tidyKernel(gpu::GPUFuncOp func);

inline MemRefType memrefType(ArrayRef<int64_t> shape, Type type) {
  return MemRefType::get(shape, type);
}

} // namespace slr::gpu_kernels

#endif // SLR_LIB_CONVERSION_SLRTOGPU_KERNELEMITTER_H
