//===- DiagonalRelaxation.cpp - OATS and HASSLE-free's warm start ---------===//
//
// The diagonal relaxation of f: alternating truncated SVD and hard
// thresholding with the inputs scaled by D = sqrt(diag H). OATS is this
// alone; HASSLE-free starts from it (HassleFree.cpp).
//
//===----------------------------------------------------------------------===//

#include "LayerCompressor.h"

#include <cmath>

namespace slr::compression::detail {

/// OATS's alternation: truncated SVD of (W - S) D and hard thresholding of
/// (W - L) D, D = sqrt(diag H) (damped, so dead inputs do not divide by zero),
/// i.e. the error treated as unweighted after scaling the inputs. Runs as
/// `schedule` says and returns the last iterate and, when asked, every
/// round's relative exact objective and the iterate after round
/// `captureRound` (1-based).
Status LayerCompressor::runDiagonalRelaxation(
    RelaxationSchedule &schedule, Iterate &last,
    std::vector<double> *roundObjectives, int captureRound, Iterate *captured) {
  const int64_t numRows = weights.rows, numCols = weights.cols;
  std::vector<double> scale(numCols);
  for (int64_t j = 0; j < numCols; ++j)
    scale[j] = std::sqrt(factors.damped(j, j));
  Matrix scaledWeights = liveWeights;
  for (int64_t row = 0; row < numRows; ++row)
    for (int64_t col = 0; col < numCols; ++col)
      scaledWeights(row, col) *= scale[col];

  // The relaxation's own objective ||(W - S - L) D||^2 per round: the pruned
  // entries of (W - L) D, O(N K).
  constexpr int convergenceWindow = 10;
  std::vector<double> relaxedObjectives;
  Matrix scaledSparse(numRows, numCols), left, right;
  int round = 0;
  while (round < schedule.maxRounds) {
    Matrix scaledLowRank(numRows, numCols);
    if (rank > 0) {
      Matrix difference = scaledWeights;
      for (size_t i = 0; i < difference.data.size(); ++i)
        difference.data[i] -= scaledSparse.data[i];
      if (Status status = bestRankApproximation(difference, rank,
                                                lowRankOptions(), left, right);
          !status)
        return status;
      scaledLowRank = multiply(left, right);
    }
    scaledSparse = scaledWeights;
    for (size_t i = 0; i < scaledSparse.data.size(); ++i)
      scaledSparse.data[i] -= scaledLowRank.data[i];
    Matrix scores = scaledSparse;
    double relaxed = 0.0;
    for (double &value : scores.data) {
      relaxed += value * value;
      value = std::fabs(value);
    }
    applyMask(scaledSparse,
              selectMask(scores, options.pattern, BudgetScope::PerRow));
    for (double value : scaledSparse.data)
      relaxed -= value * value; // Kept entries equal (W - L) D.
    relaxedObjectives.push_back(relaxed);
    ++round;

    bool capture = captured && round == captureRound;
    bool stop = round >= schedule.maxRounds;
    if (!stop && round >= schedule.minRounds && round > convergenceWindow)
      stop = relaxedObjectives[round - 1 - convergenceWindow] - relaxed <=
             schedule.tolerance * relaxed;
    if (capture || stop || roundObjectives) {
      // Unscale: S = S~ D^-1, L = left (right D^-1).
      last.sparse = scaledSparse;
      last.u = left;
      last.v = right;
      for (int64_t col = 0; col < numCols; ++col) {
        for (int64_t row = 0; row < numRows; ++row)
          last.sparse(row, col) /= scale[col];
        for (int64_t k = 0; k < last.v.rows; ++k)
          last.v(k, col) /= scale[col];
      }
      if (rank == 0) {
        last.u = Matrix(numRows, 0);
        last.v = Matrix(0, numCols);
      }
      last.objective = evaluate(last.sparse, last.u, last.v);
      if (roundObjectives)
        roundObjectives->push_back(relative(last.objective));
      if (capture) {
        *captured = last;
        balanceFactors(captured->u, captured->v);
      }
    }
    if (stop)
      break;
  }
  schedule.roundsRun = round;
  balanceFactors(last.u, last.v);
  return Status::success();
}

Status runOATS(LayerCompressor &layer, Iterate &best) {
  // OATS keeps the last iterate, not the best, after a fixed round count.
  RelaxationSchedule schedule;
  schedule.minRounds = schedule.maxRounds =
      layer.rank > 0 ? layer.options.iterations : 1;
  return layer.runDiagonalRelaxation(schedule, best, &layer.history);
}

} // namespace slr::compression::detail
