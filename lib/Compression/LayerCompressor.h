//===- LayerCompressor.h - What the method drivers share --------*- C++ -*-===//
//
// Internal to lib/Compression. compress() validates the input, builds a
// LayerCompressor (W, H, the options, the rank) and runs it: prepare() damps
// and factors H, the method's driver (from the registry, one file per method
// family) fills the best iterate, and run() turns it into a Result. The
// helpers below are the steps more than one driver uses.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_COMPRESSION_LAYERCOMPRESSOR_H
#define SLR_LIB_COMPRESSION_LAYERCOMPRESSOR_H

#include "slr/Compression/Compression.h"
#include "slr/Compression/MethodRegistry.h"
#include "slr/Compression/Steps.h"

#include <limits>
#include <vector>

namespace slr::compression::detail {

/// One candidate answer: S and the factors of L (L = U V).
struct Iterate {
  Matrix sparse, u, v;
  double objective = std::numeric_limits<double>::infinity();
};

/// How long the diagonal relaxation runs: at least minRounds, then on while
/// its own objective fell by more than `tolerance` (relative) over the last
/// 10 rounds, up to maxRounds.
struct RelaxationSchedule {
  int minRounds = 0;
  int maxRounds = 0;
  double tolerance = 0.0;
  /// Set by the run: the rounds done.
  int roundsRun = 0;
};

/// a - b.
Matrix difference(const Matrix &a, const Matrix &b);

class LayerCompressor {
public:
  LayerCompressor(Matrix weights, Matrix hessian, const Options &options,
                  const CompressionMethodInfo &method, int64_t rank)
      : weights(std::move(weights)), hessian(std::move(hessian)),
        options(options), method(method), rank(rank) {}

  Status run(Result &result);

  /// The sparse step (OBS or ADMM, then the support refit) on `target`.
  Matrix sparseStep(const Matrix &target) const;
  LowRankOptions lowRankOptions() const;
  /// CG refit iterations after an OBS sparse step (the method's default
  /// when the option is -1).
  int obsRefitIterations() const {
    return options.refitIterations < 0 ? method.defaultObsRefitIterations
                                       : options.refitIterations;
  }
  /// f(S, U V) with the undamped H.
  double evaluate(const Matrix &sparse, const Matrix &u, const Matrix &v) const;
  double relative(double value) const {
    return reference > 0.0 ? value / reference : 0.0;
  }
  double undampedObjective(double dampedRemainder, const Matrix &residual,
                           const Matrix &lowRank) const;
  /// The closed-form low-rank step for current.sparse, and the objective.
  Status fitLowRank(Iterate &current, Matrix &lowRank) const;
  /// OATS's alternation (DiagonalRelaxation.cpp).
  Status runDiagonalRelaxation(RelaxationSchedule &schedule, Iterate &last,
                               std::vector<double> *roundObjectives,
                               int captureRound = 0,
                               Iterate *captured = nullptr);

  Matrix weights; // W as given (double)
  Matrix hessian; // H as given, undamped: the objective's
  const Options &options;
  const CompressionMethodInfo &method;
  int64_t rank;
  HessianFactors factors;
  Matrix liveWeights; // W with dead inputs' columns zeroed: what we fit
  double reference = 0.0;
  /// Relative objective per iterate (Result::objectiveHistory).
  std::vector<double> history;
  int warmStartRoundsRun = 0;
  int maskSearchRoundsRun = 0;

private:
  Status prepare();
};

// The drivers, one file per method family.
// PruningMethods.cpp
Status runMagnitude(LayerCompressor &layer, Iterate &best);
Status runWanda(LayerCompressor &layer, Iterate &best);
Status runSparseGPT(LayerCompressor &layer, Iterate &best);
// DiagonalRelaxation.cpp
Status runOATS(LayerCompressor &layer, Iterate &best);
// SVDMethod.cpp
Status runSVDOnly(LayerCompressor &layer, Iterate &best);
// HassleFree.cpp
Status runHassleFree(LayerCompressor &layer, Iterate &best);
// ThreeBlockADMM.cpp
Status runThreeBASiL(LayerCompressor &layer, Iterate &best);
Status runSLR(LayerCompressor &layer, Iterate &best);
/// How the three-block ADMM's penalty grows every 3 iterations: by `moving`
/// while at least a tenth of the kept entries changed over them, by
/// `settling` while at least a 200th did, by `settled` otherwise.
struct PenaltySchedule {
  double moving, settling, settled;
  /// 3BASiL's (ALPS's) schedule, what Method::ThreeBASiL runs.
  static const PenaltySchedule threeBASiL;
  /// Half its logarithmic rate: more iterations, better optima
  /// (Method::SLR, HassleFree's threeBlockWarmStart; docs/BENCHMARKS.md).
  static const PenaltySchedule slow;
};
/// 3BASiL's ADMM and refits (Method::ThreeBASiL) with the given penalty
/// schedule: `best` becomes the best of its iterates when better; each
/// iterate's relative objective goes to `history` when given. With
/// trackingSteps > 0 the L-update is that many steps of subspace iteration
/// from the previous L (trackRankApproximation) instead of the exact
/// truncated SVD; with settledFraction >= 0 the ADMM also ends once a
/// penalty period changes at most that fraction of the kept entries
/// and the refits run up to refitRoundFactor * iterations rounds
/// (Method::SLR).
Status runThreeBlockADMM(LayerCompressor &layer, Iterate &best,
                         std::vector<double> *history,
                         const PenaltySchedule &schedule, int trackingSteps = 0,
                         double settledFraction = -1.0,
                         int refitRoundFactor = 1);

} // namespace slr::compression::detail

#endif // SLR_LIB_COMPRESSION_LAYERCOMPRESSOR_H
