//===- SLRToGPU.h - slr.linear to GPU kernels -------------------*- C++ -*-===//
//
// --convert-slr-to-gpu turns every 2:4 f16/bf16 `slr.linear` into tensor-core
// kernels inside a `gpu.module` (generated here, not hand-written CUDA) and a
// call to a host launcher; --slr-gpu-materialize-launchers later gives the
// launchers their bodies (device buffers, copies, `gpu.launch_func`), after
// bufferization and buffer deallocation have run on the surrounding code.
//
// The kernel generator is also a library API so that programs (the GPU
// benchmark) can build, compile and launch the very same kernels directly.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_CONVERSION_SLRTOGPU_SLRTOGPU_H
#define SLR_CONVERSION_SLRTOGPU_SLRTOGPU_H

#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/Pass.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slr {

#define GEN_PASS_DECL_CONVERTSLRTOGPU
#define GEN_PASS_DECL_SLRGPUMATERIALIZELAUNCHERS
#include "slr/Conversion/Passes.h.inc"

/// CTA tiling of the main (sparse + low-rank) kernel. A CTA computes a
/// tileM x tileN block of y with warpsN x warpsM warps, streaming K in
/// tileK-wide blocks through a `stages`-deep cp.async pipeline.
struct SLRGPUTileConfig {
  int64_t tileN = 128;
  int64_t tileM = 64;
  int64_t tileK = 64;
  int64_t warpsN = 2;
  int64_t warpsM = 2;
  int64_t stages = 3;
};

/// A defect the generator plants on request, for tests that show the PTX
/// simulator catches it (never for real use): the pipeline loop without its
/// barrier, waiting for one cp.async group too few, or the x-tile bound
/// check admitting one row past the end of x.
enum class PlantedDefect { None, DropBarrier, ShortWait, ReadPastTile };

/// Parses "none", "drop-barrier", "short-wait", "read-past-tile".
std::optional<PlantedDefect> parsePlantedDefect(llvm::StringRef name);

/// The rows M of x an op may see, as far as its type tells: [min, max], max
/// = mlir::ShapedType::kDynamic when unbounded.
struct SLRLinearRowRange {
  int64_t min = 0;
  int64_t max = mlir::ShapedType::kDynamic;
};

/// The kernel variant (generation) for `chip` and the rows of x in `rows`,
/// the one place where a variant is chosen; a reason when no variant fits
/// (a chip without sparse tensor cores and cp.async, i.e. before sm_80).
/// decode_sm80 when M is known to be at most 16 (static shapes), mma_sp_sm80
/// otherwise (a dynamic M keeps the tensor-core kernel: no dispatch on M at
/// run time, see docs/DESIGN.md).
llvm::FailureOr<GPUKernelVariant> chooseKernelVariant(llvm::StringRef chip,
                                                      SLRLinearRowRange rows,
                                                      std::string &whyNot);

/// Everything a set of slr.linear kernels is specialised on. M (rows of x)
/// stays dynamic.
struct SLRLinearKernelSpec {
  GPUKernelVariant variant = GPUKernelVariant::MmaSpSm80;
  int64_t n = 0;          ///< output features (rows of S, U)
  int64_t k = 0;          ///< input features (columns of S, V)
  int64_t rank = 0;       ///< rows of V (0: no low-rank part)
  mlir::Type elementType; ///< f16 or bf16
  bool hasBias = false;
  SLRGPUTileConfig tiles; ///< mma_sp_sm80 only
  /// decode_sm80 only: the largest M the op sees (the kernel's tile of rows
  /// is the next power of two, at most 16; more rows take more CTAs).
  int64_t maxRows = 0;
  PlantedDefect defect = PlantedDefect::None; ///< tests only
};

