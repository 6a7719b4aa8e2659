//===- SVDMethod.cpp - Best rank-r approximation under H ------------------===//
//
// The low-rank-only method: S = 0, L the closed-form minimiser of f.
//
//===----------------------------------------------------------------------===//

#include "LayerCompressor.h"

namespace slr::compression::detail {

Status runSVDOnly(LayerCompressor &layer, Iterate &best) {
  best.sparse = Matrix(layer.weights.rows, layer.weights.cols);
  if (Status status =
          lowRankStep(layer.liveWeights, layer.factors.cholLower, layer.rank,
                      layer.lowRankOptions(), best.u, best.v);
      !status)
    return status;
  best.objective = layer.evaluate(best.sparse, best.u, best.v);
  layer.history.push_back(layer.relative(best.objective));
  return Status::success();
}

} // namespace slr::compression::detail
