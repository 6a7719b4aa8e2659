//===- SLRToLinalg.h - slr to linalg conversion ------------------*- C++ -*-===//

#ifndef SLR_CONVERSION_SLRTOLINALG_SLRTOLINALG_H
#define SLR_CONVERSION_SLRTOLINALG_SLRTOLINALG_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
} // namespace mlir

namespace slr {

#define GEN_PASS_DECL_CONVERTSLRTOLINALG
#include "slr/Conversion/Passes.h.inc"

/// Patterns lowering slr.pack, slr.unpack and slr.linear to linalg.
void populateSLRToLinalgConversionPatterns(mlir::RewritePatternSet &patterns);

} // namespace slr

#endif // SLR_CONVERSION_SLRTOLINALG_SLRTOLINALG_H
