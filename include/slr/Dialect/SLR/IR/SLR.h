//===- SLR.h - slr dialect --------------------------------------*- C++ -*-===//

#ifndef SLR_DIALECT_SLR_IR_SLR_H
#define SLR_DIALECT_SLR_IR_SLR_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "slr/Dialect/SLR/IR/SLRDialect.h.inc"
#include "slr/Dialect/SLR/IR/SLREnums.h.inc"

namespace slr {
/// Parses `true` or `false` (the bool parameters of slr attributes).
mlir::FailureOr<bool> parseBoolParameter(mlir::AsmParser &parser);
} // namespace slr

#define GET_ATTRDEF_CLASSES
#include "slr/Dialect/SLR/IR/SLRAttrs.h.inc"

#define GET_OP_CLASSES
#include "slr/Dialect/SLR/IR/SLROps.h.inc"

#endif // SLR_DIALECT_SLR_IR_SLR_H
