//===- SLRToGPUPatterns.h - Patterns of --convert-slr-to-gpu ----*- C++ -*-===//
//
// Private to lib/Conversion/SLRToGPU: the rewrite patterns of the GPU
// lowering, one file per op family (LinearToGPU.cpp: slr.linear), and what
// they are configured with. SLRToGPU.cpp, the pass, applies them op by op
// and reports the ops they decline.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_CONVERSION_SLRTOGPU_SLRTOGPUPATTERNS_H
#define SLR_LIB_CONVERSION_SLRTOGPU_SLRTOGPUPATTERNS_H

#include "slr/Conversion/SLRToGPU/SLRToGPU.h"

#include "mlir/IR/PatternMatch.h"

#include <string>

namespace slr {

struct SLRToGPUPatternOptions {
  SLRGPUTileConfig tiles;
  std::string chip = "sm_80";
  /// The gpu.module the kernels go to (created in the enclosing module).
  std::string kernelModule = "slr_gpu_kernels";
  PlantedDefect defect = PlantedDefect::None; ///< tests only
};

/// slr.linear -> generated kernels + a call to a launcher carrying a
/// #slr.gpu_launch. Declines (notifyMatchFailure, with the reason) an op it
/// cannot lower: not 2:4, dynamic K, no kernel variant for the chip, an
/// element type or shape the kernels do not take, constant positions that
/// are not ordered metadata, an op inside a gpu.module.
void populateSLRToGPUConversionPatterns(mlir::RewritePatternSet &patterns,
                                        const SLRToGPUPatternOptions &options);

} // namespace slr

#endif // SLR_LIB_CONVERSION_SLRTOGPU_SLRTOGPUPATTERNS_H
