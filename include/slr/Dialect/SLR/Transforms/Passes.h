//===- Passes.h - slr transformation passes ----------------------*- C++ -*-===//

#ifndef SLR_DIALECT_SLR_TRANSFORMS_PASSES_H
#define SLR_DIALECT_SLR_TRANSFORMS_PASSES_H

#include "slr/Dialect/SLR/IR/SLR.h"

#include "mlir/Pass/Pass.h"

namespace slr {

#define GEN_PASS_DECL
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "slr/Dialect/SLR/Transforms/Passes.h.inc"

} // namespace slr

#endif // SLR_DIALECT_SLR_TRANSFORMS_PASSES_H
