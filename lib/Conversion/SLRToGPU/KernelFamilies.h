//===- KernelFamilies.h - The kernel families of slr's GPU path -*- C++ -*-===//
//
// Private to lib/Conversion/SLRToGPU. One file per kernel family, each
// emitting into an empty gpu.func made by createKernel (KernelEmitter.h):
//
//  * SparseLowRankKernel.cpp: y = x*S^T + t*U^T + b, 2:4 mma.sp (m16n8k32,
//    ordered metadata) fed by a cp.async pipeline, the low-rank term with
//    dense mma (m16n8k16), one epilogue through workgroup memory;
//  * LowRankProjectionKernel.cpp: t += x*V^T, dense mma, split over K across
//    CTAs (f32 atomics);
//  * MetadataReorderKernel.cpp: slr's packed 2:4 positions -> mma.sp
//    metadata words on the device (positions that are not constants);
//  * DecodeKernel.cpp (variant decode_sm80): y = x*S^T + (x*V^T)*U^T + b
//    for M <= 16 in one launch, split over N and K, CUDA-core FMAs on the
//    decoded 2:4 values, f32 atomics into a self-clearing workspace;
//  * WgmmaKernel.cpp (variant wgmma_sp_sm90a): y = x*S^T + t*U^T + b for
//    large M on sm_90a, TMA into swizzled shared memory, mbarrier pipeline,
//    a producer warp and two consumer warpgroups issuing wgmma.mma_async.sp
//    (m64n128k32) and, for t*U^T, dense wgmma k-blocks into the same
//    accumulators; t comes from the projection kernel in its store mode.
//
// A new kernel variant (another MMA generation, an M-range specialisation)
// is a new family file plus a case in chooseKernelVariant and
// buildSLRLinearKernels (KernelBuilder.cpp); see docs/HOWTO.md.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_CONVERSION_SLRTOGPU_KERNELFAMILIES_H
#define SLR_LIB_CONVERSION_SLRTOGPU_KERNELFAMILIES_H

#include "slr/Conversion/SLRToGPU/SLRToGPU.h"
#include "slr/Conversion/SLRToGPU/WgmmaTensorMaps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace slr::gpu_kernels {

//===--- fused sparse + low-rank kernel (SparseLowRankKernel.cpp) --------===//

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

MainLayout computeMainLayout(const SLRLinearKernelSpec &spec);
std::string mainKernelName(const SLRLinearKernelSpec &spec);
void emitSparseLowRankKernel(mlir::gpu::GPUFuncOp func,
                             const SLRLinearKernelSpec &spec,
                             const MainLayout &layout);

//===--- low-rank projection kernel (LowRankProjectionKernel.cpp) --------===//

struct LowRankLayout {
  int64_t tileN, ldx, ldv, offX, offV, totalBytes;
};

LowRankLayout computeLowRankLayout(const SLRLinearKernelSpec &spec);
/// The store mode (wgmma_sp_sm90a): no split over K, t [M, R] of the
/// element type written once (the zeroing launch is not needed).
inline bool lowRankStores(const SLRLinearKernelSpec &spec) {
  return spec.variant == GPUKernelVariant::WgmmaSpSm90a;
}
std::string lowRankKernelName(const SLRLinearKernelSpec &spec);
void emitLowRankProjectionKernel(mlir::gpu::GPUFuncOp func,
                                 const SLRLinearKernelSpec &spec,
                                 const LowRankLayout &layout);

//===--- metadata reorder kernel (MetadataReorderKernel.cpp) -------------===//

/// Fills `func` (positions [n, k/4] of `positionType`, words) with the
/// reorder of mma::reorderMetadata(), one word per thread.
void emitMetadataReorderKernel(mlir::gpu::GPUFuncOp func, int64_t n, int64_t k,
                               mlir::Type positionType);

//===--- decode kernel (DecodeKernel.cpp) --------------------------------===//

/// Rows of x one CTA of the decode kernel takes at most (grid.z covers more).
inline constexpr int64_t kDecodeMaxRows = 16;

/// The decode kernel's tiling and workgroup memory (byte offsets).
struct DecodeLayout {
  int64_t warps, threads; ///< one 16-row tile of S per warp
  int64_t tileN;          ///< 16 * warps rows of S per CTA
  int64_t tileM;          ///< rows of x per CTA: a power of two <= 16
  int64_t kSlice;         ///< columns of K per CTA (64 .. 512)
  int64_t kSlices;        ///< K / kSlice: grid.y
  int64_t offX;           ///< x slice, f32 [kSlice][tileM]
  int64_t offT;           ///< t = x*V^T of the slice, f32 [rank][tileM]
  int64_t offFlag;        ///< the last-CTA flag (i32)
  int64_t totalBytes;
};

DecodeLayout computeDecodeLayout(const SLRLinearKernelSpec &spec);
std::string decodeKernelName(const SLRLinearKernelSpec &spec,
                             const DecodeLayout &layout);
/// Fills `func` (x, values, meta, [u, v], [bias], ws, counters, y).
void emitDecodeKernel(mlir::gpu::GPUFuncOp func,
                      const SLRLinearKernelSpec &spec,
                      const DecodeLayout &layout);

//===--- sm_90a wgmma kernel (WgmmaKernel.cpp) ---------------------------===//

/// The CTA tile of wgmma_sp_sm90a (WgmmaTensorMaps.h, shared with the
/// launch and slr-bench-gpu).
inline constexpr int64_t kWgmmaTileN = wgmma::kTileN;
inline constexpr int64_t kWgmmaTileM = wgmma::kTileM;
inline constexpr int64_t kWgmmaTileK = wgmma::kTileK;
inline constexpr int64_t kWgmmaRankBlock = wgmma::kRankBlock;
/// One producer warpgroup (one thread issues the TMA copies) and two
/// consumer warpgroups.
inline constexpr int64_t kWgmmaThreads = 384;
inline constexpr int64_t kWgmmaProducerRegs = 40;
inline constexpr int64_t kWgmmaConsumerRegs = 232;
using wgmma::kMapMeta;
using wgmma::kMapS;
using wgmma::kMapT;
using wgmma::kMapU;
using wgmma::kMapX;

/// Shared memory of the wgmma kernel (byte offsets from the 1024-aligned
/// base; the kernel aligns the dynamic buffer itself, hence the slack).
struct WgmmaLayout {
  int64_t stages;
  int64_t offA;    ///< x [128][64] or t [128][64], 128B swizzle
  int64_t offB;    ///< S values [128][32] (64B swizzle) or U [128][64]
  int64_t offMeta; ///< metadata words [8 tiles of 16 rows][32]
  int64_t stageBytes;
  int64_t offBarriers; ///< full[stages], empty[stages] (8 bytes each)
  int64_t sparseTxBytes, lowRankTxBytes;
  int64_t totalBytes;
  int64_t maps;
};

WgmmaLayout computeWgmmaLayout(const SLRLinearKernelSpec &spec);
std::string wgmmaKernelName(const SLRLinearKernelSpec &spec,
                            const WgmmaLayout &layout);
/// Fills `func` (x, values, meta, [u, t], [bias], y, maps).
void emitWgmmaKernel(mlir::gpu::GPUFuncOp func, const SLRLinearKernelSpec &spec,
                     const WgmmaLayout &layout);

} // namespace slr::gpu_kernels

#endif // SLR_LIB_CONVERSION_SLRTOGPU_KERNELFAMILIES_H
