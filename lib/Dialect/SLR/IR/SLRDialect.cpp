//===- SLRDialect.cpp - slr dialect ---------------------------------------===//

#include "slr/Dialect/SLR/IR/SLR.h"
#include "slr/Sparsity/NMLayout.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace slr;

#include "slr/Dialect/SLR/IR/SLRDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "slr/Dialect/SLR/IR/SLRAttrs.cpp.inc"

void SLRDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "slr/Dialect/SLR/IR/SLRAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "slr/Dialect/SLR/IR/SLROps.cpp.inc"
      >();
}

Operation *SLRDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

LogicalResult
NMSparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError, unsigned n,
                       unsigned m) {
  if (n == 0 || n >= m)
    return emitError() << "N:M sparsity requires 0 < n < m, got " << n << ":"
                       << m;
  if (m > kMaxGroupSize)
    return emitError() << "N:M sparsity supports m <= " << kMaxGroupSize
                       << ", got m = " << m;
  // One group's positions are one 64-bit word in every consumer (folders,
  // runtime, compression); wider patterns would overflow it.
  if (!isSupportedPattern(n, m))
    return emitError() << "N:M sparsity " << n << ":" << m << " needs " << n
                       << " x " << bitsPerPosition(m) << " = "
                       << groupPositionBits(n, m)
                       << " position bits per group, more than the "
                       << kMaxGroupPositionBits << " that fit; with m = " << m
                       << " at most n = " << maxKeptPerGroup(m) << " fits";
  return success();
}

unsigned NMSparsityAttr::getPositionBits() const {
  return bitsPerPosition(getM());
}