/// The generated kernels and their launch parameters.
///
/// Kernel ABIs (memref arguments, lowered to the usual descriptor fields):
///  * main:    (x: memref<?xKxT>, values: memref<NxK/2xT>,
///              meta: memref<Wxi32>, [u: memref<NxRxT>, t: memref<?xRxf32>],
///              [bias: memref<NxT>], y: memref<?xNxT>)
///             grid (N / tileN, ceil(M / tileM), 1), block (threads, 1, 1).
///  * lowRank: (x: memref<?xKxT>, v: memref<RxKxT>, t: memref<?xRxf32>)
///             grid (R / lowRankTileN, ceil(M / lowRankTileM), splitK),
///             block (lowRankThreads, 1, 1); accumulates t += x*V^T
///             atomically, so t must be zeroed first.
///  * main of decode_sm80 (no lowRank kernel: the low-rank term is fused):
///             (x, values, meta, [u: memref<NxRxT>, v: memref<RxKxT>],
///              [bias], ws: memref<?xNxf32>, counters: memref<?xi32>, y)
///             grid (N / tileN, kBlocks, ceil(M / tileM)); ws (M x N) and
///             counters ((N / tileN) * ceil(M / tileM)) must be zero before
///             the first launch and are zero again after each.
///  * reorder: (positions: memref<NxK/4xiP>, meta: memref<Wxi32>)
///             grid (ceil(W / 256), 1, 1), block (256, 1, 1).
/// W = metadataWordCount(N, K). All launches use `*SharedBytes` of dynamic
/// shared memory.
struct SLRLinearKernels {
  mlir::gpu::GPUFuncOp main;
  mlir::gpu::GPUFuncOp lowRank; ///< null without a low-rank part
  int64_t threads = 0;
  int64_t mainSharedBytes = 0;
  int64_t tileN = 0, tileM = 0; ///< rows of S and of x per CTA of main
  int64_t lowRankTileN = 0;
  int64_t lowRankTileM = 0;
  int64_t lowRankThreads = 0;
  int64_t lowRankSharedBytes = 0;
  /// mma_sp_sm80: K / tileK, the upper bound of splitK; decode_sm80: the K
  /// slices (grid.y of main).
  int64_t kBlocks = 0;
};

/// Why `tiles` is not a valid tiling whatever the layer (the pass refuses
/// such options before looking at any op).
std::optional<std::string> checkSLRGPUTileConfig(const SLRGPUTileConfig &tiles);

/// Returns a description of why `spec` cannot be compiled (shape not a
/// multiple of the tiles, unsupported type, bad tile configuration...).
std::optional<std::string>
checkSLRLinearKernelSpec(const SLRLinearKernelSpec &spec);

/// Builds (or finds, by name) the kernels for `spec` in `module`. `spec` must
/// pass checkSLRLinearKernelSpec.
SLRLinearKernels buildSLRLinearKernels(mlir::OpBuilder &builder,
                                       mlir::gpu::GPUModuleOp module,
                                       const SLRLinearKernelSpec &spec);

/// Builds (or finds) the kernel that reorders slr's packed positions
/// [N, K/4] of integer type `positionType` into the sparse-MMA metadata words
/// on the device (for positions that are not compile-time constants).
mlir::gpu::GPUFuncOp buildMetadataReorderKernel(mlir::OpBuilder &builder,
                                                mlir::gpu::GPUModuleOp module,
                                                int64_t n, int64_t k,
                                                mlir::Type positionType);

/// Low 4 bits of every element of a constant integer tensor of packed 2:4
/// positions (the group nibble; dense or dense_resource), or nullopt if
/// `attr` is not a readable integer constant.
std::optional<std::vector<uint8_t>>
readPositionNibbles(mlir::ElementsAttr attr);

/// The launch recipe (#slr.gpu_launch) of `kernels`, built for `spec` in
/// `module`, with the metadata `reorder` kernel when the positions are not
/// constants and `resident` when every weight is. What
/// --slr-gpu-materialize-launchers and the GPU benchmark's manifest read.
GPULaunchAttr getSLRLinearLaunchAttr(mlir::gpu::GPUModuleOp module,
                                     const SLRLinearKernelSpec &spec,
                                     const SLRLinearKernels &kernels,
                                     mlir::gpu::GPUFuncOp reorder,
                                     bool resident);

/// Threads per CTA of the metadata reorder kernel.
constexpr int64_t kReorderThreads = 256;

/// Name of the discardable attribute carrying a launcher's launch recipe
/// (a #slr.gpu_launch, checked by the slr dialect).
inline constexpr llvm::StringLiteral kLauncherAttrName =
    SLRDialect::getGPULauncherAttrName();

} // namespace slr

#endif // SLR_CONVERSION_SLRTOGPU_SLRTOGPU_H
