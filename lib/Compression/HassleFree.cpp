//===- HassleFree.cpp - The HASSLE-free driver ----------------------------===//
//
// Alternating minimisation of the exact f (sparse step under the full H,
// closed-form low-rank step) from the diagonal relaxation's warm start,
// then, on small n:m layers, the mask search with U free. See
// Method::HassleFree and docs/DESIGN.md section 3.
//
//===----------------------------------------------------------------------===//

#include "LayerCompressor.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace slr::compression::detail {

/// The warm start's schedule: at least warmStartRounds, more while the
/// rounds stay within warmStartWork (see Options).
static RelaxationSchedule warmStartSchedule(const LayerCompressor &layer) {
  RelaxationSchedule schedule;
  schedule.minRounds = layer.options.warmStartRounds;
  double roundWork = static_cast<double>(layer.weights.rows) *
                     layer.weights.cols * std::max<int64_t>(layer.rank, 1);
  double affordable = std::floor(layer.options.warmStartWork / roundWork);
  schedule.maxRounds =
      std::max(layer.options.warmStartRounds,
               static_cast<int>(std::min<double>(
                   layer.options.maxWarmStartRounds, affordable)));
  schedule.tolerance = layer.options.warmStartTolerance;
  return schedule;
}

static Status runMaskSearch(LayerCompressor &layer, Iterate &best) {
  const Matrix &weights = layer.weights, &liveWeights = layer.liveWeights;
  const Options &options = layer.options;
  const HessianFactors &factors = layer.factors;
  const int64_t rank = layer.rank;
  std::vector<double> &history = layer.history;
  const int64_t numRows = weights.rows, numCols = weights.cols;
  const SparsityPattern &pattern = options.pattern;
  // At full rank L alone fits W; with n = m nothing is pruned. Groups of
  // more than 16 have too many choices to enumerate (searchMasks refuses).
  if (pattern.isUnstructured() || pattern.n >= pattern.m || pattern.m > 16 ||
      best.v.rows == 0 || best.v.rows >= std::min(numRows, numCols))
    return Status::success();
  const double roundWork = static_cast<double>(numRows) * numCols * numCols *
                           static_cast<double>(numCols);
  const int rounds = static_cast<int>(
      std::min<double>(options.maskSearchRounds,
                       std::floor(options.maskSearchWork / roundWork)));
  const int refitIterations = layer.obsRefitIterations();
  std::mt19937_64 random(options.seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double meanDiagonal = 0.0;
  for (int64_t j = 0; j < numCols; ++j)
    meanDiagonal += factors.damped(j, j) / numCols;
  const double jitter = std::max(factors.damping, 1e-8 * meanDiagonal);
  int kicksLeft = options.maskSearchKicks;
  bool kick = false;
  Iterate current = best;
  Matrix metric;
  for (int round = 0; round < rounds; ++round) {
    if (Status status = projectedMetric(factors.damped, current.v, metric);
        !status)
      return status;
    // The damping once more keeps P positive definite on every row's kept
    // entries, also when r > K - (kept per row) (P has rank K - r); with
    // percdamp = 0 a small floor does.
    for (int64_t j = 0; j < numCols; ++j)
      metric(j, j) += jitter;
    Matrix scores = current.sparse;
    for (double &value : scores.data)
      value = std::fabs(value);
    if (kick) {
      // Random masks for a fraction of the groups (seeded): the search then
      // starts next to the best iterate rather than on it.
      for (size_t first = 0; first < scores.data.size(); first += pattern.m)
        if (uniform(random) < options.maskSearchKickFraction)
          for (int offset = 0; offset < pattern.m; ++offset)
            scores.data[first + offset] = uniform(random);
      kick = false;
    }
    std::vector<uint8_t> mask =
        selectMask(scores, pattern, BudgetScope::PerRow);
    // The search only refines a valid answer: where P is numerically
    // singular on some row's kept entries it ends, keeping the best so far.
    if (!searchMasks(liveWeights, metric, pattern, /*maxPasses=*/3, mask,
                     current.sparse))
      break;
    // S was fit for U optimal per row; refit it for the low-rank step's L.
    if (Status status = lowRankStep(
            difference(liveWeights, current.sparse), factors.cholLower, rank,
            layer.lowRankOptions(), current.u, current.v);
        !status)
      return status;
    refitOnSupport(difference(liveWeights, multiply(current.u, current.v)),
                   factors.damped, mask, refitIterations, 1e-10,
                   current.sparse);
    Matrix lowRank;
    if (Status status = layer.fitLowRank(current, lowRank); !status)
      return status;
    history.push_back(layer.relative(current.objective));
    ++layer.maskSearchRoundsRun;
    const double previousBest = best.objective;
    if (current.objective < best.objective)
      best = current;
    if (previousBest - best.objective >
        options.maskSearchTolerance * best.objective)
      continue;
    if (kicksLeft-- <= 0)
      break;
    kick = true;
    current = best;
  }
  return Status::success();
}

Status runHassleFree(LayerCompressor &layer, Iterate &best) {
  const Matrix &weights = layer.weights, &liveWeights = layer.liveWeights;
  const Options &options = layer.options;
  const int64_t rank = layer.rank;
  const double reference = layer.reference;
  std::vector<double> &history = layer.history;
  const int64_t numRows = weights.rows, numCols = weights.cols;
  // The pruning-only start (L = 0) is a candidate: never worse than it.
  best.sparse = layer.sparseStep(liveWeights);
  best.u = Matrix(numRows, 0);
  best.v = Matrix(0, numCols);
  best.objective = layer.evaluate(best.sparse, best.u, best.v);
  history.push_back(layer.relative(best.objective));
  if (rank == 0)
    return Status::success(); // Nothing alternates.

  Matrix lowRank(numRows, numCols);
  Iterate current;
  if (options.warmStartRounds > 0) {
    // Only the last warm-start round is a history entry. It and, when the
    // warm start runs longer than OATS, OATS's own answer (the iterate after
    // `iterations` rounds) are candidates: never worse than OATS.
    Iterate oats;
    RelaxationSchedule schedule = warmStartSchedule(layer);
    if (Status status = layer.runDiagonalRelaxation(schedule, current,
                                                    /*roundObjectives=*/nullptr,
                                                    options.iterations, &oats);
        !status)
      return status;
    layer.warmStartRoundsRun = schedule.roundsRun;
    history.push_back(layer.relative(current.objective));
    if (schedule.roundsRun > options.iterations &&
        oats.objective < best.objective)
      best = oats;
    if (current.objective < best.objective)
      best = current;
  }
  if (options.threeBlockWarmStart) {
    Iterate admm;
    if (Status status = runThreeBlockADMM(layer, admm, /*history=*/nullptr,
                                          PenaltySchedule::slow);
        !status)
      return status;
    history.push_back(layer.relative(admm.objective));
    if (admm.objective < current.objective)
      current = admm;
    if (admm.objective < best.objective)
      best = admm;
  }
  if (options.warmStartRounds > 0 || options.threeBlockWarmStart)
    lowRank = multiply(current.u, current.v);
  double previous = std::numeric_limits<double>::infinity();
  for (int round = 0; round < options.iterations; ++round) {
    if (round == 0 && options.warmStartRounds == 0 &&
        !options.threeBlockWarmStart) {
      current.sparse = best.sparse; // L = 0: the pruning-only start.
    } else {
      current.sparse = layer.sparseStep(difference(liveWeights, lowRank));
    }
    if (Status status = layer.fitLowRank(current, lowRank); !status)
      return status;
    history.push_back(layer.relative(current.objective));
    if (current.objective < best.objective)
      best = current;
    // A fixed point: further rounds would reproduce it.
    if (std::fabs(previous - current.objective) <= 1e-13 * reference)
      break;
    previous = current.objective;
  }
  return runMaskSearch(layer, best);
}

} // namespace slr::compression::detail
