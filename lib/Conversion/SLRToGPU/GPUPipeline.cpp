//===- GPUPipeline.cpp - slr GPU compilation pipeline ---------------------===//

#include "slr/Conversion/SLRToGPU/GPUPipeline.h"
#include "slr/Conversion/Passes.h"
#include "slr/Dialect/SLR/Utils/PassOptionCheck.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

std::string slr::getSLRKernelTargetPipelineText(llvm::StringRef chip,
                                                llvm::StringRef features,
                                                int optLevel) {
  return llvm::formatv("nvvm-attach-target{{chip={0} features={1} O={2}}", chip,
                       features, optLevel)
      .str();
}

std::string slr::getSLRKernelLoweringPipelineText() {
  return "gpu.module(convert-scf-to-cf,convert-nvgpu-to-nvvm,"
         "convert-gpu-to-nvvm,convert-vector-to-llvm,canonicalize,cse,"
         "reconcile-unrealized-casts)";
}

std::string slr::getSLRGPUPipelineText(const SLRGPUPipelineOptions &o) {
  return llvm::formatv(
             "convert-slr-to-gpu{{tile-n={0} tile-m={1} tile-k={2} warps-n={3} "
             "warps-m={4} stages={5} chip={9} strict={10}},"
             "convert-slr-to-linalg,"
             "func.func(convert-elementwise-to-linalg),"
             "one-shot-bufferize{{bufferize-function-boundaries "
             "function-boundary-type-conversion=identity-layout-map},"
             "buffer-deallocation-pipeline,"
             "slr-gpu-materialize-launchers,"
             "func.func(convert-linalg-to-loops),"
             "convert-bufferization-to-memref,"
             "{6},{7},"
             "convert-scf-to-cf,"
             "expand-strided-metadata,"
             "lower-affine,"
             "gpu-to-llvm,"
             "gpu-module-to-binary{{format={8}},"
             "convert-math-to-llvm,"
             "convert-arith-to-llvm,"
             "finalize-memref-to-llvm,"
             "convert-to-llvm,"
             "reconcile-unrealized-casts",
             o.tileN, o.tileM, o.tileK, o.warpsN, o.warpsM, o.stages,
             getSLRKernelTargetPipelineText(o.chip, o.features, o.optLevel),
             getSLRKernelLoweringPipelineText(), o.format, o.chip,
             o.strict ? "true" : "false")
      .str();
}

namespace {
/// A GPU the kernels run on, as LLVM 22's NVPTX back end names it, and the
/// least PTX ISA version (x10) that back end accepts for it.
struct SupportedChip {
  llvm::StringLiteral name;
  unsigned minPTX;
};
} // namespace

/// The kernels use cp.async and mma.sp with ordered metadata: sm_80 and
/// newer (older chips abort in instruction selection).
static constexpr SupportedChip kSupportedChips[] = {
    {"sm_80", 70},   {"sm_86", 71},   {"sm_87", 74},   {"sm_88", 90},
    {"sm_89", 78},   {"sm_90", 78},   {"sm_90a", 80},  {"sm_100", 86},
    {"sm_100a", 86}, {"sm_100f", 88}, {"sm_101", 86},  {"sm_101a", 86},
    {"sm_101f", 88}, {"sm_103", 88},  {"sm_103a", 88}, {"sm_103f", 88},
    {"sm_110", 90},  {"sm_110a", 90}, {"sm_110f", 90}, {"sm_120", 87},
    {"sm_120a", 87}, {"sm_120f", 88}, {"sm_121", 88},  {"sm_121a", 88},
    {"sm_121f", 88}};

/// mma.sp::ordered_metadata needs PTX ISA 8.5.
static constexpr unsigned kKernelMinPTX = 85;

/// PTX versions (x10) from 8.5 on that LLVM 22's NVPTX back end knows.
static constexpr unsigned kKnownPTX[] = {85, 86, 87, 88, 90};

static std::string ptxVersionText(unsigned version) {
  return llvm::formatv("{0}.{1}", version / 10, version % 10).str();
}

static const SupportedChip *findChip(llvm::StringRef chip) {
  const SupportedChip *found = llvm::find_if(
      kSupportedChips, [&](const SupportedChip &c) { return c.name == chip; });
  return found == std::end(kSupportedChips) ? nullptr : found;
}

std::optional<std::string> slr::checkSLRGPUChip(llvm::StringRef chip) {
  if (!findChip(chip)) {
    std::string names;
    for (const SupportedChip &c : kSupportedChips)
      names += (names.empty() ? "" : ", ") + c.name.str();
    return llvm::formatv("chip '{0}' is not supported: the kernels need sm_80 "
                         "or newer (cp.async, mma.sp with ordered metadata); "
                         "one of {1}",
                         chip, names)
        .str();
  }
  return std::nullopt;
}

