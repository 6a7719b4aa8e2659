//===- KernelBuilder.cpp - Tensor-core kernels for slr.linear -------------===//
//
// The public face of the kernel generator: checks a kernel spec and builds
// the kernels of the variant chosen for it, each family from its own file
// (KernelFamilies.h), all from the shared pieces of KernelEmitter.h:
//
//  * main: y = x*S^T + t*U^T + b (SparseLowRankKernel.cpp);
//  * lowRank: t += x*V^T, split over K (LowRankProjectionKernel.cpp);
//  * reorder: packed positions -> mma.sp metadata words
//    (MetadataReorderKernel.cpp), only for positions that are not
//    compile-time constants;
//  * wgmma_sp_sm90a: main from WgmmaKernel.cpp, the projection kernel in
//    its store mode.
//
// All per-lane fragment addressing comes from slr/Conversion/SLRToGPU/
// MMALayout.h (shared with the emulator in unittests/GPU).
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"
#include "KernelFamilies.h"

#include "slr/Conversion/SLRToGPU/GPUPipeline.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace slr;
using namespace slr::gpu_kernels;

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

template <typename... Args>
static std::optional<std::string> fmt(const char *format, Args &&...args) {
  return llvm::formatv(format, std::forward<Args>(args)...).str();
}

std::optional<std::string>
slr::checkSLRGPUTileConfig(const SLRGPUTileConfig &t) {
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
  return std::nullopt;
}

/// The decode kernel: 16-row metadata tiles, 64-column steps, rank in
/// quarters of 4 (one 8-byte load of U per lane and step).
static std::optional<std::string>
checkDecodeSpec(const SLRLinearKernelSpec &spec) {
  if (spec.n <= 0 || spec.n % 16)
    return fmt("decode kernel: output features N = {0} must be a multiple of "
               "16",
               spec.n);
  if (spec.k <= 0 || spec.k % 64)
    return fmt("decode kernel: input features K = {0} must be a multiple of "
               "64",
               spec.k);
  if (spec.rank < 0 || spec.rank % 16)
    return fmt("low-rank rank r = {0} must be a multiple of 16 (pad U and V "
               "with zeros)",
               spec.rank);
  int64_t shared = computeDecodeLayout(spec).totalBytes;
  if (shared > kMaxSharedBytes)
    return fmt("decode kernel needs {0} bytes of shared memory per block, "
               "more than the {1} available (rank {2} too large)",
               shared, kMaxSharedBytes, spec.rank);
  return std::nullopt;
}

/// The wgmma kernel: 128 x 128 CTA tiles of y, K in blocks of 64, the rank
/// in blocks of 64 (TMA boxes of 128-byte rows).
static std::optional<std::string>
checkWgmmaSpec(const SLRLinearKernelSpec &spec) {
  if (spec.n <= 0 || spec.n % kWgmmaTileN)
    return fmt("wgmma kernel: output features N = {0} must be a multiple of "
               "{1}",
               spec.n, kWgmmaTileN);
  if (spec.k <= 0 || spec.k % kWgmmaTileK)
    return fmt("wgmma kernel: input features K = {0} must be a multiple of "
               "{1}",
               spec.k, kWgmmaTileK);
  if (spec.rank < 0 || spec.rank % kWgmmaRankBlock)
    return fmt("wgmma kernel: rank r = {0} must be a multiple of {1}",
               spec.rank, kWgmmaRankBlock);
  if (std::optional<std::string> error = checkSLRGPUTileConfig(spec.tiles))
    return error; // the projection kernel's tiling
  if (spec.k % spec.tiles.tileK)
    return fmt("input features K = {0} must be a multiple of tile-k = {1}",
               spec.k, spec.tiles.tileK);
  int64_t shared = computeWgmmaLayout(spec).totalBytes;
  if (spec.rank)
    shared = std::max(shared, computeLowRankLayout(spec).totalBytes);
  if (shared > kMaxSharedBytes)
    return fmt("wgmma kernel needs {0} bytes of shared memory per block, more "
               "than the {1} available",
               shared, kMaxSharedBytes);
  return std::nullopt;
}

