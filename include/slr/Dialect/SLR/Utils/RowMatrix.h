//===- RowMatrix.h - Viewing [..., K] tensors as [rows, K] -------*- C++ -*-===//
//
// Linear layers act on the last dimension; lowerings and instrumentation
// treat their input as a matrix of rows. These helpers reshape in and out.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_DIALECT_SLR_UTILS_ROWMATRIX_H
#define SLR_DIALECT_SLR_UTILS_ROWMATRIX_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace slr {

/// [..., K] -> [rows, K]: rank 1 becomes [1, K], rank 2 is unchanged, higher
/// ranks collapse their leading dimensions.
mlir::Value collapseToRowMatrix(mlir::OpBuilder &builder, mlir::Location loc,
                                mlir::Value tensor);

/// [rows, N] -> `resultType` ([..., N]) whose leading dimensions are those of
/// `original` (the tensor collapseToRowMatrix was applied to).
mlir::Value expandFromRowMatrix(mlir::OpBuilder &builder, mlir::Location loc,
                                mlir::Value matrix, mlir::Value original,
                                mlir::RankedTensorType resultType);

} // namespace slr

#endif // SLR_DIALECT_SLR_UTILS_ROWMATRIX_H
