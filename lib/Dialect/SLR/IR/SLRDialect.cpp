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
NMSparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       unsigned n, unsigned m) {
  if (n == 0 || n >= m)
    return emitError() << "N:M sparsity requires 0 < n < m, got " << n << ":"
                       << m;
  if (m > 64)
    return emitError() << "N:M sparsity supports m <= 64, got m = " << m;
  return success();
}

unsigned NMSparsityAttr::getPositionBits() const {
  return bitsPerPosition(getM());
}