std::optional<std::string>
slr::checkSLRLinearKernelSpec(const SLRLinearKernelSpec &spec) {
  const SLRGPUTileConfig &t = spec.tiles;
  if (!spec.elementType ||
      !(spec.elementType.isBF16() || spec.elementType.isF16()))
    return fmt("element type must be f16 or bf16 (tensor cores, f32 "
               "accumulation)");
  if (spec.variant == GPUKernelVariant::DecodeSm80)
    return checkDecodeSpec(spec);
  if (spec.variant == GPUKernelVariant::WgmmaSpSm90a)
    return checkWgmmaSpec(spec);
  if (std::optional<std::string> error = checkSLRGPUTileConfig(t))
    return error;
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

FailureOr<GPUKernelVariant> slr::chooseKernelVariant(StringRef chip,
                                                     SLRLinearRowRange rows,
                                                     std::string &whyNot) {
  if (std::optional<std::string> error = checkSLRGPUChip(chip)) {
    whyNot = *error;
    return failure();
  }
  // Every chip from sm_80 on runs both variants. Decode sizes are bound by
  // the weights' bytes: the tensor-core kernel pads M to its 64-row tile and
  // launches N / 128 CTAs, the decode kernel splits K too. Only a static
  // bound selects it; a dynamic M keeps mma_sp_sm80 (docs/DESIGN.md).
  if (rows.max != ShapedType::kDynamic && rows.max <= kDecodeMaxRows)
    return GPUKernelVariant::DecodeSm80;
  // Beyond decode sizes, sm_90a (wgmma and setmaxnreg are sm_90a-only PTX)
  // takes the Hopper kernel; a shape it does not tile falls back to
  // mma_sp_sm80 (LinearToGPU.cpp).
  if (chip == "sm_90a")
    return GPUKernelVariant::WgmmaSpSm90a;
  return GPUKernelVariant::MmaSpSm80;
}

/// The leading arguments every main kernel takes: x [M, K], the packed
/// values [N, K/2], the metadata words, then (with a low-rank term) U [N, r]
/// and `lowRankOperand` (V or t, by family), then the bias [N].
static SmallVector<Type> mainKernelOperands(const SLRLinearKernelSpec &spec,
                                            MLIRContext *ctx,
                                            Type lowRankOperand) {
  Type elt = spec.elementType;
  SmallVector<Type> args = {memrefType({ShapedType::kDynamic, spec.k}, elt),
                            memrefType({spec.n, spec.k / 2}, elt),
                            memrefType({mma::metadataWordCount(spec.n, spec.k)},
                                       IntegerType::get(ctx, 32))};
  if (spec.rank) {
    args.push_back(memrefType({spec.n, spec.rank}, elt));
    args.push_back(lowRankOperand);
  }
  if (spec.hasBias)
    args.push_back(memrefType({spec.n}, elt));
  return args;
}

/// The kernel `name` of `module`, emitted by `emit` unless an earlier layer
/// of the same shape made it already.
static gpu::GPUFuncOp
getOrEmitKernel(OpBuilder &builder, gpu::GPUModuleOp module, StringRef name,
                ArrayRef<Type> args, int64_t threads,
                function_ref<void(gpu::GPUFuncOp)> emit) {
  bool exists = false;
  gpu::GPUFuncOp func =
      createKernel(builder, module, name, args, threads, exists);
  if (!exists) {
    emit(func);
    tidyKernel(func);
  }
  return func;
}

static SLRLinearKernels buildDecodeKernels(OpBuilder &builder,
                                           gpu::GPUModuleOp module,
                                           const SLRLinearKernelSpec &spec) {
  Type elt = spec.elementType;
  MLIRContext *ctx = builder.getContext();
  DecodeLayout layout = computeDecodeLayout(spec);
  SLRLinearKernels kernels;
  kernels.threads = layout.threads;
  kernels.mainSharedBytes = layout.totalBytes;
  kernels.tileN = layout.tileN;
  kernels.tileM = layout.tileM;
  kernels.kBlocks = layout.kSlices;
  SmallVector<Type> args =
      mainKernelOperands(spec, ctx, memrefType({spec.rank, spec.k}, elt));
  args.push_back(
      memrefType({ShapedType::kDynamic, spec.n}, Float32Type::get(ctx)));
  args.push_back(memrefType({ShapedType::kDynamic}, IntegerType::get(ctx, 32)));
  args.push_back(memrefType({ShapedType::kDynamic, spec.n}, elt));
  kernels.main = getOrEmitKernel(
      builder, module, decodeKernelName(spec, layout), args, kernels.threads,
      [&](gpu::GPUFuncOp func) { emitDecodeKernel(func, spec, layout); });
  return kernels;
}

/// The projection kernel t (+)= x*V^T (accumulating f32 or, in the store
/// mode, writing the element type).
static void buildLowRankKernel(OpBuilder &builder, gpu::GPUModuleOp module,
                               const SLRLinearKernelSpec &spec,
                               SLRLinearKernels &kernels) {
  Type elt = spec.elementType;
  LowRankLayout lrLayout = computeLowRankLayout(spec);
  kernels.lowRankTileN = lrLayout.tileN;
  kernels.lowRankTileM = kLowRankTileM;
  kernels.lowRankThreads = 32 * kLowRankWarpsM;
  kernels.lowRankSharedBytes = lrLayout.totalBytes;
  Type tType =
      lowRankStores(spec) ? elt : Float32Type::get(builder.getContext());
  SmallVector<Type> args = {
      memrefType({ShapedType::kDynamic, spec.k}, elt),
      memrefType({spec.rank, spec.k}, elt),
      memrefType({ShapedType::kDynamic, spec.rank}, tType)};
  kernels.lowRank = getOrEmitKernel(
      builder, module, lowRankKernelName(spec), args, kernels.lowRankThreads,
      [&](gpu::GPUFuncOp func) {
        emitLowRankProjectionKernel(func, spec, lrLayout);
      });
}

static SLRLinearKernels buildWgmmaKernels(OpBuilder &builder,
                                          gpu::GPUModuleOp module,
                                          const SLRLinearKernelSpec &spec) {
  Type elt = spec.elementType;
  MLIRContext *ctx = builder.getContext();
  WgmmaLayout layout = computeWgmmaLayout(spec);
  SLRLinearKernels kernels;
  kernels.threads = kWgmmaThreads;
  kernels.mainSharedBytes = layout.totalBytes;
  kernels.tileN = kWgmmaTileN;
  kernels.tileM = kWgmmaTileM;
  kernels.kBlocks = spec.k / spec.tiles.tileK;
  SmallVector<Type> args = mainKernelOperands(
      spec, ctx, memrefType({ShapedType::kDynamic, spec.rank}, elt));
  args.push_back(memrefType({ShapedType::kDynamic, spec.n}, elt));
  args.push_back(memrefType({layout.maps, 16}, IntegerType::get(ctx, 64)));
  kernels.main = getOrEmitKernel(
      builder, module, wgmmaKernelName(spec, layout), args, kernels.threads,
      [&](gpu::GPUFuncOp func) { emitWgmmaKernel(func, spec, layout); });
  if (spec.rank)
    buildLowRankKernel(builder, module, spec, kernels);
  return kernels;
}

SLRLinearKernels slr::buildSLRLinearKernels(OpBuilder &builder,
                                            gpu::GPUModuleOp module,
                                            const SLRLinearKernelSpec &spec) {
  if (spec.variant == GPUKernelVariant::DecodeSm80)
    return buildDecodeKernels(builder, module, spec);
  if (spec.variant == GPUKernelVariant::WgmmaSpSm90a)
    return buildWgmmaKernels(builder, module, spec);
  const SLRGPUTileConfig &t = spec.tiles;
  Type elt = spec.elementType;
  MLIRContext *ctx = builder.getContext();
  Type f32 = Float32Type::get(ctx);
  SLRLinearKernels kernels;
  kernels.threads = 32 * t.warpsN * t.warpsM;
  kernels.kBlocks = spec.k / t.tileK;
  kernels.tileN = t.tileN;
  kernels.tileM = t.tileM;

  MainLayout mainLayout = computeMainLayout(spec);
  kernels.mainSharedBytes = mainLayout.totalBytes;
  SmallVector<Type> mainArgs = mainKernelOperands(
      spec, ctx, memrefType({ShapedType::kDynamic, spec.rank}, f32));
  mainArgs.push_back(memrefType({ShapedType::kDynamic, spec.n}, elt));
  kernels.main = getOrEmitKernel(
      builder, module, mainKernelName(spec), mainArgs, kernels.threads,
      [&](gpu::GPUFuncOp func) {
        emitSparseLowRankKernel(func, spec, mainLayout);
      });

  if (spec.rank)
    buildLowRankKernel(builder, module, spec, kernels);
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
  return getOrEmitKernel(
      builder, module, name,
      {memrefType({n, k / 4}, positionType), memrefType({words}, i32)},
      kReorderThreads, [&](gpu::GPUFuncOp func) {
        emitMetadataReorderKernel(func, n, k, positionType);
      });
}

GPULaunchAttr slr::getSLRLinearLaunchAttr(gpu::GPUModuleOp module,
                                          const SLRLinearKernelSpec &spec,
                                          const SLRLinearKernels &kernels,
                                          gpu::GPUFuncOp reorder,
                                          bool resident) {
  auto kernelRef = [&](gpu::GPUFuncOp kernel) -> SymbolRefAttr {
    if (!kernel)
      return {};
    return SymbolRefAttr::get(module.getNameAttr(),
                              {FlatSymbolRefAttr::get(kernel.getNameAttr())});
  };
  return GPULaunchAttr::get(
      module.getContext(), spec.variant, spec.n, spec.k, spec.rank,
      spec.hasBias, resident, kernelRef(kernels.main), kernels.tileN,
      kernels.tileM, kernels.threads, kernels.mainSharedBytes,
      kernelRef(kernels.lowRank), kernels.lowRankTileN, kernels.lowRankTileM,
      kernels.lowRankThreads, kernels.lowRankSharedBytes,
      kernels.lowRank || spec.variant == GPUKernelVariant::DecodeSm80
          ? kernels.kBlocks
          : 0,
      kernelRef(reorder));
}