std::optional<std::string> slr::checkSLRGPUTarget(llvm::StringRef chip,
                                                  llvm::StringRef features) {
  if (std::optional<std::string> error = checkSLRGPUChip(chip))
    return error;
  const SupportedChip *found = findChip(chip);
  unsigned version = 0;
  llvm::StringRef digits = features.trim();
  if (!digits.consume_front("+ptx") || digits.getAsInteger(10, version))
    return llvm::formatv("features '{0}' must be one PTX ISA version, +ptxNN "
                         "(e.g. +ptx85)",
                         features)
        .str();
  unsigned needed = std::max(kKernelMinPTX, found->minPTX);
  if (version < needed)
    return llvm::formatv("features '{0}' select PTX {1}, but {2} needs PTX "
                         ">= {3} (features=+ptx{4})",
                         features, ptxVersionText(version),
                         found->minPTX > kKernelMinPTX
                             ? "chip " + chip.str()
                             : std::string("mma.sp::ordered_metadata"),
                         ptxVersionText(needed), needed)
        .str();
  if (!llvm::is_contained(kKnownPTX, version))
    return llvm::formatv("features '{0}': PTX {1} is not known to the NVPTX "
                         "back end (+ptx85, +ptx86, +ptx87, +ptx88, +ptx90)",
                         features, ptxVersionText(version))
        .str();
  return std::nullopt;
}

std::optional<std::string>
slr::checkSLRGPUPipelineOptions(const SLRGPUPipelineOptions &options) {
  if (std::optional<std::string> error =
          checkSLRGPUTarget(options.chip, options.features))
    return error;
  // Other formats (offload, llvm) give no binary the runtime can load.
  llvm::StringRef format = options.format;
  if (format != "bin" && format != "fatbin" && format != "isa")
    return llvm::formatv("format '{0}' must be bin, fatbin or isa", format)
        .str();
  if (options.optLevel < 0 || options.optLevel > 3)
    return llvm::formatv("opt-level must be 0, 1, 2 or 3, got {0}",
                         static_cast<int>(options.optLevel))
        .str();
  return std::nullopt;
}

LogicalResult slr::buildSLRGPUPipeline(
    OpPassManager &pm, const SLRGPUPipelineOptions &options,
    llvm::function_ref<LogicalResult(const llvm::Twine &)> errorHandler) {
  // Checked before anything runs: a chip or format the passes cannot handle
  // otherwise aborts in instruction selection or is reported without failing.
  if (std::optional<std::string> error = checkSLRGPUPipelineOptions(options))
    return errorHandler("slr-gpu-pipeline: " + *error);
  // The tools have not necessarily registered every pass the text names.
  static const bool registered = [] {
    registerAllPasses();
    slr::registerConvertSLRToGPU();
    slr::registerConvertSLRToLinalg();
    slr::registerSLRGPUMaterializeLaunchers();
    return true;
  }();
  (void)registered;
  if (failed(parsePassPipeline(getSLRGPUPipelineText(options), pm)))
    llvm::report_fatal_error("slr: malformed GPU pipeline");
  return success();
}

void slr::registerSLRGPUPipeline() {
  registerPassPipeline(
      "slr-gpu-pipeline",
      "Lower slr and linalg-on-tensors to LLVM with sparse tensor-core GPU "
      "kernels embedded as a binary (link libslr_cuda_runtime)",
      [](OpPassManager &pm, llvm::StringRef text,
         llvm::function_ref<LogicalResult(const llvm::Twine &)> errorHandler)
          -> LogicalResult {
        SLRGPUPipelineOptions options;
        // One line for a malformed value instead of llvm::cl's own print.
        if (std::optional<std::string> error = checkPassOptionValues(
                "slr-gpu-pipeline", text,
                passOptionKinds(options.chip, options.features, options.format,
                                options.optLevel, options.tileN, options.tileM,
                                options.tileK, options.warpsN, options.warpsM,
                                options.stages)))
          return errorHandler(*error);
        std::string message;
        llvm::raw_string_ostream os(message);
        if (failed(options.parseFromString(text, os)))
          return errorHandler("slr-gpu-pipeline: " +
                              llvm::StringRef(message).trim());
        return buildSLRGPUPipeline(pm, options, errorHandler);
      },
      [](llvm::function_ref<void(const mlir::detail::PassOptions &)>
             optHandler) { optHandler(SLRGPUPipelineOptions()); });
}
