//===- GPUPipeline.h - slr GPU compilation pipeline -------------*- C++ -*-===//

#ifndef SLR_CONVERSION_SLRTOGPU_GPUPIPELINE_H
#define SLR_CONVERSION_SLRTOGPU_GPUPIPELINE_H

#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LLVM.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <optional>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace slr {

struct SLRGPUPipelineOptions
    : public mlir::PassPipelineOptions<SLRGPUPipelineOptions> {
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("GPU architecture: sm_80 or newer (sm_80, sm_86, "
                     "sm_89, sm_90, sm_90a, sm_100, sm_120, ...)"),
      llvm::cl::init("sm_80")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX ISA version, +ptxNN: at least +ptx85 (mma.sp "
                     "ordered metadata) and what the chip needs (+ptx86 "
                     "for sm_100, +ptx87 for sm_120)"),
      llvm::cl::init("+ptx85")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("gpu-module-to-binary format: bin (cubin), fatbin, isa "
                     "(PTX, JIT-compiled at load time)"),
      llvm::cl::init("fatbin")};
  Option<int> optLevel{*this, "opt-level",
                       llvm::cl::desc("NVPTX/ptxas optimisation level, 0-3"),
                       llvm::cl::init(3)};
  Option<bool> strict{
      *this, "strict",
      llvm::cl::desc("An slr.linear the GPU kernels cannot handle is an "
                     "error (default: it is lowered for the CPU, with a "
                     "warning)"),
      llvm::cl::init(false)};
  Option<int64_t> tileN{*this, "tile-n", llvm::cl::init(128)};
  Option<int64_t> tileM{*this, "tile-m", llvm::cl::init(64)};
  Option<int64_t> tileK{*this, "tile-k", llvm::cl::init(64)};
  Option<int64_t> warpsN{*this, "warps-n", llvm::cl::init(2)};
  Option<int64_t> warpsM{*this, "warps-m", llvm::cl::init(2)};
  Option<int64_t> stages{*this, "stages", llvm::cl::init(3)};
};

/// slr + linalg on tensors -> LLVM dialect with an embedded GPU binary:
/// --convert-slr-to-gpu, the reference lowering for what is left of slr,
/// bufferization + deallocation, --slr-gpu-materialize-launchers, NVVM
/// lowering of the kernels, gpu-module-to-binary (NVPTX + ptxas from the CUDA
/// toolkit) and host lowering to calls into the mgpu* runtime
/// (libslr_cuda_runtime). Registered as `slr-gpu-pipeline`. Options that
/// checkSLRGPUPipelineOptions refuses are reported through `errorHandler`
/// ("slr-gpu-pipeline: ...") and add nothing to `pm`.
mlir::LogicalResult buildSLRGPUPipeline(
    mlir::OpPassManager &pm, const SLRGPUPipelineOptions &options,
    llvm::function_ref<mlir::LogicalResult(const llvm::Twine &)> errorHandler);

/// Why the kernels cannot be built for `chip`, if they cannot: sm_80 or
/// newer as LLVM's NVPTX back end names it.
std::optional<std::string> checkSLRGPUChip(llvm::StringRef chip);

/// Why the kernels cannot be built for `chip` with `features`, if they
/// cannot: the chip must be sm_80 or newer as LLVM's NVPTX back end names it
/// (sm_80, sm_86, sm_89, sm_90, sm_90a, sm_100, sm_120, ...), and `features`
/// one PTX version, +ptxNN, at least 8.5 (mma.sp::ordered_metadata) and at
/// least what the chip needs (8.6 for sm_100, 8.7 for sm_120, ...).
std::optional<std::string> checkSLRGPUTarget(llvm::StringRef chip,
                                             llvm::StringRef features);

/// checkSLRGPUTarget, and format one of bin, fatbin, isa, opt-level 0..3.
/// Tile sizes are checked per op by --convert-slr-to-gpu (they depend on
/// the layer's shape).
std::optional<std::string>
checkSLRGPUPipelineOptions(const SLRGPUPipelineOptions &options);

/// The pipeline as text (for logs and reproducers).
std::string getSLRGPUPipelineText(const SLRGPUPipelineOptions &options);

/// Its kernel-side pieces, for programs that compile generated kernels
/// without host code (the GPU benchmark): attaching the NVVM target, and
/// lowering the gpu.module bodies to NVVM (gpu-module-to-binary follows).
std::string getSLRKernelTargetPipelineText(llvm::StringRef chip,
                                           llvm::StringRef features,
                                           int optLevel);
std::string getSLRKernelLoweringPipelineText();

/// Registers `slr-gpu-pipeline` with the global pass registry.
void registerSLRGPUPipeline();

} // namespace slr

#endif // SLR_CONVERSION_SLRTOGPU_GPUPIPELINE_H
