//===- RowMatrix.cpp - Viewing [..., K] tensors as [rows, K] --------------===//

#include "slr/Dialect/SLR/Utils/RowMatrix.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

/// Reassociation grouping all leading dims, then the last one.
static SmallVector<ReassociationIndices> leadingAndLast(int64_t rank) {
  ReassociationIndices leading;
  for (int64_t dim = 0; dim < rank - 1; ++dim)
    leading.push_back(dim);
  return {leading, ReassociationIndices{rank - 1}};
}

Value slr::collapseToRowMatrix(OpBuilder &builder, Location loc,
                               Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t rank = type.getRank();
  if (rank == 1)
    return tensor::ExpandShapeOp::create(
        builder, loc,
        RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType()),
        tensor, {ReassociationIndices{0, 1}});
  if (rank == 2)
    return tensor;
  return tensor::CollapseShapeOp::create(builder, loc, tensor,
                                         leadingAndLast(rank));
}

Value slr::expandFromRowMatrix(OpBuilder &builder, Location loc, Value matrix,
                               Value original, RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  if (rank == 1)
    return tensor::CollapseShapeOp::create(
        builder, loc, matrix,
        ArrayRef<ReassociationIndices>{ReassociationIndices{0, 1}});
  if (rank == 2)
    return matrix;
  SmallVector<OpFoldResult> outputShape;
  for (int64_t dim = 0; dim < rank - 1; ++dim) {
    if (resultType.isDynamicDim(dim))
      outputShape.push_back(
          tensor::DimOp::create(builder, loc, original, dim).getResult());
    else
      outputShape.push_back(builder.getIndexAttr(resultType.getDimSize(dim)));
  }
  outputShape.push_back(builder.getIndexAttr(resultType.getShape().back()));
  return tensor::ExpandShapeOp::create(builder, loc, resultType, matrix,
                                       leadingAndLast(rank), outputShape);
}
