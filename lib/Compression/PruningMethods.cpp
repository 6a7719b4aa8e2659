//===- PruningMethods.cpp - Magnitude, Wanda and SparseGPT ----------------===//
//
// The pruning-only methods: S alone, no low-rank part (the rank is 0).
//
//===----------------------------------------------------------------------===//

#include "LayerCompressor.h"

namespace slr::compression::detail {

/// Records `best` (S = best.sparse, L = 0) as the single iterate.
static Status finish(LayerCompressor &layer, Iterate &best) {
  best.objective = layer.evaluate(best.sparse, best.u, best.v);
  layer.history.push_back(layer.relative(best.objective));
  return Status::success();
}

Status runMagnitude(LayerCompressor &layer, Iterate &best) {
  best.sparse = layer.liveWeights;
  pruneMagnitude(best.sparse, layer.options.pattern);
  return finish(layer, best);
}

Status runWanda(LayerCompressor &layer, Iterate &best) {
  best.sparse = layer.liveWeights;
  pruneWanda(best.sparse, layer.hessian, layer.options.pattern);
  return finish(layer, best);
}

Status runSparseGPT(LayerCompressor &layer, Iterate &best) {
  best.sparse = layer.sparseStep(layer.liveWeights);
  return finish(layer, best);
}

} // namespace slr::compression::detail
